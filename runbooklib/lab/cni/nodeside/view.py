"""A DaemonSet container's filesystem view, for real: a private mount namespace with only its mounts.

Run inside the node's mount namespace under `unshare --mount --propagation private`. It mounts a
tmpfs on `root` (an empty scratch dir), bind-mounts (recursively, like the kubelet) each hostPath
volume at its mountPath below it — a missing hostPath is created on the node first, as
containerd's CRI does (only below the node's private dirs; others are left unmounted) —, writes
the configMap files and image files, then chroot()s into `root` and runs the ops:

- {"op": "find", "plugin": P, "paths": [...]}    -> invoke.FindInPath inside the view
- {"op": "list_confs", "dir": D}                 -> Multus' findMasterPlugin candidates (sorted,
                                                   .conf/.conflist, names starting 00-multus skipped)
- {"op": "read", "path": F} / {"op": "write", "path": F, "content": C, "mode": M}
- {"op": "copy", "src": S, "dst": D} / {"op": "mkdir", "path": D}     (what a container writes)

So an absolute symlink whose target is not mounted in the container (k3s's `data/cni` entries ->
/var/lib/rancher/k3s/data/<hash>/bin/cni) fails to resolve exactly as it does in the real pod.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import shutil
import sys
from typing import Any

from runbooklib.lab.cni.nodeside.cniproto import CniError, find_in_path

MS_BIND, MS_REC = 4096, 16384
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(src: str, target: str, fstype: str | None, flags: int) -> None:
    rc = _libc.mount(src.encode(), target.encode(), fstype.encode() if fstype else None, ctypes.c_ulong(flags), None)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {src} on {target}: {os.strerror(err)}")


def build(root: str, mounts: list[dict[str, str]], files: dict[str, bytes], creatable: list[str]) -> None:
    _mount("tmpfs", root, "tmpfs", 0)
    for m in sorted(mounts, key=lambda m: m["mount_path"].count("/")):
        src = m["host_path"]
        if not os.path.exists(src):
            if src not in creatable:
                continue          # not private to the lab node: never create it on the host
            os.makedirs(src, exist_ok=True)
        dst = root + "/" + m["mount_path"].strip("/")
        if os.path.isdir(src):
            os.makedirs(dst, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            open(dst, "a").close()
        _mount(src, dst, None, MS_BIND | MS_REC)
    for path, content in files.items():
        full = root + "/" + path.strip("/")
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(content)
        os.chmod(full, 0o755)


def list_confs(d: str) -> list[str]:
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return []
    return [os.path.join(d, n) for n in names
            if (n.endswith(".conf") or n.endswith(".conflist")) and not n.startswith("00-multus")]


def do_op(op: dict[str, Any]) -> dict[str, Any]:
    kind = op["op"]
    try:
        if kind == "find":
            return {"path": find_in_path(op["plugin"], list(op["paths"]))}
        if kind == "list_confs":
            return {"files": list_confs(op["dir"])}
        if kind == "read":
            with open(op["path"]) as f:
                return {"content": f.read()}
        if kind == "copy":           # cp SRC DST (DST may be a dir; follows an existing DST symlink)
            dst = op["dst"]
            if os.path.isdir(dst):
                dst = os.path.join(dst, os.path.basename(op["src"]))
            shutil.copyfile(op["src"], dst)
            os.chmod(dst, 0o755)
            return {"ok": True, "dst": dst}
        if kind == "mkdir":
            os.makedirs(op["path"], exist_ok=True)
            return {"ok": True}
        if kind == "write":
            tmp = op["path"] + ".tmp"
            with open(tmp, "w") as f:
                f.write(op["content"])
            os.chmod(tmp, int(op.get("mode", 0o600)))
            os.replace(tmp, op["path"])
            return {"ok": True}
    except CniError as e:
        return {"error": str(e)}
    except OSError as e:
        return {"error": f"{e.strerror or e}: {getattr(e, 'filename', '') or ''}"}
    return {"error": f"unknown op {kind}"}


def main() -> int:
    req = json.loads(sys.stdin.read())
    try:
        files = {p: base64.b64decode(c) for p, c in (req.get("files_b64") or {}).items()}
        build(req["root"], req.get("mounts", []), files, list(req.get("creatable") or []))
    except OSError as e:
        print(json.dumps({"error": f"building the container view: {e}"}))
        return 0
    os.chroot(req["root"])
    os.chdir("/")
    print(json.dumps({"results": [do_op(op) for op in req.get("ops", [])]}))
    return 0
