"""Daemon processes of a lab: start detached with a pid file, check, stop by pid, find leftovers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess  # noqa: S404
import time
from collections.abc import Iterable, Sequence
from pathlib import Path


def spawn(argv: Sequence[str], *, pid_file: Path, log_file: Path, env: dict[str, str] | None = None) -> int:
    """Start `argv` detached (own session, stdin /dev/null, output to log_file) and write its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log, open(os.devnull, "rb") as devnull:
        proc = subprocess.Popen(list(argv), stdin=devnull, stdout=log, stderr=log,  # noqa: S603
                                start_new_session=True, close_fds=True, env=env)
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def read_pid(pid_file: Path | str) -> int | None:
    try:
        return int(Path(pid_file).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return False


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(host: str, port: int, timeout: float = 10.0, pid: int | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port, 0.3):
            return True
        if pid is not None and not alive(pid):
            return False
        time.sleep(0.02)
    return False


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def pids_mentioning(text: str) -> list[int]:
    """Processes whose command line contains `text` (e.g. a lab's state dir) — never this process."""
    me = os.getpid()
    out: list[int] = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me and text in cmdline(int(entry)):
            out.append(int(entry))
    return out


def stop(pids: Iterable[int], timeout: float = 3.0) -> None:
    """SIGTERM each pid, wait, then SIGKILL the survivors (one pid at a time, never by name)."""
    todo = {p for p in pids if p and p != os.getpid() and alive(p)}
    for p in todo:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while todo and time.monotonic() < deadline:
        todo = {p for p in todo if alive(p)}
        time.sleep(0.02)
    for p in todo:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 2
    while todo and time.monotonic() < deadline:
        todo = {p for p in todo if alive(p)}
        time.sleep(0.02)
