"""Every runbook notebook run with papermill (`runbook run`'s library call) against one lab,
asserting on the JSON results, never on printed text. Runs are few and build on each other:
install -> upgrade-check -> (break -> troubleshooting notebook with repair) x3 -> ip-occupancy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.notebooks.labparams import installed_lab

    yield from installed_lab(tmp_path_factory.mktemp("nb"), "nb", install_it=False)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("out")


def run(lab: Any, out: Path, name: str, **parameters: Any) -> dict[str, Any]:
    from runbooklib.reports import run_notebook

    res = run_notebook(name, lab.params_file, parameters, out / name)
    assert res.error is None, str(res.error)
    assert res.html_path is not None and res.html_path.is_file()
    assert res.results["published"], res.results["notes"]
    return res.results


def _break(lab: Any, scenario: str, node: str = "n2") -> None:
    from runbooklib.lab import scenarios
    from runbooklib.lab.state import LabState

    scenarios.break_node(LabState.load(Path(lab.params.lab.state_dir)), scenario, node)


def _titles(rows: list[dict[str, Any]]) -> list[str]:
    return [str(r.get("title")) for r in rows]


def test_01_install(lab: Any, out: Path) -> None:
    res = run(lab, out, "install", dry_run=False)
    assert res["status"] != "fail", [f["title"] for f in res["findings"] if f["severity"] == "fail"]
    steps = {r["step"]: r["status"] for r in res["tables"]["steps"]}
    assert list(steps) == ["node prep", "manifests", "rollout", "NADs", "test pod"]
    assert all(s != "fail" for s in steps.values())
    pod = [f for f in res["findings"] if f["title"].startswith("test pod attached net1")]
    assert pod and pod[0]["evidence"]["in_pool"][0].startswith("198.18.207.2")


def test_02_upgrade_check_clean(lab: Any, out: Path) -> None:
    res = run(lab, out, "upgrade-check")
    assert res["status"] == "ok", [f["title"] for f in res["findings"] if f["severity"] != "ok"]
    assert any(f["title"].startswith("test pod attached net1") for f in res["findings"])


def test_03_failed_to_find_plugin_dry_run_then_repair(lab: Any, out: Path) -> None:
    _break(lab, "opt-cni-bin-symlink")
    dry = run(lab, out, "failed-to-find-plugin", plugin="flannel", bin_dirs=["/opt/cni/bin"])
    assert dry["status"] == "fail"
    assert "repair plan (node prep, not applied)" in dry["tables"]
    assert any(f["title"] == "/opt/cni/bin is a symlink, not a real directory" for f in dry["findings"])
    fixed = run(lab, out, "failed-to-find-plugin", dry_run=False)
    assert fixed["status"] == "ok", [f["title"] for f in fixed["findings"] if f["severity"] != "ok"]
    assert "/opt/cni/bin is a symlink, not a real directory" in _titles(fixed["tables"]["findings before repair"])
    assert [r["node"] for r in fixed["recaps"]] == ["n2"]


def test_04_config_not_found_repair(lab: Any, out: Path) -> None:
    _break(lab, "whereabouts-link-missing")
    res = run(lab, out, "config-not-found", dry_run=False, nad="default/storage-207")
    assert res["status"] == "ok", [f["title"] for f in res["findings"] if f["severity"] != "ok"]
    before = _titles(res["tables"]["findings before repair"])
    assert "whereabouts.conf not found at any path whereabouts searches" in before


def test_05_upgrade_check_after_k3s_upgrade(lab: Any, out: Path) -> None:
    _break(lab, "k3s-upgrade")
    res = run(lab, out, "upgrade-check", dry_run=False)
    assert res["status"] == "ok", [f["title"] for f in res["findings"] if f["severity"] != "ok"]
    before = _titles(res["tables"]["findings before repair"])
    assert "/var/lib/rancher/k3s/data/cni/multus-shim does not resolve" in before
    assert "/opt/cni/bin/flannel is stale" in before
    assert any(f["title"].startswith("test pod attached net1") for f in res["findings"])


def test_06_ip_occupancy(lab: Any, out: Path) -> None:
    res = run(lab, out, "ip-occupancy")
    assert res["status"] != "fail", [f["title"] for f in res["findings"] if f["severity"] == "fail"]
    assert res["tables"]["addresses"] and res["tables"]["summary"]
