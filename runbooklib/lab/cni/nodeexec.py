"""Running things ON a lab node from the lab API process: nsenter into the node's long-lived first
process (its sshd, started by nodeinit), i.e. the node's mount + network namespace.

- `run(node, argv, ...)`: a command on the node (mount ns; network ns too unless `net=False`);
- `helper(node, "containerd", req)`: the multicall zipapp's helper with a JSON request;
- `view(node, mounts, files, ops)`: a container's view in a fresh private mount namespace
  (`unshare --mount --propagation private`) created inside the node (see nodeside/view.py).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess  # noqa: S404
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbooklib.lab.procs import alive, read_pid
from runbooklib.lab.state import PRIVATE_DIRS, LabState

PYTHON = "/usr/bin/python3"


class NodeExecError(RuntimeError):
    pass


@dataclass(frozen=True)
class NodeHandle:
    """Where to reach one node of a running lab."""

    name: str
    pid: int
    netns: str
    pyz: str          # the multicall zipapp (host path, visible inside nodes)
    view_root: str    # scratch mount point for container views

    @classmethod
    def of(cls, st: LabState, node: str, pyz: Path) -> NodeHandle:
        ns = st.node(node)
        pid = read_pid(ns.sshd_pid_file) or read_pid(Path(ns.sshd_pid_file).with_name("node.pid"))
        if not alive(pid):
            raise NodeExecError(f"lab node {node} is not running (no live process in {ns.sshd_pid_file})")
        assert pid is not None
        root = Path(st.state_dir) / "cni" / "view"
        root.mkdir(parents=True, exist_ok=True)
        return cls(node, pid, ns.netns, str(pyz), str(root))


def nsenter(h: NodeHandle, *, net: bool = True) -> list[str]:
    return ["nsenter", "-t", str(h.pid), "-m"] + (["-n"] if net else []) + ["--"]


def run(h: NodeHandle, argv: list[str], *, net: bool = True, env: dict[str, str] | None = None,
        stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    full_env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    full_env.update(env or {})
    return subprocess.run(nsenter(h, net=net) + argv, input=stdin, env=full_env,  # noqa: S603
                          capture_output=True, timeout=timeout, check=False)


def helper(h: NodeHandle, name: str, req: dict[str, Any], *, timeout: float = 180) -> dict[str, Any]:
    proc = run(h, [PYTHON, "-I", h.pyz, name], stdin=json.dumps(req).encode(), timeout=timeout)
    try:
        return json.loads(proc.stdout)
    except ValueError as e:
        raise NodeExecError(f"lab helper {name} on {h.name} failed (exit {proc.returncode}): "
                            f"{proc.stderr.decode(errors='replace').strip()}") from e


def _creatable(path: str) -> bool:
    p = os.path.normpath(path)
    return any(p == d or p.startswith(d + "/") for d in PRIVATE_DIRS)


def view(h: NodeHandle, mounts: list[dict[str, str]], files: dict[str, bytes | str],
         ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run `ops` inside a container view built from `mounts` (hostPath -> mountPath) and `files`."""
    enc = {p: base64.b64encode(c if isinstance(c, bytes) else c.encode()).decode() for p, c in files.items()}
    req = {"root": h.view_root, "mounts": mounts, "files_b64": enc, "ops": ops,
           "creatable": [m["host_path"] for m in mounts if _creatable(m["host_path"])]}
    argv = ["unshare", "--mount", "--propagation", "private", "--", PYTHON, "-I", h.pyz, "view"]
    proc = run(h, argv, stdin=json.dumps(req).encode())
    try:
        out = json.loads(proc.stdout)
    except ValueError as e:
        raise NodeExecError(f"container view on {h.name} failed (exit {proc.returncode}): "
                            f"{proc.stderr.decode(errors='replace').strip()}") from e
    if "error" in out:
        raise NodeExecError(out["error"])
    return list(out["results"])
