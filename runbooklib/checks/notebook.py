"""What the runbook notebooks call, so their cells stay one line each: check → (plan or
repair → re-check) → publish. Under papermill the same functions run without widgets.

Every selection, loop or conditional a notebook needs lives here (the notebooks hold only the
parameters cell, calls and tables): `selected_nodes`, `show_check`, `show_repair`, `repaired`,
`after_repair`, `kubeconfig_notes` (config-not-found), `run_test_pods` (upgrade-check),
`next_step` / `install_rollout` / `install_test_pod` / `step_rows` / `problems` (install),
`longhorn_occupancy`, `present_tables`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runbooklib.checks.model import CheckResult
from runbooklib.checks.repair import RepairOutcome, repair
from runbooklib.params import Params
from runbooklib.results import Finding

if TYPE_CHECKING:
    import pandas as pd
    from kubernetes import client as k8s

    from runbooklib.checks.install import StepResult

Recheck = Callable[[], CheckResult]


def selected_nodes(nodes: Sequence[str] | None) -> list[str] | None:
    """The notebooks' `nodes` parameter as the checks take it: the listed nodes, or None (every node
    of the params file) when the list is empty or None."""
    return (list(nodes) or None) if nodes is not None else None


def show_check(result: CheckResult, *, with_notes: bool = True) -> None:
    """Display a check's evidence tables (static HTML, one heading each) and print its status line
    (`<check>: <SEVERITY>`, then its notes when `with_notes`)."""
    from runbooklib.report import show_table

    for table_name, rows in result.tables.items():
        show_table(rows, title=table_name)
    status = f"{result.check}: {result.severity.value.upper()}"
    print(status + "; " + "; ".join(result.notes) if with_notes else status)


def show_repair(outcome: RepairOutcome) -> None:
    """Print what the repair did (or why not) and display its node-prep plan, if there is one."""
    from runbooklib.report import show_table

    print(outcome.reason)
    if outcome.plan is not None:
        show_table(outcome.plan.frame())


def repaired(outcome: RepairOutcome, after: CheckResult) -> CheckResult | None:
    """The re-check `after` when the repair changed something (node prep applied or pods restarted),
    else None (publish the check as it was)."""
    return after if (outcome.applied or outcome.restarted) else None


def repair_and_recheck(params: Params, result: CheckResult, recheck: Recheck, *, dry_run: bool = True,
                       nodes: Sequence[str] | None = None) -> tuple[RepairOutcome, CheckResult]:
    """Plan the node-prep repair; unless `dry_run`, apply it and run the check again."""
    outcome = repair(params, result, repair=not dry_run, nodes=nodes)
    if outcome.applied is None and not outcome.restarted:
        return outcome, result
    return outcome, recheck()


def after_repair(result: CheckResult, outcome: RepairOutcome, after: CheckResult) -> CheckResult:
    """The check as it stands now: the re-check `after` when the repair changed something, else `result`."""
    return after if (outcome.applied or outcome.restarted) else result


def kubeconfig_notes(result: CheckResult, kubeconfig: str) -> list[str]:
    """A note on how the kubeconfig path from an error message resolves on each node (none without one)."""
    return [f"kubeconfig from the error: {kubeconfig}: " + kubeconfig_status(result, kubeconfig)] if kubeconfig else []


def run_test_pods(params: Params, result: CheckResult, *, enabled: bool = True, check: str = "upgrade-check") -> list[Finding]:
    """A test pod per cluster NAD (origin `cluster`) of `result`; the findings are added to
    `result.findings` and printed one a line. With `enabled` False only says it was skipped."""
    if not enabled:
        print("test pod skipped (test_pod = False)")
        return []
    from runbooklib.checks.model import nads_for
    from runbooklib.checks.run import test_pod_findings

    pod_findings = test_pod_findings(params, check, [n for n in nads_for(params, result.cluster) if n.origin == "cluster"])
    result.findings += pod_findings
    for f in pod_findings:
        print(f"{f.severity.value.upper():4} {f.target}: {f.title}" + (f" ({f.detail})" if f.detail else ""))
    return pod_findings


def next_step(done: list[StepResult], name: str, previous: str, run: Callable[[], StepResult]) -> StepResult:
    """Install: `run()` the next step when the last one in `done` is ok (or none ran yet), else a
    skipped step named `name` ("<previous> failed"); the step is appended to `done`."""
    from runbooklib.checks.install import skipped

    step = run() if not done or done[-1].ok else skipped(name, f"{previous} failed")
    done.append(step)
    return step


def install_rollout(api_client: k8s.ApiClient, done: list[StepResult], *, dry_run: bool, timeout_s: float = 300.0,
                    results_path: str = "") -> None:
    """Install step 3: wait for the DaemonSets when the manifests went in (step appended to `done`),
    print the rollout and publish it. In a dry run nothing was applied: no step, nothing published.
    Returns None, so a notebook cell ending with this call shows no output value."""
    if dry_run:
        return
    from runbooklib.checks.install import rollout
    from runbooklib.report import publish

    step = next_step(done, "rollout", "manifests", lambda: rollout(api_client, timeout_s=timeout_s))
    print(step.data.get("text", step.summary))
    publish(findings=step.findings, title=step.step, results_path=results_path)


def install_test_pod(params: Params, api_client: k8s.ApiClient, done: list[StepResult], *, dry_run: bool,
                     image: str | None = None, nad: str = "", nodes: Sequence[str] | None = None,
                     results_path: str = "") -> None:
    """Install step 5: the test pod when the NADs went in (step appended to `done`) and the
    verification of the whole chain, published together. In a dry run nothing was applied: no step,
    nothing published."""
    if dry_run:
        return
    from runbooklib.checks.install import test_pod, verify_install
    from runbooklib.report import publish

    step = next_step(done, "test pod", "NADs", lambda: test_pod(params, api_client, image=image, nad=nad))
    verify = verify_install(params, api_client=api_client, nodes=nodes, test_pod=False)
    publish(findings=step.findings + verify.problems, tables={"test pod": step.table, **verify.tables},
            title="test pod and verification", results_path=results_path)


def step_rows(done: Sequence[StepResult]) -> list[dict[str, str]]:
    """The install steps as table rows (step, status, summary)."""
    return [s.row() for s in done]


def longhorn_occupancy(params: Params, *, enabled: bool = True) -> pd.DataFrame | None:
    """The storage pool's occupancy (no free rows) with Longhorn-held addresses labelled
    (`holder_kind`), displayed (the coloured `style_occupancy` table, no index); None (nothing
    shown) when not `enabled`."""
    if not enabled:
        return None
    from IPython.display import display

    from runbooklib.checks.longhorn import label_longhorn_holders
    from runbooklib.checks.longhorn_gather import gather_longhorn
    from runbooklib.occupancy import occupancy_for_params, style_occupancy

    occ = occupancy_for_params(params, include_free=False)
    occupancy = label_longhorn_holders(occ.frame, gather_longhorn(params, probe=False).pods)
    display(style_occupancy(occupancy))
    return occupancy


def present_tables(tables: Mapping[str, Any]) -> dict[str, Any]:
    """`tables` without the ones that are None (a section that did not run), order kept."""
    return {name: table for name, table in tables.items() if table is not None}


def finding_rows(findings: Sequence[Finding], *, problems_only: bool = False) -> list[dict[str, Any]]:
    return [{"severity": f.severity.value, "target": f.target, "title": f.title, "fix": "\n".join(f.fix)}
            for f in findings if not problems_only or f.severity.value != "ok"]


def error_path_notes(result: CheckResult, bin_dirs: Sequence[str]) -> list[str]:
    """Compare the dirs an error message names (`in path [...]`) with the daemon's bin dir now."""
    current = next((n.split(": ", 1)[1].split(" (")[0] for n in result.notes if n.startswith("daemon bin dir: ")), "")
    notes = []
    for d in bin_dirs:
        d = d.rstrip("/")
        if current and d != current:
            notes.append(f"the error searched {d}, the Multus daemon now uses {current}: the error came from another "
                         "config (an older manifest, or a path inside the pod such as /host/opt/cni/bin)")
    return notes


def publish_check(result: CheckResult, *, outcome: RepairOutcome | None = None, after: CheckResult | None = None,
                  results_path: str = "", notes: Sequence[str] = ()) -> dict[str, Any]:
    """Publish a check run: the final findings (after a repair when one was applied), the node-prep
    recaps, the evidence tables, and the findings before the repair as a table."""
    from runbooklib.report import publish

    final = after if after is not None else result
    tables: dict[str, Any] = dict(final.tables)
    all_notes = list(final.notes) + list(notes)
    recaps = []
    if outcome is not None:
        all_notes.append(f"repair: {outcome.reason}")
        all_notes += [f"manual fix (not node prep): {m}" for m in outcome.manual[:10]]
        if outcome.applied is not None or outcome.restarted:
            recaps = outcome.applied.recaps if outcome.applied else []
            tables["findings before repair"] = finding_rows(result.findings, problems_only=True)
            if outcome.restarted:
                tables["pods restarted"] = [r.to_dict() for r in outcome.restarted]
        elif outcome.plan is not None:
            tables["repair plan (node prep, not applied)"] = outcome.plan.frame()
    return publish(findings=final.findings, recaps=recaps, tables=tables, notes=all_notes, title=final.check,
                   results_path=results_path)


def kubeconfig_status(result: CheckResult, path: str) -> str:
    """How a kubeconfig path (from an error message) resolves on each node of `result`."""
    parts = []
    for name, ev in result.nodes.items():
        if not ev.reachable:
            parts.append(f"{name}: unreachable")
            continue
        r = ev.view.resolve(path)
        parts.append(f"{name}: {r.kind}" + (f" via {' ; '.join(r.via)}" if r.via else ""))
    return "; ".join(parts) or "no node evidence"


def upgrade_hints(result: CheckResult, *, plugin: str = "", stale_bin_dir: str = "") -> list[str]:
    """Notes for the plugin / bin dir an error message named (from `runbook diagnose`)."""
    notes = []
    if stale_bin_dir:
        refs = [f for f in result.findings if f.evidence.get("dir", "").rstrip("/") == stale_bin_dir.rstrip("/")]
        notes.append(f"{stale_bin_dir}: " + ("referenced by " + "; ".join(refs[0].evidence.get("referenced_by", []))
                                             if refs else "no DaemonSet, daemon config, NAD or recent log references it now"))
    if plugin:
        from runbooklib.checks.binfiles import bin_entry

        for name, ev in result.nodes.items():
            if ev.reachable:
                notes.append(f"{name}: {ev.bin_dir}/{plugin} is {bin_entry(ev.view, ev.bin_dir, plugin).describe()}")
    return notes


def check_panel(params: Params, run_check: Callable[[list[str]], CheckResult], *, title: str = "") -> Any:
    """The ipywidgets panel (JupyterLab only): run the check on the ticked nodes, show the node-prep
    plan for the repair, apply it after confirmation."""
    from runbooklib import widgets
    from runbooklib.checks.repair import plan_repair

    state: dict[str, CheckResult] = {}

    def check_fn(nodes: list[str]) -> list[Finding]:
        state["result"] = run_check(nodes)
        return state["result"].findings

    def plan_fn(nodes: list[str], _findings: list[Finding]) -> Any:
        out = plan_repair(params, state["result"], nodes=nodes)
        return out.plan.recaps if out.plan else [{"result": out.reason}]

    def repair_fn(nodes: list[str], _findings: list[Finding]) -> Any:
        return repair(params, state["result"], repair=True, nodes=nodes).recaps

    return widgets.check_panel(params, check_fn, repair_fn, plan_fn=plan_fn, title=title)
