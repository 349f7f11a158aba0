"""Desired (from a manifest) vs live (from the API): which desired fields the live object lacks.

Only fields the manifest sets are compared (server defaults and server-set metadata are ignored),
so a second apply of the same manifest finds nothing to change.
"""

from __future__ import annotations

from typing import Any

SERVER_METADATA = {"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                   "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences", "finalizers"}


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return a == b


def _walk(desired: Any, live: Any, path: str, out: list[str]) -> None:
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            out.append(path or "(root)")
            return
        for k, v in desired.items():
            _walk(v, live.get(k), f"{path}.{k}" if path else k, out)
    elif isinstance(desired, list):
        if not isinstance(live, list) or len(live) != len(desired):
            out.append(path)
            return
        for i, (d, li) in enumerate(zip(desired, live, strict=True)):
            _walk(d, li, f"{path}[{i}]", out)
    elif desired is None:
        return
    elif not _same_scalar(desired, live):
        out.append(path)


def differing_fields(desired: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """Paths of desired fields that the live object does not have (or has differently)."""
    d = {k: v for k, v in desired.items() if k != "status"}
    meta = {k: v for k, v in (d.get("metadata") or {}).items() if k not in SERVER_METADATA}
    d["metadata"] = meta
    out: list[str] = []
    _walk(d, live, "", out)
    return out
