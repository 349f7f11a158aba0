"""The notebook helpers (runbooklib.checks.notebook): every selection, loop and conditional the
runbook notebooks need, so the notebooks stay calls and tables. No cluster, no kernel."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from runbooklib.checks import install, notebook
from runbooklib.checks.install import StepResult
from runbooklib.checks.model import CheckResult
from runbooklib.checks.repair import RepairOutcome
from runbooklib.results import Finding, Severity, problems


def finding(title: str, severity: Severity = Severity.OK, detail: str = "") -> Finding:
    return Finding("c", title, severity, "n1", detail)


def step(name: str, status: Severity = Severity.OK) -> StepResult:
    return StepResult(name, status, f"{name} done", [finding(f"{name} ran", status)])


@pytest.mark.parametrize(("nodes", "expected"), [([], None), (None, None), (["n1", "n2"], ["n1", "n2"]), (("n2",), ["n2"])])
def test_selected_nodes(nodes: Any, expected: list[str] | None) -> None:
    got = notebook.selected_nodes(nodes)
    assert got == expected
    if nodes:
        assert got is not nodes  # a fresh list: the check may not change the parameter
    assert notebook.selected_nodes(got) == expected  # running the setup cell twice changes nothing


def test_show_check_prints_status_with_or_without_notes(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr("runbooklib.report._display_html", shown.append)
    result = CheckResult("cnf", [finding("a", Severity.WARN)], notes=["n one", "n two"], tables={"files": [{"path": "/x"}]})
    notebook.show_check(result)
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "cnf: WARN; n one; n two"
    assert len(shown) == 1 and shown[0].startswith("<h4>files</h4><table") and "/x" in shown[0]  # via show_table
    notebook.show_check(result, with_notes=False)
    assert capsys.readouterr().out.splitlines()[-1] == "cnf: WARN"
    notebook.show_check(CheckResult("cnf", []))
    assert capsys.readouterr().out == "cnf: OK; \n"  # unchanged from the former notebook cell


def test_show_repair(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr("runbooklib.report._display_html", shown.append)
    notebook.show_repair(RepairOutcome(nodes=[], reason="nothing to repair"))
    assert capsys.readouterr().out == "nothing to repair\n" and shown == []
    plan = SimpleNamespace(frame=lambda: pd.DataFrame({"node": ["n1"], "operation": ["PLAN OP"]}))
    notebook.show_repair(RepairOutcome(nodes=["n1"], plan=plan, reason="planned"))  # type: ignore[arg-type]
    assert capsys.readouterr().out.splitlines() == ["planned"]
    assert len(shown) == 1 and "PLAN OP" in shown[0] and "<th" in shown[0]  # the plan as a table, no index


def test_repaired_and_after_repair() -> None:
    before, after = CheckResult("c", [finding("x", Severity.FAIL)]), CheckResult("c", [finding("x")])
    nothing = RepairOutcome(nodes=["n1"], plan=SimpleNamespace(recaps=[]))  # type: ignore[arg-type]
    applied = RepairOutcome(nodes=["n1"], applied=SimpleNamespace(recaps=[]))  # type: ignore[arg-type]
    restarted = RepairOutcome(nodes=["n1"], restarted=[SimpleNamespace()])  # type: ignore[list-item]
    assert notebook.repaired(nothing, after) is None
    assert notebook.after_repair(before, nothing, after) is before
    for outcome in (applied, restarted):
        assert notebook.repaired(outcome, after) is after
        assert notebook.after_repair(before, outcome, after) is after


def test_kubeconfig_notes() -> None:
    result = CheckResult("config-not-found", [])
    assert notebook.kubeconfig_notes(result, "") == []
    assert notebook.kubeconfig_notes(result, "/etc/k.conf") == ["kubeconfig from the error: /etc/k.conf: no node evidence"]


def test_run_test_pods(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    result = CheckResult("upgrade-check", [finding("before")])
    assert notebook.run_test_pods(object(), result, enabled=False) == []  # type: ignore[arg-type]
    assert capsys.readouterr().out == "test pod skipped (test_pod = False)\n"
    assert len(result.findings) == 1

    seen: dict[str, Any] = {}
    nads = [SimpleNamespace(name="a", origin="cluster"), SimpleNamespace(name="b", origin="params")]
    monkeypatch.setattr("runbooklib.checks.model.nads_for", lambda params, cluster: nads)

    def fake_test_pod_findings(params: Any, check: str, targets: list[Any]) -> list[Finding]:
        seen.update(check=check, targets=[n.name for n in targets])
        return [finding("test pod attached net1", Severity.OK), finding("no net1", Severity.FAIL, "timeout")]

    monkeypatch.setattr("runbooklib.checks.run.test_pod_findings", fake_test_pod_findings)
    got = notebook.run_test_pods(object(), result)  # type: ignore[arg-type]
    assert seen == {"check": "upgrade-check", "targets": ["a"]}  # only the NADs in the cluster
    assert [f.title for f in result.findings] == ["before", "test pod attached net1", "no net1"]
    assert got == result.findings[1:]
    assert capsys.readouterr().out.splitlines() == ["OK   n1: test pod attached net1", "FAIL n1: no net1 (timeout)"]


def test_problems() -> None:
    fs = [finding("ok"), finding("warn", Severity.WARN), finding("fail", Severity.FAIL)]
    assert [f.title for f in problems(fs)] == ["warn", "fail"]


def test_next_step_runs_only_after_an_ok_step() -> None:
    done: list[StepResult] = []
    first = notebook.next_step(done, "node prep", "", lambda: step("node prep"))
    assert done == [first] and first.ok
    second = notebook.next_step(done, "manifests", "node prep", lambda: step("manifests", Severity.FAIL))
    assert done == [first, second]
    ran: list[str] = []
    third = notebook.next_step(done, "rollout", "manifests", lambda: ran.append("x") or step("rollout"))
    assert ran == [] and done[-1] is third
    assert third.row() == install.skipped("rollout", "manifests failed").row()
    assert notebook.step_rows(done) == [s.row() for s in done]
    assert notebook.step_rows(done)[0] == {"step": "node prep", "status": "ok", "summary": "node prep done"}


def test_install_rollout_and_test_pod_dry_run_do_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr("runbooklib.report.publish", lambda **kw: calls.append("publish"))
    monkeypatch.setattr(install, "rollout", lambda *a, **kw: calls.append("rollout"))
    monkeypatch.setattr(install, "test_pod", lambda *a, **kw: calls.append("test_pod"))
    done = [step("manifests")]
    assert notebook.install_rollout(object(), done, dry_run=True) is None  # type: ignore[arg-type]
    assert notebook.install_test_pod(object(), object(), done, dry_run=True) is None  # type: ignore[arg-type]
    assert calls == [] and len(done) == 1


def test_install_rollout_and_test_pod(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    published: list[dict[str, Any]] = []
    monkeypatch.setattr("runbooklib.report.publish", lambda **kw: published.append(kw))
    rolled = StepResult("rollout", Severity.OK, "2 ready", data={"text": "multus ready\nwhereabouts ready"})
    monkeypatch.setattr(install, "rollout", lambda api, timeout_s: rolled if timeout_s == 42 else None)
    done = [step("manifests")]
    assert notebook.install_rollout(object(), done, dry_run=False, timeout_s=42, results_path="r.json") is None  # type: ignore[arg-type]
    assert done[-1] is rolled
    assert capsys.readouterr().out == "multus ready\nwhereabouts ready\n"
    assert published == [{"findings": [], "title": "rollout", "results_path": "r.json"}]

    pod = StepResult("test pod", Severity.OK, "attached", [finding("test pod attached net1")], table=[{"pod": "t"}])
    monkeypatch.setattr(install, "test_pod", lambda params, api, image, nad: pod if (image, nad) == ("img", "d/s") else None)
    verify = CheckResult("verify", [finding("fine"), finding("bad", Severity.FAIL)], tables={"files": [{"f": 1}]})
    monkeypatch.setattr(install, "verify_install", lambda params, api_client, nodes, test_pod: verify)
    published.clear()
    notebook.install_test_pod(object(), object(), done, dry_run=False, image="img", nad="d/s", results_path="r.json")  # type: ignore[arg-type]
    assert done[-1] is pod
    assert [f.title for f in published[0]["findings"]] == ["test pod attached net1", "bad"]
    assert published[0]["tables"] == {"test pod": [{"pod": "t"}], "files": [{"f": 1}]}
    assert published[0]["title"] == "test pod and verification"

    done.append(step("NADs", Severity.FAIL))
    published.clear()
    notebook.install_test_pod(object(), object(), done, dry_run=False)  # type: ignore[arg-type]
    assert done[-1].row() == install.skipped("test pod", "NADs failed").row()


def test_longhorn_occupancy(monkeypatch: pytest.MonkeyPatch) -> None:
    assert notebook.longhorn_occupancy(object(), enabled=False) is None  # type: ignore[arg-type]
    frame = pd.DataFrame({"address": ["198.18.205.10"], "holder": ["longhorn-system/instance-manager-x"]})
    seen: dict[str, Any] = {}

    def fake_occupancy(params: Any, *, include_free: bool) -> Any:
        seen["include_free"] = include_free
        return SimpleNamespace(frame=frame)

    monkeypatch.setattr("runbooklib.occupancy.occupancy_for_params", fake_occupancy)
    monkeypatch.setattr("runbooklib.checks.longhorn_gather.gather_longhorn",
                        lambda params, probe: SimpleNamespace(pods=["pod"]) if probe is False else None)
    monkeypatch.setattr("runbooklib.checks.longhorn.label_longhorn_holders",
                        lambda f, pods: f.assign(holder_kind=["longhorn instance-manager"]) if pods == ["pod"] else None)
    got = notebook.longhorn_occupancy(object())  # type: ignore[arg-type]
    assert seen == {"include_free": False}
    assert got is not None and got["holder_kind"].tolist() == ["longhorn instance-manager"]


def test_present_tables() -> None:
    nodes = pd.DataFrame({"node": ["n1"]})
    assert notebook.present_tables({"longhorn_nodes": nodes, "occupancy": None}) == {"longhorn_nodes": nodes}
    both = notebook.present_tables({"b": [], "a": nodes})
    assert list(both) == ["b", "a"]
