"""Top level of node prep: `plan_nodes(params)` and `prep_nodes(params)` over every node, in parallel.

    result = prep_nodes(params, progress=print_progress)
    result.frame()          # pandas, one row per (node, operation)
    result.to_json()        # per node, per operation: name, status, changed, commands, exit code, duration
    result.journal.entries  # every command run, secrets redacted
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runbooklib.errors import ArtifactError, UnreachableError
from runbooklib.nodes.apply import NodeRun, ProgressFn, apply_on_host, plan_on_host
from runbooklib.nodes.bundle import PluginBundle, load_plugin_bundle
from runbooklib.nodes.desired import DEFAULT_BACKUP_ROOT, DesiredNode, desired_state
from runbooklib.params import NodeParams, Params
from runbooklib.remote.host import Host, SshHost
from runbooklib.remote.journal import Journal
from runbooklib.remote.parallel import map_nodes
from runbooklib.results import NodeRecap, Status, recaps_to_frame

if TYPE_CHECKING:
    import pandas as pd

_PRINT_LOCK = threading.Lock()

HostFactory = Callable[[Params, NodeParams, Journal, bool], Host]
"""host_factory(params, node, journal, needs_sudo) -> Host (default: SshHost over fabric)."""


@dataclass
class PrepResult:
    mode: str  # "plan" | "apply"
    recaps: list[NodeRecap]
    journal: Journal
    runs: dict[str, NodeRun] = field(default_factory=dict)
    desired: DesiredNode | None = None

    @property
    def ok(self) -> bool:
        return all(r.status in (Status.OK, Status.CHANGED) for r in self.recaps)

    @property
    def changed(self) -> int:
        return sum(r.changed_count for r in self.recaps)

    def frame(self) -> pd.DataFrame:
        return recaps_to_frame(self.recaps)

    def to_dict(self) -> dict[str, Any]:
        nodes = []
        for recap in self.recaps:
            ops = []
            for op in recap.ops:
                ops.append({
                    "name": op.name, "status": op.status.value, "changed": op.changed, "reason": op.reason,
                    "commands": [c.command for c in op.commands],
                    "exit_code": next((c.exit_code for c in reversed(op.commands) if c.exit_code is not None), None),
                    "stderr_tail": next((c.stderr_tail for c in reversed(op.commands) if c.stderr_tail), ""),
                    "duration_s": round(op.duration_s, 3),
                })
            run = self.runs.get(recap.node)
            nodes.append({"node": recap.node, "status": recap.status.value, "message": recap.message,
                          "changed": recap.changed_count, "failed": recap.failed_count,
                          "duration_s": round(recap.duration_s, 3), "round_trips": run.round_trips if run else 0,
                          "ops": ops})
        return {"mode": self.mode, "ok": self.ok, "changed": self.changed, "nodes": nodes}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def ssh_host_factory(params: Params, node: NodeParams, journal: Journal, needs_sudo: bool) -> Host:
    """An SshHost, connected now (so a dead node is reported before any plan is made)."""
    if not needs_sudo and node.sudo == "sudo-password":
        node = node.model_copy(update={"sudo": "sudo"})  # a plan never uses sudo: no password needed
    host = SshHost.from_params(params, node, journal)
    host.open()
    return host


def resolve_bundle(params: Params, cache_dir: Path | None = None) -> tuple[PluginBundle | None, str]:
    try:
        return load_plugin_bundle(params, cache_dir=cache_dir), ""
    except ArtifactError as e:
        return None, str(e)


def _select(params: Params, nodes: Sequence[str] | None) -> list[NodeParams]:
    if not nodes:
        return list(params.nodes)
    unknown = [n for n in nodes if n not in {p.name for p in params.nodes}]
    if unknown:
        raise KeyError(f"unknown node(s): {', '.join(unknown)} (have: {', '.join(p.name for p in params.nodes)})")
    return [p for p in params.nodes if p.name in nodes]


def _run_all(params: Params, mode: str, desired: DesiredNode, *, nodes: Sequence[str] | None, journal: Journal,
             progress: ProgressFn | None, host_factory: HostFactory, node_timeout_s: float | None) -> PrepResult:
    selected = _select(params, nodes)

    def one(node: NodeParams) -> NodeRun:
        try:
            host = host_factory(params, node, journal, mode == "apply")
        except UnreachableError as e:
            if progress:
                progress(node.name, "connect", "unreachable")
            return NodeRun(NodeRecap(node.name, Status.UNREACHABLE, message=e.reason))
        try:
            if mode == "plan":
                return plan_on_host(host, params, desired, progress)
            return apply_on_host(host, params, desired, progress)
        finally:
            try:
                host.close()
            except Exception:  # noqa: BLE001, S110 - closing a dead connection
                pass

    timeout = node_timeout_s if node_timeout_s is not None else params.ssh.command_timeout_s * 4
    outcomes = map_nodes(one, selected, name=lambda n: n.name, workers=params.ssh.parallel, timeout_s=timeout)
    runs: dict[str, NodeRun] = {}
    for oc in outcomes:
        if oc.ok and oc.value is not None:
            runs[oc.node] = oc.value
        elif oc.timed_out:
            runs[oc.node] = NodeRun(NodeRecap(oc.node, Status.FAILED, message=f"timed out after {timeout:.0f}s", duration_s=oc.duration_s))
        else:
            runs[oc.node] = NodeRun(NodeRecap(oc.node, Status.FAILED, message=f"{type(oc.error).__name__}: {oc.error}",
                                              duration_s=oc.duration_s))
    return PrepResult(mode, [runs[n.name].recap for n in selected], journal, runs, desired)


def plan_nodes(params: Params, *, nodes: Sequence[str] | None = None, journal: Journal | None = None,
               progress: ProgressFn | None = None, host_factory: HostFactory = ssh_host_factory,
               bundle: PluginBundle | None = None, cache_dir: Path | None = None,
               backup_root: str = DEFAULT_BACKUP_ROOT, node_timeout_s: float | None = None) -> PrepResult:
    """Gather facts (one round trip per node, no sudo) and plan. Changes nothing on any node.

    The plugin tarball is fetched and verified on this machine (cached) so the plan can compare
    checksums; if that fails, the `cni-plugins` step of every node says why."""
    err = ""
    if bundle is None:
        bundle, err = resolve_bundle(params, cache_dir)
    desired = desired_state(params, bundle, bundle_error=err, backup_root=backup_root)
    return _run_all(params, "plan", desired, nodes=nodes, journal=journal or Journal(), progress=progress,
                    host_factory=host_factory, node_timeout_s=node_timeout_s)


def prep_nodes(params: Params, *, plan_only: bool = False, nodes: Sequence[str] | None = None,
               journal: Journal | None = None, progress: ProgressFn | None = None,
               host_factory: HostFactory = ssh_host_factory, bundle: PluginBundle | None = None,
               cache_dir: Path | None = None, backup_root: str = DEFAULT_BACKUP_ROOT,
               node_timeout_s: float | None = None) -> PrepResult:
    """Bring every node to the five node-prep states. Raises `ArtifactError`/`ChecksumMismatch`
    before touching any node when the plugin release cannot be verified (nothing is installed)."""
    if plan_only:
        return plan_nodes(params, nodes=nodes, journal=journal, progress=progress, host_factory=host_factory,
                          bundle=bundle, cache_dir=cache_dir, backup_root=backup_root, node_timeout_s=node_timeout_s)
    if bundle is None:
        bundle = load_plugin_bundle(params, cache_dir=cache_dir)
    desired = desired_state(params, bundle, backup_root=backup_root)
    return _run_all(params, "apply", desired, nodes=nodes, journal=journal or Journal(), progress=progress,
                    host_factory=host_factory, node_timeout_s=node_timeout_s)


def print_progress(node: str, step: str, status: str) -> None:
    """A terminal progress line per node per step (stderr, so `--json` output stays clean)."""
    if status == "start":
        return
    with _PRINT_LOCK:
        sys.stderr.write(f"  [{node}] {step}: {status}\n")
        sys.stderr.flush()
