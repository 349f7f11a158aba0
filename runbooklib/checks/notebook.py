"""What the troubleshooting notebooks call, so their cells stay one line each: check → (plan or
repair → re-check) → publish. Under papermill the same functions run without widgets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from runbooklib.checks.model import CheckResult
from runbooklib.checks.repair import RepairOutcome, repair
from runbooklib.params import Params
from runbooklib.results import Finding

Recheck = Callable[[], CheckResult]


def repair_and_recheck(params: Params, result: CheckResult, recheck: Recheck, *, dry_run: bool = True,
                       nodes: Sequence[str] | None = None) -> tuple[RepairOutcome, CheckResult]:
    """Plan the node-prep repair; unless `dry_run`, apply it and run the check again."""
    outcome = repair(params, result, repair=not dry_run, nodes=nodes)
    if outcome.applied is None and not outcome.restarted:
        return outcome, result
    return outcome, recheck()


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
