"""How one plugin looks in the daemon's bin dir on one node (pure, over a node_fs view).

Layout A (upstream-facts "Read this first"): the bin dir is a real directory of real executable
files; a symlink whose chain leaves the directory does not resolve inside the Multus daemon pod
(which mounts only that directory), so the daemon says `failed to find plugin "<name>"`.
Layout B: the bin dir is the k3s bin dir and the k3s data dir is mounted at the same path, so
links into the data dir resolve in the pod too.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from runbooklib.manifests.nodefs import NodeFs

OK_STATES = ("ok", "link-inside")


@dataclass(frozen=True)
class BinEntry:
    name: str
    path: str
    state: str  # ok | missing | not-executable | link-outside | link-inside | dangling | not-a-file | unknown
    chain: tuple[str, ...] = ()
    final: str = ""

    @property
    def ok(self) -> bool:
        return self.state in OK_STATES

    def describe(self) -> str:
        chain = " ; ".join(self.chain)
        return {
            "ok": "a real executable file",
            "missing": "missing",
            "not-executable": "a file without execute permission",
            "link-outside": f"a symlink whose chain leaves the directory ({chain}); it does not resolve in the daemon pod",
            "link-inside": f"a symlink inside the directory ({chain})",
            "dangling": f"a dangling symlink ({chain})",
            "not-a-file": f"not a regular file ({self.final})",
            "unknown": "not known (not in the evidence)",
        }[self.state]


def _inside(path: str, directory: str) -> bool:
    d = directory.rstrip("/")
    return path == d or path.startswith(d + "/")


def bin_entry(view: NodeFs, bin_dir: str, name: str, *, mounted: tuple[str, ...] = ()) -> BinEntry:
    """State of `<bin_dir>/<name>` as the daemon (mounting `bin_dir` and `mounted`) sees it."""
    real_dir = view.resolve(bin_dir).final
    entry = posixpath.join(real_dir, name)
    desc = view.describe(entry)
    r = view.resolve(entry)
    path = posixpath.join(bin_dir, name)
    if NodeFs.link_target(desc) is not None:
        allowed = (real_dir, *mounted)
        if not any(_inside(r.final, d) for d in allowed):
            return BinEntry(name, path, "link-outside", r.via, r.final)  # whatever it is on the host
        if r.kind != "file":
            return BinEntry(name, path, "dangling" if r.kind == "missing" else "not-a-file", r.via, r.final)
        return BinEntry(name, path, "link-inside", r.via, r.final)
    if desc is None:
        state = {"file": "ok", "missing": "missing", "dir": "not-a-file"}.get(r.kind, "unknown")
        return BinEntry(name, path, state, (), r.final)
    if desc.startswith("file"):
        return BinEntry(name, path, "ok" if "exec" in desc else "not-executable", (), entry)
    if desc == "missing":
        return BinEntry(name, path, "missing", (), entry)
    return BinEntry(name, path, "not-a-file", (), entry)


def links_leaving(view: NodeFs, bin_dir: str, *, mounted: tuple[str, ...] = ()) -> list[BinEntry]:
    """Every entry of the bin dir that is a symlink whose chain leaves it (layout A's C01 fault)."""
    out = []
    for name in sorted(view.list_dir(bin_dir)):
        e = bin_entry(view, bin_dir, name, mounted=mounted)
        if e.state in ("link-outside", "dangling"):
            out.append(e)
    return out
