"""Generate notebooks/longhorn-storage-network.ipynb (committed without outputs), with the helpers
and conventions of `_build.py`:

    python notebooks/_build_longhorn.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import COMMON_PARAMS, NODES_PARAM, SELECT_NODES, code, md, notebook, setup  # noqa: E402

SYMPTOM = '''
# Longhorn storage network: does Longhorn really use the storage NAD?

**Symptom**: Longhorn works, but replication and rebuilds are slow: the storage traffic goes over
the pod network (the 1GbE cluster network) instead of the storage segment. Nothing fails.
Longhorn's `storage-network` setting (the `settings.longhorn.io` object
`longhorn-system/storage-network`) names the NAD as `<namespace>/<nad>`; Longhorn then gives its
instance-manager pods an `lhnet1` interface from that NAD and reads the address from the pod's
`k8s.v1.cni.cncf.io/network-status` annotation. When the setting is empty or wrong, or the
annotation is missing, Longhorn silently falls back to the pod IP and longhorn-manager logs
(longhorn/longhorn #4937):

```
Missing k8s.v1.cni.cncf.io/networks-status annotation, use instance-manager-<hash> pod IP 10.42.x.y
```

Note the deprecated plural `networks-status`: Longhorn releases before longhorn-manager PR #2247
read it, and Multus v4 no longer writes it (longhorn/longhorn #6953).

**What this runbook checks** (it changes nothing): the setting (present, `<namespace>/<nad>`,
names an existing NAD, the params' storage NAD), then per node the instance-manager pod: attached
or not, interface, address, whether the address is in the NAD's pool, and the MTU of the node's
storage NIC. A pod without the storage network while the setting is on is a **fail** with the
reason and the fix. `runbook diagnose '<the log line>'` points here with `-p pod=...`.
'''


def longhorn_storage_network() -> None:
    notebook("longhorn-storage-network", [
        md(SYMPTOM),
        code(COMMON_PARAMS + NODES_PARAM + '''storage_nad: str = ""  # the NAD Longhorn should use as namespace/name (empty: the params' NAD in longhorn-system)
pod: str = ""  # only this instance-manager pod (pre-filled by runbook diagnose from the log line)
probe_mtu: bool = True  # read the storage NIC's MTU on each node over SSH (False: cluster only)
show_occupancy: bool = True  # also show the storage pool's occupancy with Longhorn-held addresses labelled
''', "parameters"),
        setup('''
import pandas as pd

from runbooklib.checks.longhorn_gather import longhorn_storage_network
from runbooklib.checks.notebook import longhorn_occupancy, present_tables, selected_nodes
from runbooklib.params import load_params
from runbooklib.report import publish, show_table
''', SELECT_NODES),
        md('''
## Longhorn's setting and its instance-manager pods

One row per instance-manager pod (Longhorn runs one per storage node): `attached` to the storage
NAD, `interface` (`lhnet1`), `address`, `in_pool`, which status annotation was read, the node's
NIC and its MTU, and why a row is not ok.
'''),
        code('''result = longhorn_storage_network(params, storage_nad=storage_nad or None, probe=probe_mtu,
                                  nodes=nodes, pod=pod or None)
nodes_table = pd.DataFrame(result.tables.get("nodes", []))
show_table(nodes_table)
show_table(result.frame())'''),
        md('''
## Addresses of the storage pool, Longhorn's labelled

The occupancy table with a `holder_kind` column: `longhorn instance-manager` where an address is
held by one of Longhorn's pods.
'''),
        code('''occupancy = longhorn_occupancy(params, enabled=show_occupancy)'''),
        md("## Result"),
        code('''publish(findings=result.findings, tables=present_tables({"longhorn_nodes": nodes_table, "occupancy": occupancy}),
        notes=result.notes, title="longhorn storage network", results_path=results_path)'''),
    ], side_effects=False)


if __name__ == "__main__":
    longhorn_storage_network()
