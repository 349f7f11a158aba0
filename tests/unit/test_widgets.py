"""The JupyterLab panel, driven by `button.click()` with fake check/plan/repair functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbooklib.params import load_params
from runbooklib.results import Finding, NodeRecap, Severity, Status
from runbooklib.widgets import CheckPanel, check_panel, interactive

REPO = Path(__file__).resolve().parents[2]


class Fakes:
    def __init__(self) -> None:
        self.checked: list[list[str]] = []
        self.planned: list[list[str]] = []
        self.repaired: list[list[str]] = []
        self.broken = False

    def check(self, nodes: list[str]) -> list[Finding]:
        self.checked.append(nodes)
        if self.broken:
            raise RuntimeError("ssh to kr2 refused")
        fixed = bool(self.repaired)
        return [Finding("plugins", "macvlan present", Severity.OK, target=nodes[0]),
                Finding("plugins", "macvlan missing", Severity.OK if fixed else Severity.FAIL, target=nodes[-1],
                        fix=["install -m 0755 macvlan /opt/cni/bin/macvlan"])]

    def plan(self, nodes: list[str], findings: list[Finding]) -> list[dict[str, str]]:
        self.planned.append(nodes)
        return [{"node": n, "change": "copy /opt/cni/bin/macvlan"} for n in nodes]

    def repair(self, nodes: list[str], findings: list[Finding]) -> list[NodeRecap]:
        self.repaired.append(nodes)
        return [NodeRecap(node=n, status=Status.CHANGED, message="copied macvlan") for n in nodes]


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def panel(fakes: Fakes) -> CheckPanel:
    return CheckPanel(["kr1", "kr2", "hp1"], fakes.check, fakes.repair, plan_fn=fakes.plan, title="failed to find plugin")


def test_interactive_is_strict() -> None:
    assert interactive(True) and interactive("true") and interactive("Yes")
    for value in (False, None, "", "false", 0, 1, "no", "ture"):
        assert not interactive(value)


def test_nodes_from_params() -> None:
    params = load_params(REPO / "params" / "homelab.yaml")
    p = check_panel(params, check_fn=lambda nodes: [])
    assert list(p.node_boxes) == [n.name for n in params.nodes]
    assert p.repair_button.layout.display == "none"  # no repair function: no repair button


def test_check_runs_on_selected_nodes_and_shows_findings(panel: CheckPanel, fakes: Fakes) -> None:
    panel.node_boxes["hp1"].value = False
    assert panel.repair_button.disabled  # nothing to repair before a check
    panel.run_button.click()
    assert fakes.checked == [["kr1", "kr2"]]
    assert "1 fail, 0 warn, 1 ok" in panel.status.value and ">fail<" in panel.status.value
    assert "macvlan missing" in panel.output.value and "install -m 0755 macvlan" in panel.output.value
    assert not panel.repair_button.disabled


def test_repair_needs_confirmation_then_rechecks(panel: CheckPanel, fakes: Fakes) -> None:
    panel.run_button.click()
    panel.repair_button.click()
    assert fakes.repaired == [] and panel.confirming
    assert fakes.planned == [["kr1", "kr2", "hp1"]]
    assert "copy /opt/cni/bin/macvlan" in panel.output.value
    assert "Repair will change kr1, kr2, hp1" in panel.confirm_box.children[0].value

    panel.confirm_button.click()
    assert fakes.repaired == [["kr1", "kr2", "hp1"]]
    assert not panel.confirming
    assert len(fakes.checked) == 2  # re-checked after the repair
    assert "copied macvlan" in panel.output.value and "Check after repair" in panel.output.value
    assert ">ok<" in panel.status.value


def test_cancel_and_confirm_without_asking_do_nothing(panel: CheckPanel, fakes: Fakes) -> None:
    panel.run_button.click()
    panel.confirm_button.click()  # not asked yet
    assert fakes.repaired == [] and "press Repair" in panel.status.value
    panel.repair_button.click()
    panel.cancel_button.click()
    assert not panel.confirming
    panel.confirm_button.click()
    assert fakes.repaired == []


def test_errors_are_shown_not_raised(panel: CheckPanel, fakes: Fakes) -> None:
    fakes.broken = True
    panel.run_button.click()
    assert "check failed: RuntimeError: ssh to kr2 refused" in panel.status.value
    assert panel.error == "RuntimeError: ssh to kr2 refused"
    assert not panel.run_button.disabled


def test_no_nodes_selected(panel: CheckPanel, fakes: Fakes) -> None:
    for box in panel.node_boxes.values():
        box.value = False
    panel.run_button.click()
    assert fakes.checked == [] and "select at least one node" in panel.status.value
