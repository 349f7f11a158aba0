"""A node's file system as a path -> description map (the handed cases' `node_fs` convention).

Descriptions: `dir`, `dir (contains: a, b)`, `file`, `file (exec)`, `missing`, `symlink -> target`.
Enough to resolve symlinks the way the host (or a pod that mounts one directory) would, without
touching a real node. Node facts from SSH can be turned into this form.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

_CONTAINS = re.compile(r"^dir\s*\(contains:\s*(?P<names>.*)\)\s*$")


@dataclass(frozen=True)
class Resolved:
    path: str  # the path asked for
    final: str  # after following symlinks
    kind: str  # file | dir | missing | unknown
    via: tuple[str, ...] = ()  # symlinks followed, `link -> target`

    @property
    def exists(self) -> bool:
        return self.kind in ("file", "dir")


class NodeFs:
    def __init__(self, entries: Mapping[str, str]) -> None:
        self.entries = {posixpath.normpath(k): v.strip() for k, v in entries.items()}

    def describe(self, path: str) -> str | None:
        return self.entries.get(posixpath.normpath(path))

    @staticmethod
    def link_target(desc: str | None) -> str | None:
        if desc and desc.startswith("symlink"):
            return desc.split("->", 1)[1].strip() if "->" in desc else ""
        return None

    def is_symlink(self, path: str) -> bool:
        return self.link_target(self.describe(path)) is not None

    def _contains(self, path: str) -> list[str] | None:
        m = _CONTAINS.match(self.describe(path) or "")
        if not m:
            return None
        return [n.strip() for n in m["names"].split(",") if n.strip() and n.strip() != "..."]

    def resolve(self, path: str, *, max_hops: int = 40) -> Resolved:
        """Follow symlinks in every component (like the kernel), as far as the map knows."""
        current = posixpath.normpath(path)
        via: list[str] = []
        for _ in range(max_hops):
            parts = current.strip("/").split("/") if current != "/" else []
            restart = False
            prefix = ""
            for i, part in enumerate(parts):
                prefix = f"{prefix}/{part}"
                desc = self.describe(prefix)
                target = self.link_target(desc)
                if target is not None:
                    target = target if target.startswith("/") else posixpath.join(posixpath.dirname(prefix), target)
                    via.append(f"{prefix} -> {target}")
                    current = posixpath.normpath("/".join([target, *parts[i + 1:]]))
                    restart = True
                    break
                if desc == "missing":
                    return Resolved(path, current, "missing", tuple(via))
                if i < len(parts) - 1 and desc is not None and desc.startswith("file"):
                    return Resolved(path, current, "missing", tuple(via))
            if restart:
                continue
            desc = self.describe(current)
            if desc is not None:
                kind = "dir" if desc.startswith("dir") else "file" if desc.startswith("file") else "unknown"
                return Resolved(path, current, kind, tuple(via))
            if any(k.startswith(current.rstrip("/") + "/") for k in self.entries):
                return Resolved(path, current, "dir", tuple(via))  # implied by an entry below it
            names = self._contains(posixpath.dirname(current))
            if names is not None:
                return Resolved(path, current, "file" if posixpath.basename(current) in names else "missing", tuple(via))
            return Resolved(path, current, "unknown", tuple(via))
        return Resolved(path, current, "missing", tuple(via))  # symlink loop

    def list_dir(self, path: str) -> list[str]:
        """Names known to be in `path` (after resolving it)."""
        real = self.resolve(path).final
        names = list(self._contains(real) or [])
        for p in self.entries:
            if posixpath.dirname(p) == real and posixpath.basename(p) not in names:
                names.append(posixpath.basename(p))
        return names
