"""Shell quoting: everything that reaches a remote shell goes through here."""

from __future__ import annotations

import shlex
from collections.abc import Iterable


def q(value: object) -> str:
    """Quote one word for a POSIX shell."""
    return shlex.quote(str(value))


def sh_join(words: Iterable[object]) -> str:
    return " ".join(q(w) for w in words)
