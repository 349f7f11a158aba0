"""Lab fixtures: one lab per test session, from a generated params file with its own cluster name,
state dir (/var/tmp/runbooklib-labtest-<pid>) and management CIDR, so it never touches a demo lab
(`params/lab.yaml`, prefix rbl-) or another test session. Stale test labs of dead sessions are
torn down first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from labhelpers import cleanup_stale_test_labs, make_lab_params

from runbooklib.params import load_params

LAB_API_NODES = ["kr1", "kr2", "hp1", "hp2"]


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[object]:
    """An in-process lab API (no root, loopback) whose Node objects are the reference node names."""
    from runbooklib.lab.api import LabApiServer

    server = LabApiServer(tmp_path / "state", nodes=LAB_API_NODES).start()
    try:
        yield server
    finally:
        server.stop()


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
