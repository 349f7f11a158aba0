"""Structural comparison of two parsed manifests: which leaf fields differ, named readably.

List items that are mappings with a `name` key are addressed by name (`volumes[name=cni]`), so the
result does not depend on positions. Used to confirm a patch changed exactly what it meant to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runbooklib.manifests.docs import Doc, obj_ref

_MISSING = object()


@dataclass(frozen=True)
class FieldChange:
    obj: str  # `Kind ns/name`
    path: str  # e.g. spec.template.spec.volumes[name=cni].hostPath.path
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.obj}: {self.path}: {self.old!r} -> {self.new!r}"


def _key(item: Any, index: int) -> str:
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        return f"[name={item['name']}]"
    return f"[{index}]"


def _walk(a: Any, b: Any, path: str, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            _walk(a.get(k, _MISSING), b.get(k, _MISSING), f"{path}.{k}" if path else str(k), out)
        return
    if isinstance(a, list) and isinstance(b, list):
        ka = {_key(x, i): x for i, x in enumerate(a)}
        kb = {_key(x, i): x for i, x in enumerate(b)}
        if list(ka) != list(kb) and set(ka) == set(kb):
            out.append((path + "(order)", list(ka), list(kb)))
        for k in list(ka) + [k for k in kb if k not in ka]:
            _walk(ka.get(k, _MISSING), kb.get(k, _MISSING), path + k, out)
        return
    if a != b or type(a) is not type(b):
        out.append((path, None if a is _MISSING else a, None if b is _MISSING else b))


def changed_fields(before: list[Doc], after: list[Doc]) -> list[FieldChange]:
    """Every leaf that differs between two document lists (paired by position)."""
    out: list[FieldChange] = []
    for i in range(max(len(before), len(after))):
        a = before[i] if i < len(before) else {}
        b = after[i] if i < len(after) else {}
        diffs: list[tuple[str, Any, Any]] = []
        _walk(a, b, "", diffs)
        ref = obj_ref(b or a) if (b or a) else f"document {i}"
        out.extend(FieldChange(ref, p, old, new) for p, old, new in diffs)
    return out
