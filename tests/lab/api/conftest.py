"""Fixtures: a lab API server on a temp dir, an official-client ApiClient, and a kubectl runner."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from runbooklib.lab.api import LabApiServer

UPSTREAM = Path(__file__).resolve().parents[3] / ".." / "shared" / "upstream"
NODES = ["lab-n1", "lab-n2", "lab-n3"]
KUBECTL = shutil.which("kubectl") or ("/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else None)


def _upstream_files() -> list[Path]:
    files = sorted(UPSTREAM.resolve().glob("*.y*ml")) if UPSTREAM.exists() else []
    if not files:
        pytest.skip(f"upstream manifests not found under {UPSTREAM.resolve()}")
    return files


@pytest.fixture
def upstream_files() -> list[Path]:
    """The upstream manifests in ../shared/upstream (skips the test if absent)."""
    return _upstream_files()


@pytest.fixture
def upstream_docs() -> list[dict[str, Any]]:
    """All YAML documents of the upstream manifests."""
    return [d for f in _upstream_files() for d in yaml.safe_load_all(f.read_text()) if d]


@pytest.fixture
def lab_api(tmp_path: Path) -> Iterator[LabApiServer]:
    api = LabApiServer(tmp_path / "state", nodes=NODES).start()
    yield api
    api.stop()


@pytest.fixture
def kubeconfig(lab_api: LabApiServer, tmp_path: Path) -> Path:
    return lab_api.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[client.ApiClient]:
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    with client.ApiClient(cfg) as api:
        yield api


@pytest.fixture
def with_crds(lab_api: LabApiServer, api_client: client.ApiClient, upstream_docs: list[dict[str, Any]]) -> None:
    ext = client.ApiextensionsV1Api(api_client)
    for crd in (d for d in upstream_docs if d["kind"] == "CustomResourceDefinition"):
        ext.create_custom_resource_definition(crd)


@pytest.fixture
def kubectl(kubeconfig: Path, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed (looked on PATH and at /usr/bin/kubectl)")
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(KUBECTL), "--cache-dir", str(tmp_path / "kcache"), *args]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)  # noqa: S603
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run
