"""Typed results shared by every room: per-operation results, per-node recaps, check findings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


class Status(StrEnum):
    OK = "ok"
    CHANGED = "changed"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNREACHABLE = "unreachable"


class Severity(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass
class CommandRecord:
    """One command run (or planned) on a host."""

    command: str
    exit_code: int | None = None
    stdout_tail: str = ""
    stderr_tail: str = ""
    duration_s: float = 0.0


@dataclass
class OpResult:
    """Outcome of one operation on one host (or one object in a cluster)."""

    name: str
    status: Status
    target: str = ""
    reason: str = ""
    commands: list[CommandRecord] = field(default_factory=list)
    duration_s: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.status is Status.CHANGED

    @property
    def failed(self) -> bool:
        return self.status in (Status.FAILED, Status.UNREACHABLE)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        d["changed"] = self.changed
        return d


@dataclass
class NodeRecap:
    """Everything that happened on one node during one run."""

    node: str
    status: Status
    ops: list[OpResult] = field(default_factory=list)
    message: str = ""
    duration_s: float = 0.0

    @property
    def changed_count(self) -> int:
        return sum(1 for op in self.ops if op.changed)

    @property
    def failed_count(self) -> int:
        return sum(1 for op in self.ops if op.failed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "status": self.status.value,
            "message": self.message,
            "duration_s": round(self.duration_s, 3),
            "changed": self.changed_count,
            "failed": self.failed_count,
            "ops": [op.to_dict() for op in self.ops],
        }


def summarize_status(ops: list[OpResult]) -> Status:
    """The node-level status implied by its operations."""
    if any(op.status is Status.UNREACHABLE for op in ops):
        return Status.UNREACHABLE
    if any(op.status is Status.FAILED for op in ops):
        return Status.FAILED
    if any(op.status is Status.CHANGED for op in ops):
        return Status.CHANGED
    return Status.OK


@dataclass
class Finding:
    """One result of a troubleshooting check: what was looked at, what was seen, how to fix it."""

    check: str
    title: str
    severity: Severity
    target: str = ""
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d


def recaps_to_frame(recaps: list[NodeRecap]) -> pd.DataFrame:
    """One row per (node, operation)."""
    import pandas as pd

    rows = []
    for recap in recaps:
        if not recap.ops:
            rows.append({"node": recap.node, "operation": "", "status": recap.status.value,
                         "changed": False, "reason": recap.message, "exit_codes": "", "duration_s": 0.0})
        for op in recap.ops:
            rows.append({
                "node": recap.node,
                "operation": op.name,
                "status": op.status.value,
                "changed": op.changed,
                "reason": op.reason,
                "exit_codes": ",".join(str(c.exit_code) for c in op.commands if c.exit_code is not None),
                "duration_s": round(op.duration_s, 3),
            })
    return pd.DataFrame(rows, columns=["node", "operation", "status", "changed", "reason", "exit_codes", "duration_s"])


def findings_to_frame(findings: list[Finding]) -> pd.DataFrame:
    import pandas as pd

    rows = [{"check": f.check, "severity": f.severity.value, "target": f.target, "title": f.title,
             "detail": f.detail, "fix": "\n".join(f.fix)} for f in findings]
    return pd.DataFrame(rows, columns=["check", "severity", "target", "title", "detail", "fix"])


def problems(findings: Iterable[Finding]) -> list[Finding]:
    """Only the findings that are not ok."""
    return [f for f in findings if f.severity is not Severity.OK]


class HasFindings:
    """Severity, pass/fail and problems of anything that carries a `findings` list."""

    findings: list[Finding]

    @property
    def severity(self) -> Severity:
        return worst(self.findings)

    @property
    def ok(self) -> bool:
        return self.severity is not Severity.FAIL

    @property
    def problems(self) -> list[Finding]:
        return problems(self.findings)


def worst(findings: Iterable[Finding]) -> Severity:
    seen = {f.severity for f in findings}
    if Severity.FAIL in seen:
        return Severity.FAIL
    if Severity.WARN in seen:
        return Severity.WARN
    return Severity.OK
