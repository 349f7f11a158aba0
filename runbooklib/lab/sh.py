"""Running host commands for the lab (argument lists only, never a shell string)."""

from __future__ import annotations

import subprocess  # noqa: S404
from collections.abc import Sequence


class LabCommandError(RuntimeError):
    def __init__(self, argv: Sequence[str], rc: int, stderr: str) -> None:
        super().__init__(f"{' '.join(argv)} failed (exit {rc}): {stderr.strip()}")
        self.argv, self.rc, self.stderr = list(argv), rc, stderr


def run(argv: Sequence[str], *, check: bool = True, input_text: str | None = None, timeout: float = 60) -> str:
    proc = subprocess.run(list(argv), input=input_text, capture_output=True, text=True, timeout=timeout)  # noqa: S603
    if check and proc.returncode != 0:
        raise LabCommandError(argv, proc.returncode, proc.stderr)
    return proc.stdout


def ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    argv = ["ip"] + (["-n", netns] if netns else []) + list(args)
    return run(argv, check=check)


def ip_batch(lines: Sequence[str], *, netns: str | None = None) -> None:
    """Several `ip` commands in one process (`ip -batch -`): one fork instead of many."""
    if not lines:
        return
    argv = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    run(argv, input_text="\n".join(lines) + "\n")
