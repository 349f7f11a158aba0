"""Unified diff upstream -> patched, for the notebook and the report."""

from __future__ import annotations

import difflib


def unified_diff(before: str, after: str, name: str, *, context: int = 3) -> str:
    """`diff -u upstream/<name> patched/<name>` as text ('' when equal)."""
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"upstream/{name}", tofile=f"patched/{name}", n=context))
