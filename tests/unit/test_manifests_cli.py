"""`runbook manifests patch|diff` (apply is exercised against the lab API in tests/lab)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbooklib.cli import main
from runbooklib.manifests import load_upstream, prepare_manifests
from runbooklib.params import load_params

REPO = Path(__file__).resolve().parents[2]
UPSTREAM = REPO.parent / "shared" / "upstream"
LAB_PARAMS = REPO / "params" / "lab.yaml"


def test_patch_writes_verified_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["manifests", "patch", "--params", str(LAB_PARAMS), "--out", str(tmp_path / "out"), "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["refused"] is False and len(out["written"]) == 4
    assert [h["count"] for h in out["verification"]["multus"]["hits"]] == [1, 1]
    assert all(s["verified"] for s in out["sources"])
    text = (tmp_path / "out" / "multus-daemonset-thick.yml").read_text()
    assert "            path: /var/lib/rancher/k3s/agent/etc/cni/net.d\n" in text
    assert (tmp_path / "out" / "whereabouts.cni.cncf.io_ippools.yaml").read_bytes() == \
        (UPSTREAM / "whereabouts.cni.cncf.io_ippools.yaml").read_bytes()


def test_refused_patch_writes_nothing_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    moved = tmp_path / "multus-moved.yml"
    moved.write_text((UPSTREAM / "multus-daemonset-thick.yml").read_text().replace(
        "            path: /etc/cni/multus/net.d\n", "            path: /etc/cni/multus/net.d/\n"))
    out_dir = tmp_path / "out"
    rc = main(["manifests", "patch", "--params", str(LAB_PARAMS), "--multus-manifest", str(moved), "--out", str(out_dir)])
    assert rc == 1
    assert not out_dir.exists()
    assert "refusing to patch" in capsys.readouterr().err
    rc = main(["manifests", "patch", "--params", str(LAB_PARAMS), "--multus-manifest", str(moved), "--out", str(out_dir), "--json"])
    assert rc == 1 and json.loads(capsys.readouterr().out)["refused"] is True and not out_dir.exists()


def test_bad_params_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cluster: Not_Valid\nnodes: []\n")
    assert main(["manifests", "patch", "--params", str(bad)]) == 2
    assert "problem(s) in params" in capsys.readouterr().err


def test_diff_prints_unified_diff(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifests", "diff", "--params", str(LAB_PARAMS), "--pin-images"]) == 0
    out = capsys.readouterr().out
    assert "--- upstream/multus-daemonset-thick.yml" in out and "+++ patched/whereabouts-daemonset-install.yaml" in out
    assert "+          image: ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.2-thick" in out


def test_override_that_differs_from_pin_is_reported(tmp_path: Path) -> None:
    params = load_params(LAB_PARAMS, require_files=False)
    other = tmp_path / "multus.yml"
    other.write_text((UPSTREAM / "multus-daemonset-thick.yml").read_text() + "# local edit\n")
    up = load_upstream(params, multus_manifest=other)
    assert up.multus.matches_pin is False and up.whereabouts.matches_pin is True
    pm = prepare_manifests(params, multus_manifest=other)
    assert any(f.check == "manifests.source" for f in pm.findings)
