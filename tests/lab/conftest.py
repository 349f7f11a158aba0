"""Lab fixtures: one lab per test session, from a generated params file with its own cluster name,
state dir (/var/tmp/runbooklib-labtest-<pid>) and management CIDR, so it never touches a demo lab
(`params/lab.yaml`, prefix rbl-) or another test session. Stale test labs of dead sessions are
torn down first.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

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


@pytest.fixture
def make_params() -> object:
    """`make_params(tmp_dir, tag, n_nodes) -> Path`: params for an extra lab of a test's own."""
    return make_lab_params


@pytest.fixture(scope="session")
def lab_params_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.geteuid() != 0:
        pytest.skip("lab test needs root")
    return make_lab_params(tmp_path_factory.mktemp("lab"), "s", n_nodes=3)


@pytest.fixture(scope="session")
def lab(lab_params_file: Path) -> Iterator[object]:
    """A running lab (runbooklib.lab.lab.Lab) for the whole session; torn down at the end."""
    from runbooklib.lab.lab import Lab

    cleanup_stale_test_labs()
    lab = Lab.from_params(load_params(lab_params_file, require_files=False))
    lab.up()
    try:
        yield lab
    finally:
        lab.down()
