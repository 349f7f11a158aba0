"""The lab's plugin release artifact and the HTTP server that serves it to the nodes.

HONESTY NOTE (for the README): the lab serves `cni-plugins-linux-amd64-v1.6.2.tgz` so that node
prep downloads and verifies it through exactly the code path it uses on a real cluster, but the
tarball carries the binaries of Debian's `containernetworking-plugins` package (upstream 1.1.1,
16 plugins; no `dummy`, no `tap`) from /usr/lib/cni, not the upstream v1.6.2 release. Its layout
follows the release (flat, `./bridge`, ... as `tar -C bin -caf ... .` makes it) and the `.sha256`
beside it has the release's format `<hex>  <filename>`. The name is the one the params pin
(`artifacts.cni_plugins.url`).

The server is stdlib `http.server`, run detached with a pid file, bound to the management
gateway address (root namespace), so nodes reach it over mgmt0 and nothing listens elsewhere.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sys
import tarfile
from pathlib import Path

from runbooklib.lab.procs import alive, read_pid, spawn, wait_port

PLUGIN_SRC = Path("/usr/lib/cni")


def build_tarball(out_dir: Path, filename: str, src: Path = PLUGIN_SRC) -> str:
    """Write `filename` and `filename.sha256` into out_dir; returns the sha256. Reproducible bytes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        root = tarfile.TarInfo("./")
        root.type, root.mode, root.mtime = tarfile.DIRTYPE, 0o755, int(src.stat().st_mtime)
        tar.addfile(root)
        for p in sorted(src.iterdir()):
            if p.is_file():
                info = tar.gettarinfo(str(p), arcname=f"./{p.name}")
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                with open(p, "rb") as f:
                    tar.addfile(info, f)
    data = gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)
    tgz = out_dir / filename
    tmp = tgz.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, tgz)
    digest = hashlib.sha256(data).hexdigest()
    (out_dir / f"{filename}.sha256").write_text(f"{digest}  {filename}\n")
    return digest


def start_server(directory: Path, host: str, port: int, pid_file: Path, log_file: Path) -> int:
    pid = read_pid(pid_file)
    if alive(pid):
        assert pid is not None
        return pid
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", host, "--directory", str(directory)]
    pid = spawn(argv, pid_file=pid_file, log_file=log_file)
    if not wait_port(host, port, timeout=10, pid=pid):
        raise RuntimeError(f"artifact server did not start on {host}:{port}; see {log_file}")
    return pid
