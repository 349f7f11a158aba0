"""Wait for DaemonSets to be ready; on timeout, say which pods are not and why (log tails matched
against known error strings), like `kubectl rollout status` + `kubectl logs -l ... --tail=50`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from runbooklib.cluster.kinds import body_json
from runbooklib.cluster.known_errors import KnownErrorMatch, match_known_errors
from runbooklib.results import Finding, Severity

DEFAULT_DAEMONSETS: tuple[tuple[str, str], ...] = (("kube-system", "kube-multus-ds"), ("kube-system", "whereabouts"))
ProgressFn = Callable[["list[DaemonSetState]", float], None]


@dataclass
class DaemonSetState:
    namespace: str
    name: str
    exists: bool = False
    desired: int = 0
    ready: int = 0
    updated: int = 0
    available: int = 0
    generation: int = 0
    observed_generation: int = 0
    selector: dict[str, str] = field(default_factory=dict)

    @property
    def is_ready(self) -> bool:
        return (self.exists and self.observed_generation >= self.generation
                and self.updated >= self.desired and self.ready >= self.desired and self.available >= self.desired)

    def line(self) -> str:
        if not self.exists:
            return f"{self.namespace}/{self.name}: not found"
        return (f"{self.namespace}/{self.name}: {self.ready}/{self.desired} ready, {self.updated} updated, "
                f"{self.available} available" + ("" if self.observed_generation >= self.generation else " (not observed yet)"))


@dataclass
class PodProblem:
    namespace: str
    name: str
    node: str
    phase: str
    reasons: list[str]
    log_tail: dict[str, list[str]]  # container -> last lines
    matches: list[KnownErrorMatch]


@dataclass
class RolloutReport:
    ready: bool
    elapsed_s: float
    timeout_s: float
    daemonsets: list[DaemonSetState]
    problems: list[PodProblem] = field(default_factory=list)

    def render(self) -> str:
        head = "rollout complete" if self.ready else f"rollout NOT complete after {self.timeout_s:.0f}s"
        lines = [f"{head} ({self.elapsed_s:.1f}s)"] + [f"  {d.line()}" for d in self.daemonsets]
        for p in self.problems:
            lines.append(f"  pod {p.namespace}/{p.name} on {p.node or '<unscheduled>'}: {p.phase}; {'; '.join(p.reasons)}")
            for m in p.matches:
                lines.append(f"    known error [{m.id}]: {m.line}")
                lines.append(f"      meaning: {m.meaning}")
                lines.append(f"      fix: {m.fix}")
            for c, tail in p.log_tail.items():
                if tail:
                    lines.append(f"    last {len(tail)} log line(s) of {c}:")
                    lines += [f"      | {t}" for t in tail[-10:]]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "elapsed_s": round(self.elapsed_s, 2), "timeout_s": self.timeout_s,
                "daemonsets": [{**asdict(d), "is_ready": d.is_ready} for d in self.daemonsets],
                "problems": [asdict(p) for p in self.problems]}

    def findings(self) -> list[Finding]:
        out = []
        for d in self.daemonsets:
            sev = Severity.OK if d.is_ready else Severity.FAIL
            out.append(Finding("rollout", d.line(), sev, f"DaemonSet {d.namespace}/{d.name}"))
        for p in self.problems:
            out.append(Finding("rollout", f"pod {p.name} not ready", Severity.FAIL, f"Pod {p.namespace}/{p.name}",
                               "; ".join(p.reasons), {"node": p.node, "matches": [m.id for m in p.matches]},
                               [m.fix for m in p.matches]))
        return out


def read_daemonset(api_client: k8s.ApiClient, namespace: str, name: str) -> DaemonSetState:
    try:
        ds = body_json(k8s.AppsV1Api(api_client).read_namespaced_daemon_set(name, namespace, _preload_content=False))
    except ApiException as e:
        if e.status == 404:
            return DaemonSetState(namespace, name)
        raise
    st, meta = ds.get("status") or {}, ds.get("metadata") or {}
    return DaemonSetState(namespace, name, True, int(st.get("desiredNumberScheduled", 0)), int(st.get("numberReady", 0)),
                          int(st.get("updatedNumberScheduled", 0)), int(st.get("numberAvailable", 0)),
                          int(meta.get("generation", 0)), int(st.get("observedGeneration", 0)),
                          dict(((ds.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}))


def _pod_ready(pod: dict[str, Any]) -> bool:
    conds = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


def _reasons(pod: dict[str, Any]) -> list[str]:
    st = pod.get("status") or {}
    out = [f"{st['reason']}: {st.get('message', '')}".strip(": ")] if st.get("reason") else []
    for cs in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []):
        for kind, state in (cs.get("state") or {}).items():
            if kind != "running" and (state.get("reason") or state.get("message")):
                out.append(f"{cs.get('name')} {kind}: {state.get('reason', '')} {state.get('message', '')}".strip())
    return out or ["not ready"]


def _log_tail(core: k8s.CoreV1Api, namespace: str, pod: str, container: str, tail: int) -> list[str]:
    try:
        resp = core.read_namespaced_pod_log(pod, namespace, container=container, tail_lines=tail, _preload_content=False)
    except ApiException as e:
        return [f"(no log: HTTP {e.status})"]
    data = resp.data.decode("utf-8", "replace") if isinstance(resp.data, bytes) else str(resp.data)
    return data.splitlines()[-tail:]


def not_ready_pods(api_client: k8s.ApiClient, state: DaemonSetState, tail_lines: int = 50) -> list[PodProblem]:
    core = k8s.CoreV1Api(api_client)
    selector = ",".join(f"{k}={v}" for k, v in sorted(state.selector.items()))
    pods = body_json(core.list_namespaced_pod(state.namespace, label_selector=selector or None, _preload_content=False))
    out = []
    for pod in pods.get("items") or []:
        if _pod_ready(pod):
            continue
        meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        names = [c["name"] for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]
        tails = {c: _log_tail(core, state.namespace, meta["name"], c, tail_lines) for c in names}
        reasons = _reasons(pod)
        all_lines = reasons + [line for t in tails.values() for line in t]
        out.append(PodProblem(state.namespace, meta["name"], spec.get("nodeName", ""), (pod.get("status") or {}).get("phase", ""),
                              reasons, tails, match_known_errors(all_lines)))
    return out


def wait_for_rollout(api_client: k8s.ApiClient, daemonsets: Sequence[tuple[str, str]] = DEFAULT_DAEMONSETS, *,
                     timeout_s: float = 300.0, poll_s: float = 2.0, tail_lines: int = 50,
                     progress: ProgressFn | None = None) -> RolloutReport:
    """Poll until every DaemonSet is ready or `timeout_s` passes; `progress(states, elapsed)` each poll.
    On timeout the report lists the not-ready pods with log tails and matched known errors."""
    t0 = time.monotonic()
    while True:
        states = [read_daemonset(api_client, ns, name) for ns, name in daemonsets]
        elapsed = time.monotonic() - t0
        if progress is not None:
            progress(states, elapsed)
        if all(s.is_ready for s in states):
            return RolloutReport(True, elapsed, timeout_s, states)
        if elapsed >= timeout_s:
            problems = [p for s in states if s.exists and not s.is_ready for p in not_ready_pods(api_client, s, tail_lines)]
            return RolloutReport(False, elapsed, timeout_s, states, problems)
        time.sleep(min(poll_s, max(0.0, timeout_s - elapsed)) or 0.01)


def print_progress(states: list[DaemonSetState], elapsed: float) -> None:
    import sys

    print(f"[{elapsed:5.1f}s] " + " | ".join(s.line() for s in states), file=sys.stderr, flush=True)
