"""Build the lab's multicall executable: a Python zipapp of `nodeside/` run by the node's /usr/bin/python3.

The same file is installed as `whereabouts`, `multus-shim` and `passthru` (it dispatches on its
own name) and runs the lab helpers (`containerd`, `view`) inside nodes. It contains stub
`runbooklib/__init__.py` files so the node side imports nothing but the stdlib.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

NODESIDE = Path(__file__).parent / "nodeside"
SHEBANG = b"#!/usr/bin/python3\n"
MAIN = "import sys\nfrom runbooklib.lab.cni.nodeside.main import main\nsys.exit(main())\n"


def build_bytes(flavour: str = "") -> bytes:
    """The zipapp's bytes (deterministic for the same sources and flavour)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        def add(name: str, text: str) -> None:
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
        add("__main__.py", MAIN)
        for pkg in ("runbooklib", "runbooklib/lab", "runbooklib/lab/cni"):
            add(f"{pkg}/__init__.py", "")
        for src in sorted(NODESIDE.glob("*.py")):
            add(f"runbooklib/lab/cni/nodeside/{src.name}", src.read_text())
        add("BUILD", f"runbooklib lab multicall {flavour}\n")
    return SHEBANG + buf.getvalue()


def write(path: Path, flavour: str = "") -> Path:
    """Write the zipapp atomically (mode 0755) if its content changed; returns the path."""
    data = build_bytes(flavour)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest():
        return path
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
    return path
