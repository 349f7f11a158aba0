"""longhorn-storage-network against the lab (root): Longhorn's settings CRD in the lab API and
instance-manager-like pods attached through the lab's CNI chain (Multus thick + macvlan +
whereabouts). Correct wiring -> every node attached, addresses in the pool; each broken wiring
-> the right failure and a fix that, applied, brings the check back to ok.

Own lab: cluster lh<pid>, state dir /var/tmp/runbooklib-lhlab-<pid>, management 198.19.192.0/24
(or the next free /24), storage subnet 198.18.208.0/24.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from podnet_lab import NAD, NAD_NS, LabSession, podnet_params

from runbooklib.checks.longhorn import HOLDER_KIND, LONGHORN_HOLDER, label_longhorn_holders
from runbooklib.checks.longhorn_gather import longhorn_storage_network
from runbooklib.checks.model import CheckResult
from runbooklib.lab import longhorn as lh
from runbooklib.results import Severity

pytestmark = pytest.mark.lab
STORAGE = "198.18.208.0/24"
POOL = (ipaddress.ip_address("198.18.208.240"), ipaddress.ip_address("198.18.208.254"))
SETTING = f"{NAD_NS}/{NAD}"
NODES = 2


def _free_mgmt() -> str:
    out = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True, check=True).stdout  # noqa: S603,S607
    used = {a.get("local") for link in json.loads(out) for a in link.get("addr_info", [])}
    for third in range(192, 200):
        if f"198.19.{third}.1" not in used:
            return f"198.19.{third}.0/24"
    raise RuntimeError("no free 198.19.192-199.x/24 for the longhorn lab")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    if os.geteuid() != 0:
        pytest.skip("lab test needs root")
    pid = os.getpid()
    pfile = podnet_params(tmp_path_factory.mktemp("lh") / "lh.yaml", cluster=f"lh{pid}",
                          state_dir=f"/var/tmp/runbooklib-lhlab-{pid}", mgmt_cidr=_free_mgmt(),
                          storage_cidr=STORAGE, nodes=NODES)
    s = LabSession(pfile)
    try:
        s.install()
        yield s
    finally:
        s.down()


def _nodes(lab: LabSession) -> list[str]:
    return [n.name for n in lab.params.nodes]


def _check(lab: LabSession) -> CheckResult:
    return longhorn_storage_network(lab.params, api_client=lab.client)


def _apply(lab: LabSession, broken: str | None = None, setting: str = SETTING) -> None:
    lh.apply_longhorn(lab.client, _nodes(lab), setting, broken=broken)


def _assert_ok(result: CheckResult, lab: LabSession) -> None:
    assert result.severity is Severity.OK, result.frame().to_string()
    rows = result.tables["nodes"]
    assert sorted(r["node"] for r in rows) == sorted(_nodes(lab))
    for r in rows:
        assert r["attached"] and r["interface"] == "lhnet1" and r["in_pool"], r
        assert POOL[0] <= ipaddress.ip_address(r["address"]) <= POOL[1]
        assert r["nic"] == "ens2" and r["nic_mtu"] is not None
    assert len({r["address"] for r in rows}) == len(rows)


def _fix(lab: LabSession, result: CheckResult) -> None:
    """Apply what the setting finding proposes (its right value), as longhorn-manager would."""
    setting = result.findings[0]
    assert any(f'"value": "{SETTING}"' in c for c in setting.fix), setting.fix
    _apply(lab, setting=setting.evidence["right_value"])


def test_correct_wiring_every_node_attached_in_pool(lab: LabSession) -> None:
    _apply(lab)
    _assert_ok(_check(lab), lab)


def test_occupancy_labels_longhorn_addresses(lab: LabSession) -> None:
    from runbooklib.checks.longhorn_gather import gather_longhorn
    from runbooklib.occupancy import occupancy_for_params

    occ = occupancy_for_params(lab.params, api_client=lab.client, include_free=False)
    frame = label_longhorn_holders(occ.frame, gather_longhorn(lab.params, lab.client, probe=False).pods)
    held = frame[frame[HOLDER_KIND] == LONGHORN_HOLDER]
    assert len(held) == NODES and set(held["state"]) == {"allocated"}, frame.to_string()


def test_setting_empty_fails_then_fix(lab: LabSession) -> None:
    _apply(lab, broken="setting-empty")
    r = _check(lab)
    f = r.findings[0]
    assert f.severity is Severity.FAIL and "storage network off" in f.title
    assert all(not row["attached"] for row in r.tables["nodes"])
    _fix(lab, r)
    _assert_ok(_check(lab), lab)


def test_nad_name_wrong_fails_then_fix(lab: LabSession) -> None:
    _apply(lab, broken="nad-name-wrong")
    r = _check(lab)
    f = r.findings[0]
    assert f.severity is Severity.FAIL and "does not exist" in f.title and f.evidence["right_value"] == SETTING
    rows = r.tables["nodes"]
    assert rows and all(row["severity"] == "fail" and not row["attached"] for row in rows)
    assert all("cannot find a network-attachment-definition" in row["reason"] for row in rows), rows
    _fix(lab, r)
    _assert_ok(_check(lab), lab)


def test_nad_namespace_wrong_fails(lab: LabSession) -> None:
    _apply(lab, broken="nad-namespace-wrong")
    f = _check(lab).findings[0]
    assert f.severity is Severity.FAIL and "wrong namespace" in f.detail and f.evidence["right_value"] == SETTING


def test_pod_without_network_status_fails_then_fix(lab: LabSession) -> None:
    _apply(lab, broken="no-network-status")
    r = _check(lab)
    assert r.findings[0].severity is Severity.OK  # the setting itself is right
    rows = r.tables["nodes"]
    assert all(row["status_annotation"] == "missing" and row["severity"] == "fail" for row in rows), rows
    pod_findings = [f for f in r.problems if f.evidence.get("pod")]
    assert pod_findings and all("no network-status annotation" in f.detail for f in pod_findings)
    assert all(any("pods/status" in c for c in f.fix) and any("delete pod" in c for c in f.fix) for f in pod_findings)
    _apply(lab)  # the fix's last step: recreate the pods (Multus writes the status again)
    _assert_ok(_check(lab), lab)


# --- the notebook, headless (`runbook run`'s library call), on the same lab: JSON results only --------


def _run_notebook(lab: LabSession, out: Path) -> tuple[int, dict[str, Any]]:
    from runbooklib.reports import run_notebook

    res = run_notebook("longhorn-storage-network", lab.params_file, {"show_occupancy": True}, out)
    assert res.error is None, str(res.error)
    assert res.results["published"], res.results["notes"]
    on_disk = json.loads(res.results_path.read_text())
    assert on_disk["status"] == res.results["status"] and on_disk["run"]["exit_code"] == res.exit_code
    return res.exit_code, on_disk


def test_notebook_correct_wiring_ok(lab: LabSession, tmp_path: Path) -> None:
    _apply(lab)
    code, res = _run_notebook(lab, tmp_path / "ok")
    assert res["status"] == "ok", [(f["title"], f["detail"]) for f in res["findings"] if f["severity"] != "ok"]
    assert code == 0
    rows = res["tables"]["longhorn_nodes"]
    assert sorted(r["node"] for r in rows) == sorted(_nodes(lab)), rows
    for r in rows:
        assert r["attached"] and r["interface"] == "lhnet1" and r["in_pool"] and r["severity"] == "ok", r
        assert POOL[0] <= ipaddress.ip_address(r["address"]) <= POOL[1], r
    assert len({r["address"] for r in rows}) == len(rows)


def test_notebook_setting_empty_fails(lab: LabSession, tmp_path: Path) -> None:
    _apply(lab, broken="setting-empty")
    try:
        code, res = _run_notebook(lab, tmp_path / "empty")
    finally:
        _apply(lab)  # leave the lab correctly wired
    assert res["status"] == "fail" and code == 1
    failed = [f for f in res["findings"] if f["severity"] == "fail"]
    assert any("storage network off" in f["title"] for f in failed), res["findings"]
    rows = res["tables"]["longhorn_nodes"]
    assert sorted(r["node"] for r in rows) == sorted(_nodes(lab)) and not any(r["attached"] for r in rows), rows
