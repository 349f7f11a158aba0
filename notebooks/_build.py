"""Generate the runbook notebooks (the .ipynb files are what is committed, without outputs).

    python notebooks/_build.py          # rewrite install, upgrade-check, failed-to-find-plugin,
                                        # config-not-found and ip-occupancy .ipynb next to this file

Each notebook: a title and the symptom with its exact error text, one `parameters` cell (every
parameter annotated and commented, see README.md), then thin cells that call runbooklib: no
loops or conditionals besides `if widgets.interactive(interactive):` (those are library functions,
mostly in runbooklib/checks/notebook.py), and each setup cell imports only what its notebook uses,
sorted, at the top (`ruff check notebooks` lints the generated .ipynb).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

COMMON_PARAMS = '''params_file: str = "../params/homelab.yaml"  # the params file: cluster, nodes, NADs (the main input)
results_path: str = ""  # set by `runbook run`: where publish() writes the JSON results (empty: display only)
interactive: bool = False  # build ipywidgets panels (JupyterLab only; runbook run always sets False)
'''
NODES_PARAM = '''nodes: list[str] = []  # only these nodes (empty: every node of the params file)
'''

LOAD_PARAMS = '''params = load_params(params_file)
print(f"cluster {params.cluster}: {len(params.nodes)} node(s), {len(params.nads)} NAD(s) in the params")'''
SELECT_NODES = '''
nodes = selected_nodes(nodes)'''


def setup(imports: str, *extra: str) -> nbformat.NotebookNode:
    """The setup cell: only the imports the notebook uses (sorted, at the top: ruff lints the
    notebooks), the params loaded, then `extra` lines (no logic: calls into runbooklib)."""
    return code(imports.strip() + "\n\n" + LOAD_PARAMS + "".join(extra))




def check_imports(*names: str) -> str:
    """The troubleshooting notebooks' imports, with these helpers from runbooklib.checks.notebook
    (sorted; wrapped one a line the way ruff's isort does when they do not fit on one line)."""
    line = f"from runbooklib.checks.notebook import {', '.join(sorted(names))}"
    if len(line) > 130:
        line = "from runbooklib.checks.notebook import (\n" + "".join(f"    {n},\n" for n in sorted(names)) + ")"
    return f"from runbooklib import checks, widgets\n{line}\nfrom runbooklib.params import load_params\n"


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip())


def code(text: str, *tags: str) -> nbformat.NotebookNode:
    cell = new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def params_cell(extra: str, *, with_nodes: bool = True) -> nbformat.NotebookNode:
    return code(COMMON_PARAMS + (NODES_PARAM if with_nodes else "") + extra, "parameters")


def panel(check_call: str, title: str) -> nbformat.NotebookNode:
    return code(f'''if widgets.interactive(interactive):
    checks.check_panel(params, lambda ns: {check_call}, title="{title}").show()''', "remove-cell")


def notebook(name: str, cells: list[nbformat.NotebookNode], side_effects: bool) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["runbooklib"] = {"side_effects": side_effects}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name}-{i}"
    nbformat.validate(nb)
    nbformat.write(nb, str(HERE / f"{name}.ipynb"))


def failed_to_find_plugin() -> None:
    check = "checks.failed_to_find_plugin(params, plugin=plugin or None, nodes=ns)"
    notebook("failed-to-find-plugin", [
        md('''
# failed to find plugin

**Symptom**: pods stay in `ContainerCreating`; the events or the Multus log say

```
plugin type="multus-shim" name="multus-cni-network" failed (add): ... failed to find plugin "flannel" in path [/opt/cni/bin]
error adding container to network "storage": failed to find plugin "macvlan" in path [/opt/cni/bin]
```

The Multus thick daemon looks every delegate up *inside its pod* under `binDir` (default
`/opt/cni/bin`) and runs it chrooted on the host at the same path. This runbook checks, on every
node: `/opt/cni/bin` is a real directory; each needed plugin (the cluster network's conflist, flannel's
delegates, every NAD's `type` and `ipam.type`) is a real executable file there, not a symlink whose
chain leaves the directory; it answers `CNI_COMMAND=VERSION` with the cniVersion its config asks for;
the k3s bin dir's `multus-shim`/`passthru` resolve. From the cluster: the live DaemonSet's cnibin
hostPath, mountPath and `binDir` agree (layout A = `/opt/cni/bin` everywhere, layout B = the k3s bin
dir with the k3s data dir mounted, or a mixture), and the Multus logs are searched for the error.
Repairs go through node prep: the plan is shown first; `dry_run = False` applies it and checks again.
'''),
        params_cell('''dry_run: bool = True  # show the repair plan only; False applies node prep on the nodes it fixes, then re-checks
plugin: str = ""  # the plugin named in the error (empty: every plugin the cluster network and the NADs need)
bin_dirs: list[str] = []  # the dirs the error message searched (the part in brackets), to compare with the daemon's
'''),
        setup(check_imports("error_path_notes", "publish_check", "repair_and_recheck", "repaired",
                            "selected_nodes", "show_check", "show_repair"), SELECT_NODES),
        panel(check, "failed to find plugin"),
        md("## Check"),
        code('''result = checks.failed_to_find_plugin(params, plugin=plugin or None, nodes=nodes)
show_check(result)'''),
        md("## Repair (node prep: plan first)"),
        code('''outcome, after = repair_and_recheck(params, result, lambda: checks.failed_to_find_plugin(
    params, plugin=plugin or None, nodes=nodes), dry_run=dry_run, nodes=nodes)
show_repair(outcome)'''),
        md("## Result"),
        code('''publish_check(result, outcome=outcome, after=repaired(outcome, after), results_path=results_path,
              notes=error_path_notes(result, bin_dirs))'''),
    ], side_effects=True)


def config_not_found() -> None:
    check = "checks.config_not_found(params, nad=nad, nodes=ns)"
    notebook("config-not-found", [
        md('''
# whereabouts: config file not found

**Symptom**: pods using a whereabouts NAD stay in `ContainerCreating` with

```
error adding container to network "<nad>": config file not found
```

(or, with a file but no kubeconfig: ``you have not configured the storage engine (looks like you're using
an invalid `kubernetes.kubeconfig` parameter in your config)``). Whereabouts looks for
`whereabouts.conf` at, in order: the NAD's `ipam.configuration_path`,
`/etc/kubernetes/cni/net.d/whereabouts.d/whereabouts.conf`, `/etc/cni/net.d/whereabouts.d/whereabouts.conf`,
`/host/etc/cni/net.d/whereabouts.d/whereabouts.conf`; the first that exists wins. On k3s its installer
writes into `/var/lib/rancher/k3s/agent/etc/cni/net.d/whereabouts.d`, so node prep links
`/etc/cni/net.d/whereabouts.d` there. This runbook checks the link, which file each NAD gets on each
node (and why, in search order), that it is valid JSON, and that the kubeconfig it names resolves on
the host. Repairs (the link) go through node prep.
'''),
        params_cell('''dry_run: bool = True  # show the repair plan only; False applies node prep on the nodes it fixes, then re-checks
nad: str = ""  # only this NAD, namespace/name or name (empty: every NAD that uses whereabouts)
kubeconfig: str = ""  # a kubeconfig path from an error message, to check on every node
'''),
        setup(check_imports("kubeconfig_notes", "publish_check", "repair_and_recheck", "repaired",
                            "selected_nodes", "show_check", "show_repair"), SELECT_NODES),
        panel(check, "whereabouts config not found"),
        md("## Check"),
        code('''result = checks.config_not_found(params, nad=nad, nodes=nodes)
show_check(result, with_notes=False)'''),
        md("## Repair (node prep: plan first)"),
        code('''outcome, after = repair_and_recheck(params, result, lambda: checks.config_not_found(params, nad=nad, nodes=nodes),
                                    dry_run=dry_run, nodes=nodes)
show_repair(outcome)'''),
        md("## Result"),
        code('''publish_check(result, outcome=outcome, after=repaired(outcome, after), results_path=results_path,
              notes=kubeconfig_notes(after, kubeconfig))'''),
    ], side_effects=True)


def upgrade_check() -> None:
    check = "checks.upgrade_check(params, nodes=ns, test_pod=False)"
    notebook("upgrade-check", [
        md('''
# After a k3s upgrade

**Symptoms** this runbook answers after upgrading k3s:

```
failed to find plugin "multus-shim" in path [/var/lib/rancher/k3s/data/cni]
failed to find plugin "multus" in path [/var/lib/rancher/k3s/data/<oldhash>/bin]
incompatible CNI versions; config is "1.0.0", plugin supports ["0.1.0" ... "0.4.0"]
unsupported CNI result version "1.0.0"
```

A k3s upgrade rebuilds `data/cni` (dropping the `multus-shim`/`passthru` links), changes the multicall
binary (`/opt/cni/bin/flannel` goes stale) and moves `data/current`. Checked: the reference symlinks are
alive, `/opt/cni/bin/flannel` matches the current multicall binary (sha256), the bin dir layout
(`data/cni` vs `data/current/bin`, containerd's `bin_dir` if readable), nothing references a
release-tied `data/<hash>/bin`, Multus >= 4.0 for a cniVersion 1.0.0 cluster network, the DaemonSets
are ready, and a test pod attaches. Repairs (links, flannel copy) go through node prep.
'''),
        params_cell('''dry_run: bool = True  # show the repair plan only; False applies node prep on the nodes it fixes, then re-checks
test_pod: bool = True  # start a test pod per NAD and check net1 (deleted afterwards)
plugin: str = ""  # a plugin named in an error message (shown with its state on every node)
stale_bin_dir: str = ""  # a bin dir from an error message (e.g. data/<hash>/bin), searched for references
'''),
        setup(check_imports("after_repair", "publish_check", "repair_and_recheck", "run_test_pods",
                            "selected_nodes", "show_check", "show_repair"), SELECT_NODES),
        panel(check, "upgrade check"),
        md("## Check"),
        code('''result = checks.upgrade_check(params, nodes=nodes, test_pod=False)
show_check(result)'''),
        md("## Repair (node prep: plan first)"),
        code('''outcome, after = repair_and_recheck(params, result, lambda: checks.upgrade_check(params, nodes=nodes, test_pod=False),
                                    dry_run=dry_run, nodes=nodes)
show_repair(outcome)'''),
        md("## Test pod"),
        code('''final = after_repair(result, outcome, after)
run_test_pods(params, final, enabled=test_pod)
extra = checks.upgrade_hints(final, plugin=plugin, stale_bin_dir=stale_bin_dir)'''),
        md("## Result"),
        code('''publish_check(result, outcome=outcome, after=final, results_path=results_path, notes=extra)'''),
    ], side_effects=True)


def install() -> None:
    notebook("install", [
        md('''
# Install Multus thick + Whereabouts + macvlan NADs on k3s

The reference runbook as steps: **node prep** (`/opt/cni/bin` a real directory with the CNI plugin
release, `flannel` copied from the k3s multicall binary, `multus-shim`/`passthru` linked from the k3s bin
dir, `/etc/cni/net.d/whereabouts.d` linked to the k3s conf dir) → **manifests** (upstream Multus thick
v4.2.2 + Whereabouts v0.9.1, patched for k3s, checked, applied) → **rollout** → **NADs** (validated
against every node and the cluster, applied) → **test pod** with `k8s.v1.cni.cncf.io/networks`
(`ip -br addr` via exec: `net1` with an address from the pool; deleted again) → **verification** of the
whole chain. With `dry_run = True` (the default) nothing changes: node prep shows its plan, the
manifests and NADs are compared with the cluster.

Errors this prevents: `failed to find plugin "flannel" in path [/opt/cni/bin]`, `config file not found`,
`could not find a plugin configuration in /host/etc/cni/net.d`.
'''),
        params_cell('''dry_run: bool = True  # show the plan only (node prep plan, manifest and NAD dry runs); False installs
nad: str = ""  # only test this NAD, namespace/name (empty: every NAD of the params)
test_pod_image: str = "busybox:1.36"  # image of the test pod (needs `ip`)
rollout_timeout_s: int = 300  # how long to wait for the DaemonSets
'''),
        setup('''
from runbooklib.checks import install as steps
from runbooklib.checks.notebook import install_rollout, install_test_pod, next_step, selected_nodes, step_rows
from runbooklib.cluster import api_client_for_params
from runbooklib.params import load_params
from runbooklib.report import publish, show_table
from runbooklib.results import problems, recaps_to_frame
''', SELECT_NODES, '''
api = api_client_for_params(params)
done = []'''),
        md("## 1. Node prep"),
        code('''step = steps.node_prep(params, dry_run=dry_run, nodes=nodes)
done.append(step)
show_table(recaps_to_frame(step.recaps))
publish(recaps=step.recaps, findings=problems(step.findings), title=step.step, results_path=results_path)'''),
        md("## 2. Manifests"),
        code('''step = next_step(done, "manifests", "node prep", lambda: steps.manifests(params, api, dry_run=dry_run))
publish(findings=step.findings, tables={"manifests": step.table}, title=step.step, results_path=results_path)'''),
        md("## 3. Rollout"),
        code('''install_rollout(api, done, dry_run=dry_run, timeout_s=rollout_timeout_s, results_path=results_path)'''),
        md("## 4. NADs"),
        code('''step = next_step(done, "NADs", "rollout", lambda: steps.nads(params, api, dry_run=dry_run))
publish(findings=problems(step.findings), tables={"NADs": step.table}, title=step.step,
        results_path=results_path)'''),
        md("## 5. Test pod and verification"),
        code('''install_test_pod(params, api, done, dry_run=dry_run, image=test_pod_image, nad=nad, nodes=nodes,
                 results_path=results_path)
publish(tables={"steps": step_rows(done)}, title="install", results_path=results_path)'''),
    ], side_effects=True)


def ip_occupancy() -> None:
    notebook("ip-occupancy", [
        md('''
# Who holds which address on the storage network

**Symptom**: a pod stays in `ContainerCreating` with

```
Could not allocate IP in range: ip: 198.18.205.240 / - 198.18.205.254 / range: 198.18.205.0/24 / excludeRanges: []
```

or two hosts answer for the same address. This runbook puts every source side by side: the static
hosts and node addresses of the params, each NAD's pool, whereabouts' IPPool allocations and
reservations, the pods' `network-status`, and (optionally) a live look from one node.
It changes nothing.
'''),
        params_cell('''pool_range: str = ""  # only this pool's subnet, e.g. 198.18.205.0/24 (empty: every subnet)
live_node: str = ""  # also ping the pool from this node over its storage NIC (empty: no live look)
offline: bool = False  # params only (static hosts and NAD pools), no cluster
''', with_nodes=False),
        setup('''
from IPython.display import display

from runbooklib.occupancy import occupancy_for_params, show_subnet_grids, style_occupancy
from runbooklib.params import load_params
from runbooklib.report import publish, show_table
'''),
        md("## Occupancy"),
        code('''occ = occupancy_for_params(params, offline=offline, live_node=live_node or None)
frame = occ.in_subnet(pool_range)
show_table(occ.summary)
display(style_occupancy(frame))'''),
        md("## Picture"),
        code('''show_subnet_grids(occ, pool_range)'''),
        md("## Result"),
        code('''publish(findings=occ.findings, tables={"summary": occ.summary, "addresses": frame}, notes=occ.skipped,
        title="ip occupancy", results_path=results_path)'''),
    ], side_effects=False)


def main() -> None:
    failed_to_find_plugin()
    config_not_found()
    upgrade_check()
    install()
    ip_occupancy()


if __name__ == "__main__":
    main()
