"""Helpers for lab tests that bring up a lab of their own (imported by conftest.py and by tests).

Each lab gets its own cluster name, state dir (/var/tmp/runbooklib-labtest-<pid>-<tag>) and
management CIDR, so it never touches a demo lab or another test session.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from runbooklib.params import load_params

TEST_STATE_GLOB = "runbooklib-labtest-"


def _pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def cleanup_stale_test_labs() -> None:
    from runbooklib.lab.lab import Lab

    for d in Path("/var/tmp").glob(TEST_STATE_GLOB + "*"):
        tail = d.name[len(TEST_STATE_GLOB):].split("-")[0]
        if not tail.isdigit() or _pid_alive(int(tail)) or not (d / "params.yaml").exists():
            continue
        Lab.from_params(load_params(d / "params.yaml", require_files=False)).down()


def _free_mgmt_cidr(seed: int) -> str:
    import json
    import subprocess

    used = set()
    out = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True, check=True).stdout  # noqa: S603,S607
    for link in json.loads(out):
        for a in link.get("addr_info", []):
            used.add(a.get("local"))
    for k in range(100):
        third = 100 + (seed + k) % 150
        cidr = f"198.19.{third}.0/24"
        if str(ipaddress.ip_network(cidr).network_address + 1) not in used:
            return cidr
    raise RuntimeError("no free 198.19.x.0/24 for a test lab")


def make_lab_params(tmp: Path, tag: str, n_nodes: int) -> Path:
    from runbooklib.lab.testparams import write_lab_params

    pid = os.getpid()
    state_dir = f"/var/tmp/{TEST_STATE_GLOB}{pid}-{tag}"
    return write_lab_params(tmp / f"lab-{tag}.yaml", cluster=f"t{pid}-{tag}", n_nodes=n_nodes, state_dir=state_dir,
                            mgmt_cidr=_free_mgmt_cidr(pid + sum(map(ord, tag))))
