"""Checks on a real lab, per break scenario: break -> the check finds the cause -> repair (node prep
or the DaemonSet pod restart, plan first) -> the re-check passes. One installed lab for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runbooklib.checks import config_not_found, failed_to_find_plugin, repair, upgrade_check
from runbooklib.results import Severity

pytestmark = pytest.mark.lab

NODE = "n2"
CASES = {  # scenario -> (check, a finding title that names the cause)
    "opt-cni-bin-symlink": (failed_to_find_plugin, "/opt/cni/bin is a symlink, not a real directory"),
    "plugin-missing": (failed_to_find_plugin, "plugin macvlan in /opt/cni/bin: missing"),
    "multus-shim-dangling": (failed_to_find_plugin, "/var/lib/rancher/k3s/data/cni/multus-shim does not resolve"),
    "whereabouts-link-missing": (config_not_found, "/etc/cni/net.d/whereabouts.d is missing"),
    "flannel-stale": (upgrade_check, "/opt/cni/bin/flannel is stale"),
    "k3s-upgrade": (upgrade_check, "/var/lib/rancher/k3s/data/cni/multus-shim does not resolve"),
}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from tests.notebooks.labparams import installed_lab

    yield from installed_lab(tmp_path_factory.mktemp("checks"), "c")


def _run(check, params):  # noqa: ANN001, ANN202
    return check(params, test_pod=False) if check is upgrade_check else check(params)


@pytest.mark.parametrize("scenario", list(CASES))
def test_break_check_repair_recheck(installed: object, scenario: str) -> None:
    from runbooklib.lab import scenarios
    from runbooklib.lab.state import LabState

    params = installed.params  # type: ignore[attr-defined]
    check, cause = CASES[scenario]
    scenarios.break_node(LabState.load(Path(params.lab.state_dir)), scenario, NODE)
    before = _run(check, params)
    assert before.severity is Severity.FAIL, [f.title for f in before.problems]
    assert any(f.title == cause and f.evidence.get("node") == NODE for f in before.problems), [f.title for f in before.problems]
    assert all(f.evidence.get("node") in (NODE, None) for f in before.problems)  # only the broken node
    outcome = repair(params, before, repair=True)
    assert outcome.ok, outcome.reason
    after = _run(check, params)
    assert after.severity is not Severity.FAIL, [f.title for f in after.problems]


def test_upgrade_check_with_test_pod_after_all_repairs(installed: object) -> None:
    res = upgrade_check(installed.params)  # type: ignore[attr-defined]
    assert res.severity is not Severity.FAIL, [f.title for f in res.problems]
    pod = [f for f in res.findings if f.title.startswith("test pod attached net1")]
    assert pod and pod[0].evidence["in_pool"]
