"""A JSON-lines journal of every command run on every node, with secrets redacted."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

REDACTED = "***"


class Journal:
    """Append-only record of commands. Secrets registered with `add_secret` never reach it."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self.entries: list[dict[str, Any]] = []
        self._secrets: list[str] = []
        self._lock = threading.Lock()
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def add_secret(self, secret: str | None) -> None:
        if secret:
            self._secrets.append(secret)

    def redact(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, REDACTED)
        return text

    def record(self, node: str, command: str, exit_code: int | None, duration_s: float,
               stdout: str = "", stderr: str = "", note: str = "") -> dict[str, Any]:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "node": node,
            "command": self.redact(command),
            "exit_code": exit_code,
            "duration_s": round(duration_s, 3),
            "stdout_tail": self.redact(stdout[-2000:]),
            "stderr_tail": self.redact(stderr[-2000:]),
        }
        if note:
            entry["note"] = self.redact(note)
        with self._lock:
            self.entries.append(entry)
            if self.path:
                with self.path.open("a") as fh:
                    fh.write(json.dumps(entry) + "\n")
        return entry
