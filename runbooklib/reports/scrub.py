"""Keep secrets out of notebooks, reports and result files.

Two rules: `-p` parameters whose *name* looks secret are refused before anything runs
(`secret_like`), and after a run every known secret *value* (the sudo password from the env var
named by `params.ssh.sudo_password_env`, plus any env var whose name looks secret) is replaced by
`REDACTED` in every file the run leaves behind (`Scrubber`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

REDACTED = "********"
SECRET_NAME = re.compile(r"pass(word|wd|phrase)?|token|secret|api[_-]?key|credential|private[_-]?key", re.IGNORECASE)
MIN_SECRET_LEN = 4  # shorter values would redact ordinary text


def secret_like(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def env_secrets(env: Mapping[str, str], named: Iterable[str] = ()) -> list[str]:
    """Values to scrub: the env vars in `named` (e.g. the sudo password var) and secret-looking ones."""
    names = set(named) | {k for k in env if secret_like(k)}
    values = {env[n] for n in names if env.get(n) and len(env[n]) >= MIN_SECRET_LEN}
    return sorted(values, key=len, reverse=True)  # longest first: a secret containing another


@dataclass
class Scrubber:
    secrets: list[str]
    replaced: int = field(default=0)

    @classmethod
    def from_env(cls, named: Iterable[str] = (), env: Mapping[str, str] | None = None) -> Scrubber:
        return cls(env_secrets(os.environ if env is None else env, named))

    def text(self, value: str) -> str:
        for s in self.secrets:
            if s in value:
                self.replaced += value.count(s)
                value = value.replace(s, REDACTED)
        return value

    def data(self, value: Any) -> Any:
        """Scrub every string (keys too) in nested dicts/lists (notebook JSON, results JSON)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            out = type(value)()  # keeps nbformat.NotebookNode a NotebookNode
            for k, v in value.items():
                out[self.data(k)] = self.data(v)
            return out
        return value
