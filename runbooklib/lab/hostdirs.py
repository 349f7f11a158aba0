"""Host mount-point directories for the nodes' private dirs.

A bind mount needs an existing target, and the host may lack /opt/cni, /etc/cni, /var/lib/rancher...
`claim` creates the missing ones (empty; nothing is ever written into them on the host) and records
them in a small host-wide registry under /run, shared by every lab on this machine; `release`
removes them again when the last lab on the host is down (never while another lab's nodes still
have mounts on them).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

REGISTRY = Path("/run/runbooklib-lab")


@contextmanager
def _locked() -> Iterator[dict[str, list[str]]]:
    REGISTRY.mkdir(parents=True, exist_ok=True)
    with open(REGISTRY / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        reg_file = REGISTRY / "registry.json"
        try:
            reg = json.loads(reg_file.read_text())
        except (OSError, ValueError):
            reg = {"created": [], "labs": []}
        yield reg
        reg_file.write_text(json.dumps(reg, indent=1))


def claim(lab_id: str, dirs: Iterable[str]) -> list[str]:
    """Make sure each dir exists; returns the ones created now."""
    made: list[str] = []
    with _locked() as reg:
        for d in dirs:
            parts = Path(d).parts
            for i in range(2, len(parts) + 1):
                p = Path(*parts[:i])
                if not p.exists():
                    p.mkdir()
                    made.append(str(p))
        reg["created"] = sorted(set(reg["created"]) | set(made))
        if lab_id not in reg["labs"]:
            reg["labs"].append(lab_id)
    return made


def release(lab_id: str) -> list[str]:
    """Forget this lab; if no lab is left, remove the (still empty) dirs labs created. Returns removed."""
    removed: list[str] = []
    if not REGISTRY.exists():
        return removed
    with _locked() as reg:
        reg["labs"] = [x for x in reg["labs"] if x != lab_id]
        if reg["labs"]:
            return removed
        for d in sorted(reg["created"], key=lambda s: -len(s)):
            try:
                os.rmdir(d)
                removed.append(d)
            except FileNotFoundError:
                pass
            except OSError:
                continue          # not empty: something else put files there; leave it
        reg["created"] = []
    if not reg["labs"]:
        for f in ("registry.json", "lock"):
            (REGISTRY / f).unlink(missing_ok=True)
        try:
            REGISTRY.rmdir()
        except OSError:
            pass
    return removed
