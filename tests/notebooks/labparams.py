"""An installed lab for the checks and notebook tests: lab params (own cluster name, state dir,
mgmt CIDR) plus the pinned upstream manifests and one NAD, `lab up`, then the install runbook."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from runbooklib.params import Params, load_params

UPSTREAM = Path(__file__).resolve().parents[2] / ".." / "shared" / "upstream"
MANIFESTS = {
    "multus_manifest": ("multus-daemonset-thick.yml", "5ae5d2b0d63e0f058ab42dcd0a611479a271d850899c1e8369999901943f56cc"),
    "whereabouts_manifest": ("whereabouts-daemonset-install.yaml",
                             "c0d0a429eff59b7ca7620b5f0fe77f5821c569156bd2f56a64d1d2c38ae9a01e"),
}
CRDS = (("whereabouts.cni.cncf.io_ippools.yaml", "8957e53f260e5ee0ad6560743d02c609ff21e15f6c3b23851971522b3bf6027a"),
        ("whereabouts.cni.cncf.io_overlappingrangeipreservations.yaml",
         "59ff31b1cbe8ff7732160f3f533a71884c4bb03b18d2aa48c97b0a2aadcc4cb0"))
STORAGE = "198.18.207.0/24"


@dataclass
class InstalledLab:
    params_file: Path
    params: Params
    lab: object


def write_params(tmp: Path, tag: str) -> Path:
    from runbooklib.lab.testparams import lab_params
    from tests.lab.labhelpers import TEST_STATE_GLOB, _free_mgmt_cidr

    pid = os.getpid()
    d = lab_params(cluster=f"t{pid}-{tag}", n_nodes=3, state_dir=f"/var/tmp/{TEST_STATE_GLOB}{pid}-{tag}",
                   mgmt_cidr=_free_mgmt_cidr(pid + 128 + sum(map(ord, tag))), storage_cidr=STORAGE)
    for key, (name, sha) in MANIFESTS.items():
        d["artifacts"][key] = {"local": str((UPSTREAM / name).resolve()), "sha256": sha}
    d["artifacts"]["whereabouts_crds"] = [{"local": str((UPSTREAM / n).resolve()), "sha256": s} for n, s in CRDS]
    d["nads"] = [{"name": "storage-207", "namespace": "default", "master": "ens2", "mtu": 9000,
                  "ipam": {"range": STORAGE, "range_start": "198.18.207.240", "range_end": "198.18.207.254"}}]
    path = tmp / f"lab-{tag}.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


def installed_lab(tmp: Path, tag: str, *, install_it: bool = True) -> Iterator[InstalledLab]:
    """Generator for a fixture: lab up + install (library calls, unless not `install_it`), torn down afterwards."""
    import pytest

    from runbooklib.checks.install import install
    from runbooklib.lab.lab import Lab
    from tests.lab.labhelpers import cleanup_stale_test_labs

    if os.geteuid() != 0:
        pytest.skip("lab test needs root")
    if not UPSTREAM.is_dir():
        pytest.skip(f"{UPSTREAM} (the pinned upstream manifests) not found")
    path = write_params(tmp, tag)
    cleanup_stale_test_labs()
    lab = Lab.from_params(load_params(path, require_files=False))
    lab.up()
    try:
        params = load_params(path)
        if install_it:
            steps = install(params, rollout_timeout_s=180)
            assert all(s.ok for s in steps), [s.row() for s in steps]
        yield InstalledLab(path, params, lab)
    finally:
        lab.down()  # type: ignore[attr-defined]
