"""Run the NAD probe on nodes: one `sh -c` script per node, bounded parallel, typed facts back."""

from __future__ import annotations

from collections.abc import Sequence

from runbooklib.errors import UnreachableError
from runbooklib.nad.node_facts import NodeCniFacts, parse_probe_output, probe_script
from runbooklib.params import Params
from runbooklib.remote import Host, Journal, connect_nodes, map_nodes

DEFAULT_BINARIES = ("macvlan", "whereabouts")


def probe_host(host: Host, bin_dir: str, binaries: Sequence[str] = DEFAULT_BINARIES) -> NodeCniFacts:
    """One round trip to one host. Connection problems become `NodeCniFacts(error=...)`."""
    try:
        out = host.run(probe_script(bin_dir, binaries), timeout=60)
    except UnreachableError as e:
        return NodeCniFacts(host.name, bin_dir=bin_dir, error=e.reason)
    if "@@done" not in out.stdout:
        return NodeCniFacts(host.name, bin_dir=bin_dir,
                            error=f"probe did not finish (exit {out.exit_code}): {out.stderr.strip()[-300:]}")
    return parse_probe_output(host.name, out.stdout, bin_dir)


def probe_hosts(hosts: Sequence[Host], bin_dir: str, binaries: Sequence[str] = DEFAULT_BINARIES,
                workers: int = 8, timeout_s: float = 120.0) -> dict[str, NodeCniFacts]:
    outcomes = map_nodes(lambda h: probe_host(h, bin_dir, binaries), hosts, name=lambda h: h.name,
                         workers=workers, timeout_s=timeout_s)
    facts: dict[str, NodeCniFacts] = {}
    for o in outcomes:
        if o.ok and o.value is not None:
            facts[o.node] = o.value
        else:
            facts[o.node] = NodeCniFacts(o.node, bin_dir=bin_dir, error=f"{type(o.error).__name__}: {o.error}")
    return facts


def probe_nodes(params: Params, binaries: Sequence[str] = DEFAULT_BINARIES, bin_dir: str | None = None,
                journal: Journal | None = None, names: list[str] | None = None) -> dict[str, NodeCniFacts]:
    """Probe every node of the params (or `names`) over SSH. Bin dir defaults to `k3s.opt_cni_bin`."""
    bin_dir = bin_dir or params.k3s.opt_cni_bin
    try:
        hosts = connect_nodes(params, journal, names)
    except UnreachableError as e:
        return {n.name: NodeCniFacts(n.name, bin_dir=bin_dir, error=str(e)) for n in params.nodes
                if names is None or n.name in names}
    try:
        return probe_hosts(hosts, bin_dir, binaries, workers=params.ssh.parallel)
    finally:
        for h in hosts:
            try:
                h.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken connection may fail too
                pass
