"""Repairs: plan first, apply only when asked; only what node prep (or a pod restart) fixes."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from runbooklib.checks.model import CheckResult
from runbooklib.checks.plugins import check_failed_to_find_plugin
from runbooklib.results import NodeRecap, Status
from tests.unit.checks_fixtures import cluster, ctx, nads, node, params

rp = importlib.import_module("runbooklib.checks.repair")  # the package re-exports the function `repair`


class FakePrep:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, params: Any, *, plan_only: bool = False, nodes: Any = None, **kw: Any) -> Any:
        self.calls.append({"plan_only": plan_only, "nodes": list(nodes or [])})
        from runbooklib.nodes.prep import PrepResult
        from runbooklib.remote.journal import Journal

        return PrepResult("plan" if plan_only else "apply", [NodeRecap(n, Status.CHANGED) for n in nodes or []], Journal())


def _broken() -> CheckResult:
    return check_failed_to_find_plugin(ctx(), {"n1": node("n1", "healthy"), "n2": node("n2", "opt_symlink")}, cluster(), nads())


@pytest.fixture
def prep(monkeypatch: pytest.MonkeyPatch) -> FakePrep:
    fake = FakePrep()
    monkeypatch.setattr(rp, "prep_nodes", fake)
    return fake


def test_dry_run_only_plans(prep: FakePrep) -> None:
    out = rp.repair(params(), _broken())
    assert [c["plan_only"] for c in prep.calls] == [True] and prep.calls[0]["nodes"] == ["n2"]
    assert out.applied is None and "not applied" in out.reason


def test_repair_true_plans_then_applies(prep: FakePrep) -> None:
    out = rp.repair(params(), _broken(), repair=True)
    assert [c["plan_only"] for c in prep.calls] == [True, False]
    assert out.applied is not None and out.ok


def test_confirmation_decides(prep: FakePrep) -> None:
    seen = []
    out = rp.repair(params(), _broken(), confirm=lambda plan: seen.append(plan) or False)
    assert seen and out.applied is None
    assert rp.repair(params(), _broken(), confirm=lambda plan: True).applied is not None


def test_nothing_to_repair(prep: FakePrep) -> None:
    res = check_failed_to_find_plugin(ctx(), {"n1": node("n1", "healthy")}, cluster(), nads())
    out = rp.repair(params(), res, repair=True)
    assert not prep.calls and out.plan is None and out.applied is None


def test_missing_shim_copy_asks_for_a_pod_restart() -> None:
    ev = node("n1", "healthy")
    ev.fs["/opt/cni/bin/multus-shim"] = "missing"
    ev.fs["/opt/cni/bin"] = ev.fs["/opt/cni/bin"].replace("multus-shim, ", "")
    res = check_failed_to_find_plugin(ctx(), {"n1": ev}, cluster(), nads())
    assert res.pod_restarts() == [("kube-multus-ds", "n1")] and res.repairable_nodes() == []


def test_widget_panel_plans_before_it_repairs(prep: FakePrep, monkeypatch: pytest.MonkeyPatch) -> None:
    from runbooklib.checks.notebook import check_panel

    panel = check_panel(params(), lambda nodes: _broken(), title="t")
    panel.run_button.click()
    assert panel.findings and not prep.calls
    panel.repair_button.click()  # shows the node-prep plan and asks
    assert [c["plan_only"] for c in prep.calls] == [True] and panel.confirming
    panel.confirm_button.click()
    assert [c["plan_only"] for c in prep.calls][-1] is False
