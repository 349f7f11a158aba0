"""Run a node's plan: gather facts, plan, execute each changing operation (one round trip each),
re-check the node, and return a typed `NodeRecap`.

Every operation is atomic per path (temp name in the same directory + rename), so a run that is
cut off at any point leaves each path old or new; the next run's facts see any `.runbooklib-*`
leftovers and its plan removes them (or finishes an interrupted directory swap).
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from runbooklib.errors import UnreachableError
from runbooklib.nodes.desired import DesiredNode
from runbooklib.nodes.facts import NodeFacts, facts_command, facts_script, parse_facts
from runbooklib.nodes.plan import Operation, plan_node
from runbooklib.params import Params
from runbooklib.remote.host import Host
from runbooklib.remote.shell import q
from runbooklib.results import CommandRecord, NodeRecap, OpResult, Status, summarize_status

ProgressFn = Callable[[str, str, str], None]
"""progress(node, step, status) — status is e.g. 'start', 'ok', 'changed', 'failed: ...'."""


@dataclass
class NodeRun:
    """Everything one node's run produced (the recap plus the facts and plan behind it)."""

    recap: NodeRecap
    facts: NodeFacts | None = None
    plan: list[Operation] = field(default_factory=list)
    after: NodeFacts | None = None
    round_trips: int = 0


class _Counter:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.n = 0

    def run(self, command: str, *, sudo: bool) -> tuple[int, str, str, float]:
        self.n += 1
        out = self.host.run(command, sudo=sudo)
        return out.exit_code, out.stdout, out.stderr, out.duration_s


def lock_path(params: Params) -> str:
    """Per-node lock serialising applies (e.g. an op still running on a node after its controller was killed)."""
    return f"{posixpath.dirname(params.k3s.opt_cni_bin.rstrip('/')) or '/'}/.runbooklib.lock"


def locked(script: str, lock: str, wait_s: int = 300) -> str:
    """Run `script` under `flock` on the node (plain `sh -c` where flock is missing)."""
    return (f"mkdir -p -- {q(posixpath.dirname(lock))} && if command -v flock >/dev/null 2>&1; "
            f"then exec flock -w {wait_s} {q(lock)} sh -c {q(script)}; else exec sh -c {q(script)}; fi")


def gather_facts(host: Host, params: Params, *, sudo: bool = False) -> NodeFacts:
    """One round trip: run the facts script and parse it. Raises UnreachableError / RuntimeError.

    With sudo (apply), the script waits for the node's prep lock, so it never reads a half-done op."""
    command = locked(facts_script(params), lock_path(params)) if sudo else facts_command(params)
    out = host.run(command, sudo=sudo)
    if out.exit_code != 0 and "@@END" not in out.stdout:
        raise RuntimeError(f"facts script failed (exit {out.exit_code}): {out.stderr.strip()[-300:]}")
    return parse_facts(host.name, out.stdout, params)


def _planned_result(op: Operation) -> OpResult:
    if op.error:
        status, reason = Status.FAILED, op.error
    elif op.changes:
        status, reason = Status.CHANGED, op.reason
    else:
        status, reason = Status.OK, op.reason
    cmds = []
    if op.upload:
        cmds.append(CommandRecord(f"sftp put {op.upload[0]} -> {op.upload[1]}"))
    cmds += [CommandRecord(c) for c in op.commands]
    return OpResult(op.name, status, reason=_with_notes(reason, op.notes), commands=cmds,
                    evidence={"planned": True, "notes": op.notes})


def _with_notes(reason: str, notes: list[str]) -> str:
    return reason + "".join(f"; note: {n}" for n in notes)


def plan_on_host(host: Host, params: Params, desired: DesiredNode, progress: ProgressFn | None = None) -> NodeRun:
    """Facts + plan for one node, without sudo and without changing anything."""
    t0 = time.monotonic()
    desired = desired.for_node(host.name)
    _tell(progress, host.name, "facts", "start")
    try:
        facts = gather_facts(host, params, sudo=False)
    except UnreachableError as e:
        _tell(progress, host.name, "facts", "unreachable")
        return NodeRun(NodeRecap(host.name, Status.UNREACHABLE, message=e.reason, duration_s=time.monotonic() - t0), round_trips=1)
    except RuntimeError as e:
        return NodeRun(NodeRecap(host.name, Status.FAILED, message=str(e), duration_s=time.monotonic() - t0), round_trips=1)
    ops = plan_node(facts, desired)
    results = [_planned_result(op) for op in ops]
    n_changes = sum(1 for op in ops if op.changes)
    status = Status.FAILED if any(op.error for op in ops) else (Status.CHANGED if n_changes else Status.OK)
    msg = f"{n_changes} change(s), {sum(1 for op in ops if not op.changes and not op.error)} no-op(s)"
    if facts.warnings:
        msg += "; facts warnings: " + "; ".join(facts.warnings)
    _tell(progress, host.name, "plan", msg)
    return NodeRun(NodeRecap(host.name, status, results, "plan: " + msg, time.monotonic() - t0), facts, ops, round_trips=1)


def apply_on_host(host: Host, params: Params, desired: DesiredNode, progress: ProgressFn | None = None) -> NodeRun:
    """Facts (with sudo) → plan → run each change → re-check. Never raises for node problems."""
    t0 = time.monotonic()
    desired = desired.for_node(host.name)
    counter = _Counter(host)
    _tell(progress, host.name, "facts", "start")
    try:
        facts = gather_facts(host, params, sudo=True)
        counter.n += 1
    except UnreachableError as e:
        _tell(progress, host.name, "facts", "unreachable")
        return NodeRun(NodeRecap(host.name, Status.UNREACHABLE, message=e.reason, duration_s=time.monotonic() - t0), round_trips=1)
    except RuntimeError as e:
        _tell(progress, host.name, "facts", f"failed: {e}")
        return NodeRun(NodeRecap(host.name, Status.FAILED, message=str(e), duration_s=time.monotonic() - t0), round_trips=1)
    ops = plan_node(facts, desired)
    results: list[OpResult] = []
    failed: set[str] = set()
    unreachable = ""
    for op in ops:
        if unreachable:
            results.append(OpResult(op.name, Status.SKIPPED, reason=f"node became unreachable: {unreachable}"))
            continue
        if op.error:
            failed.add(op.name)
            results.append(OpResult(op.name, Status.FAILED, reason=op.error))
            _tell(progress, host.name, op.name, f"failed: {op.error}")
            continue
        if not op.changes:
            results.append(OpResult(op.name, Status.OK, reason=_with_notes(op.reason, op.notes), evidence={"notes": op.notes}))
            _tell(progress, host.name, op.name, "ok")
            continue
        blocked = [dep for dep in op.depends_on if dep in failed]
        if blocked:
            failed.add(op.name)
            results.append(OpResult(op.name, Status.SKIPPED, reason=f"not run: {', '.join(blocked)} failed"))
            _tell(progress, host.name, op.name, "skipped")
            continue
        _tell(progress, host.name, op.name, "start")
        res = _run_op(host, counter, op, lock_path(params))
        results.append(res)
        if res.status is Status.UNREACHABLE:
            unreachable = res.reason
        elif res.status is Status.FAILED:
            failed.add(op.name)
        _tell(progress, host.name, op.name, res.status.value if res.status is not Status.FAILED else f"failed: {res.reason}")
    after = None
    if not unreachable and not any(r.changed or r.failed for r in results):
        after = facts  # nothing was run: the facts of this run are still the node's state
        notes = [n for op in ops for n in op.notes if "dangles" in n]
        verify = OpResult("verify", Status.OK, reason=_with_notes("all five node states hold (nothing changed)", notes),
                          evidence={"notes": notes})
        results.append(verify)
        _tell(progress, host.name, "verify", verify.status.value)
    elif not unreachable:
        after, verify = _verify(host, counter, params, desired)
        results.append(verify)
        _tell(progress, host.name, "verify", verify.status.value)
    status = summarize_status(results)
    changed = sum(1 for r in results if r.changed)
    msg = {Status.OK: "nothing to change", Status.CHANGED: f"{changed} change(s) made and verified"}.get(
        status, "; ".join(r.reason for r in results if r.failed or r.status is Status.SKIPPED)[:500])
    return NodeRun(NodeRecap(host.name, status, results, msg, time.monotonic() - t0), facts, ops, after, counter.n)


def _run_op(host: Host, counter: _Counter, op: Operation, lock: str) -> OpResult:
    t0 = time.monotonic()
    records: list[CommandRecord] = []
    try:
        if op.upload:
            t_up = time.monotonic()
            host.put(op.upload[0], op.upload[1])
            records.append(CommandRecord(f"sftp put {op.upload[0]} -> {op.upload[1]}", 0, duration_s=time.monotonic() - t_up))
        code, out, err, dt = counter.run(locked(op.script, lock), sudo=True)
    except UnreachableError as e:
        return OpResult(op.name, Status.UNREACHABLE, reason=e.reason, commands=records, duration_s=time.monotonic() - t0)
    except OSError as e:  # local side of an upload
        return OpResult(op.name, Status.FAILED, reason=f"upload failed: {e}", commands=records, duration_s=time.monotonic() - t0)
    records.append(CommandRecord(op.script, code, out[-2000:], err[-2000:], dt))
    if code != 0:
        tail = err.strip().splitlines()[-3:] if err.strip() else [f"exit {code}"]
        return OpResult(op.name, Status.FAILED, reason=f"{op.reason} — failed: {' | '.join(tail)}", commands=records,
                        duration_s=time.monotonic() - t0, evidence={"notes": op.notes})
    return OpResult(op.name, Status.CHANGED, reason=_with_notes(op.reason, op.notes), commands=records,
                    duration_s=time.monotonic() - t0, evidence={"notes": op.notes})


def _verify(host: Host, counter: _Counter, params: Params, desired: DesiredNode) -> tuple[NodeFacts | None, OpResult]:
    t0 = time.monotonic()
    try:
        after = gather_facts(host, params, sudo=True)
        counter.n += 1
    except (UnreachableError, RuntimeError) as e:
        return None, OpResult("verify", Status.FAILED, reason=f"could not re-read the node: {e}", duration_s=time.monotonic() - t0)
    pending = [op for op in plan_node(after, desired) if op.changes or op.error]
    notes = [n for op in plan_node(after, desired) for n in op.notes if "dangles" in n]
    if pending:
        reason = "after apply the node still differs: " + "; ".join(f"{op.name}: {op.error or op.reason}" for op in pending)
        return after, OpResult("verify", Status.FAILED, reason=reason, duration_s=time.monotonic() - t0)
    return after, OpResult("verify", Status.OK, reason=_with_notes("all five node states hold", notes),
                           duration_s=time.monotonic() - t0, evidence={"notes": notes})


def _tell(progress: ProgressFn | None, node: str, step: str, status: str) -> None:
    if progress is not None:
        try:
            progress(node, step, status)
        except Exception:  # noqa: BLE001, S110 - a broken progress display must not break a run
            pass
