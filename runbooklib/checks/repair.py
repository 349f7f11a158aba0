"""Repairs go through node prep: plan first (facts + plan, no sudo, nothing changed), then apply
only with `repair=True` or when `confirm(plan)` says yes. Only the nodes with a finding that node
prep fixes are touched; cluster-side findings keep their fix commands (nothing is applied there)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from runbooklib.checks.model import CheckResult
from runbooklib.nodes.prep import PrepResult, prep_nodes
from runbooklib.params import Params
from runbooklib.results import NodeRecap, OpResult, Status

ConfirmFn = Callable[[PrepResult], bool]


@dataclass
class RepairOutcome:
    nodes: list[str]
    plan: PrepResult | None = None
    applied: PrepResult | None = None
    reason: str = ""
    manual: list[str] = field(default_factory=list)  # fixes of findings node prep does not cover
    pod_restarts: list[tuple[str, str]] = field(default_factory=list)  # (DaemonSet, node) restarted or planned
    restarted: list[OpResult] = field(default_factory=list)

    @property
    def recaps(self) -> list[NodeRecap]:
        return (self.applied or self.plan).recaps if (self.applied or self.plan) else []

    @property
    def ok(self) -> bool:
        restarts_ok = not any(r.failed for r in self.restarted)
        return restarts_ok and (self.applied.ok if self.applied else self.plan is None or self.plan.ok)

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "reason": self.reason, "manual": self.manual,
                "plan": self.plan.to_dict() if self.plan else None,
                "applied": self.applied.to_dict() if self.applied else None,
                "pod_restarts": [list(p) for p in self.pod_restarts], "restarted": [r.to_dict() for r in self.restarted]}


def _manual(result: CheckResult) -> list[str]:
    out: list[str] = []
    for f in result.problems:
        if f.evidence.get("repair") not in ("node-prep", "restart-pod"):
            out += [c for c in f.fix if c not in out]
    return out


def plan_repair(params: Params, result: CheckResult, *, nodes: Sequence[str] | None = None, **prep_kwargs: Any) -> RepairOutcome:
    """The node-prep plan (and the DaemonSet pods to restart) for what `result` says is repairable.
    Changes nothing."""
    targets = [n for n in result.repairable_nodes() if not nodes or n in nodes]
    restarts = [(ds, n) for ds, n in result.pod_restarts() if not nodes or n in nodes]
    out = RepairOutcome(targets, manual=_manual(result), pod_restarts=restarts)
    parts = []
    if restarts:
        parts.append("restart " + ", ".join(f"{ds} pod on {n}" for ds, n in restarts))
    if targets:
        out.plan = prep_nodes(params, plan_only=True, nodes=targets, **prep_kwargs)
        parts.append(f"node prep on {', '.join(targets)}: {out.plan.changed} step(s) would change")
    out.reason = "; ".join(parts) or "no finding that node prep (or a DaemonSet pod restart) repairs"
    return out


def restart_daemonset_pods(params: Params, restarts: Sequence[tuple[str, str]], *, timeout_s: float = 180.0,
                           api_client: Any = None) -> list[OpResult]:
    """Delete the named DaemonSet's pod on each node (its init/installer copies the binaries again)
    and wait until the DaemonSet is ready."""
    from kubernetes import client

    from runbooklib.checks.gather import MULTUS_NS
    from runbooklib.cluster import api_client_for_params, wait_for_rollout
    from runbooklib.cluster.kinds import body_json
    from runbooklib.cluster.rollout import read_daemonset

    api = api_client or api_client_for_params(params)
    core = client.CoreV1Api(api)
    out: list[OpResult] = []
    for ds in sorted({d for d, _ in restarts}):
        state = read_daemonset(api, MULTUS_NS, ds)
        selector = ",".join(f"{k}={v}" for k, v in sorted(state.selector.items()))
        pods = body_json(core.list_namespaced_pod(MULTUS_NS, label_selector=selector or None, _preload_content=False))
        for ds_name, node in restarts:
            if ds_name != ds:
                continue
            victims = [p["metadata"]["name"] for p in pods.get("items") or [] if (p.get("spec") or {}).get("nodeName") == node]
            for name in victims:
                core.delete_namespaced_pod(name, MULTUS_NS, _preload_content=False)
            out.append(OpResult("restart-pod", Status.CHANGED if victims else Status.FAILED, f"{ds} on {node}",
                                f"deleted {', '.join(victims)}" if victims else f"no {ds} pod on {node}"))
        report = wait_for_rollout(api, [(MULTUS_NS, ds)], timeout_s=timeout_s)
        if not report.ready:
            out.append(OpResult("rollout", Status.FAILED, f"DaemonSet {ds}", report.render()[:500]))
    return out


def repair(params: Params, result: CheckResult, *, repair: bool = False, confirm: ConfirmFn | None = None,
           nodes: Sequence[str] | None = None, **prep_kwargs: Any) -> RepairOutcome:
    """Plan, then (if `repair` or `confirm(plan)`) restart the DaemonSet pods that copy missing
    binaries and apply node prep on the repairable nodes."""
    out = plan_repair(params, result, nodes=nodes, **prep_kwargs)
    if out.plan is None and not out.pod_restarts:
        return out
    if not (repair or (confirm is not None and out.plan is not None and confirm(out.plan))):
        out.reason += ("; not applied (dry run; to apply: `runbook run <notebook> -p dry_run=false`, "
                       "`runbook check <check> --repair`, or repair(..., repair=True))")
        return out
    parts = []
    if out.pod_restarts:
        out.restarted = restart_daemonset_pods(params, out.pod_restarts)
        parts.append("restarted " + ", ".join(r.target for r in out.restarted if r.name == "restart-pod"))
    if out.nodes:
        out.applied = prep_nodes(params, nodes=out.nodes, **prep_kwargs)
        parts.append(f"node prep applied on {', '.join(out.nodes)}: {out.applied.changed} change(s)")
    out.reason = "; ".join(parts) + ("" if out.ok else " - FAILED somewhere (see recaps)")
    return out
