"""One error root for runbooklib; children carry their parts as attributes (papermill-style)."""

from __future__ import annotations

from dataclasses import dataclass


class RunbookError(Exception):
    """Root of every error runbooklib raises on purpose."""


@dataclass(frozen=True)
class ParamIssue:
    """One problem found in a params file: where, what, and what would be valid."""

    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.field}: {self.message}"
        return f"{text} (fix: {self.hint})" if self.hint else text


class ParamsError(RunbookError):
    """A params file is unreadable or invalid. `issues` lists every problem at once."""

    def __init__(self, path: str, issues: list[ParamIssue]) -> None:
        self.path = path
        self.issues = list(issues)
        lines = "\n".join(f"  - {i}" for i in self.issues)
        super().__init__(f"{path}: {len(self.issues)} problem(s) in params:\n{lines}")


class ArtifactError(RunbookError):
    """A downloaded or local artifact is missing or fails its sha256 check."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        super().__init__(f"{source}: {message}")


class ChecksumMismatch(ArtifactError):
    def __init__(self, source: str, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(source, f"sha256 mismatch: expected {expected}, got {actual}; nothing was installed")


class RemoteError(RunbookError):
    """A command on a node failed in a way that stops the operation."""

    def __init__(self, host: str, command: str, exit_code: int | None, stderr: str) -> None:
        self.host = host
        self.command = command
        self.exit_code = exit_code
        self.stderr = stderr
        super().__init__(f"{host}: command failed (exit {exit_code}): {stderr.strip()[-400:]}")


class UnreachableError(RunbookError):
    def __init__(self, host: str, reason: str) -> None:
        self.host = host
        self.reason = reason
        super().__init__(f"{host}: unreachable: {reason}")
