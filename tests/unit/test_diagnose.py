"""`runbook diagnose`: every rule against its own samples and near-misses (from the data), multi-line
logs, parameter extraction, the CLI's exit codes."""

from __future__ import annotations

import argparse
import io
import json
import re

import pytest

from runbooklib.cli import diagnose_cmd
from runbooklib.diagnose import RUNBOOKS, RulesError, diagnose, load_rules, match_line, parse_rules

RULES = load_rules()
SAMPLES = [(r.id, s) for r in RULES.rules for s in r.samples]
NEAR_MISSES = [(r.id, s) for r in RULES.rules for s in r.near_misses]


def test_rules_file_is_sound() -> None:
    assert set(RULES.runbooks) == set(RUNBOOKS)
    ids = {r.id for r in RULES.rules}
    for r in RULES.rules:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.id), r.id
        assert r.samples and r.near_misses, f"{r.id}: needs samples and near-misses"
        assert set(r.supersedes) <= ids, r.id
        declared = set(RULES.runbooks[r.runbook].get("parameters") or [])
        assert set(r.params) <= declared, f"{r.id}: params {set(r.params) - declared} not declared for {r.runbook}"
    assert {r.runbook for r in RULES.rules} == set(RUNBOOKS), "every runbook is reachable from some rule"


@pytest.mark.parametrize(("rule_id", "line"), SAMPLES, ids=[f"{i}:{n}" for n, (i, _) in enumerate(SAMPLES)])
def test_sample_matches_its_rule(rule_id: str, line: str) -> None:
    matches = match_line(line, RULES)
    assert rule_id in [m.rule.id for m in matches], f"{rule_id} did not match: {line}"
    m = next(m for m in matches if m.rule.id == rule_id)
    assert m.explanation and m.fix  # templates render with whatever the line provided


@pytest.mark.parametrize(("rule_id", "line"), NEAR_MISSES, ids=[f"{i}:{n}" for n, (i, _) in enumerate(NEAR_MISSES)])
def test_near_miss_does_not_match_its_rule(rule_id: str, line: str) -> None:
    assert rule_id not in [m.rule.id for m in match_line(line, RULES)]


def test_plugin_name_and_bin_dirs_are_extracted() -> None:
    d = diagnose('Warning  FailedCreatePodSandBox  Failed to create pod sandbox: plugin type="multus-shim" '
                 'name="multus-cni-network" failed (add): CmdAdd (shim): CNI request failed with status 400: '
                 "'ERRORED: error configuring pod [longhorn-system/instance-manager-0] networking: "
                 '[longhorn-system/instance-manager-0/9f1c:storage-205]: error adding container to network "storage-205": '
                 'failed to find plugin \\"flannel\\" in path [/opt/cni/bin /var/lib/rancher/k3s/data/cni]\'')
    [s] = d.suggestions
    assert s.runbook == "failed-to-find-plugin"
    assert s.params == {"plugin": "flannel", "bin_dirs": ["/opt/cni/bin", "/var/lib/rancher/k3s/data/cni"]}
    ev = s.matches[0].evidence
    assert (ev["namespace"], ev["pod"], ev["network"]) == ("longhorn-system", "instance-manager-0", "storage-205")
    assert '"flannel"' in s.matches[0].explanation
    assert s.command("params/lab.yaml") == ("runbook run failed-to-find-plugin --params params/lab.yaml -p plugin=flannel "
                                            "-p 'bin_dirs=[/opt/cni/bin, /var/lib/rancher/k3s/data/cni]'")
    assert s.command("p.yaml", declared={"plugin"}) == "runbook run failed-to-find-plugin --params p.yaml -p plugin=flannel"


def test_versioned_bin_dir_goes_to_upgrade_check_not_generic() -> None:
    d = diagnose('failed to find plugin "macvlan" in path [/var/lib/rancher/k3s/data/9f3a1c/bin]')
    assert [s.runbook for s in d.suggestions] == ["upgrade-check"]
    assert d.suggestions[0].params == {"plugin": "macvlan", "stale_bin_dir": "/var/lib/rancher/k3s/data/9f3a1c/bin"}


def test_numbers_and_ranges_are_extracted() -> None:
    mtu = diagnose("invalid MTU 9000, must be [0, master MTU(1500)]").matches[0]
    assert (mtu.rule.runbook, mtu.evidence["mtu"], mtu.evidence["master_mtu"]) == ("install", "9000", "1500")
    assert "asks for 9000 but the master has 1500" in mtu.explanation
    pool = diagnose("Could not allocate IP in range: ip: 198.18.205.240 / - 198.18.205.254 / range: 198.18.205.0/24 "
                    "/ excludeRanges: [198.18.205.250/32]").suggestions[0]
    assert (pool.runbook, pool.params) == ("ip-occupancy", {"pool_range": "198.18.205.0/24"})
    assert pool.matches[0].evidence["range_start"] == "198.18.205.240"
    master = diagnose('AddNetwork: failed to lookup master "ens2": Link not found').matches[0]
    assert master.evidence["master"] == "ens2"
    nad = diagnose("cannot find a network-attachment-definition (storage-205) in namespace (longhorn-system): not found")
    assert nad.suggestions[0].params == {"nad": "longhorn-system/storage-205"}


def test_longhorn_fallback_to_pod_ip() -> None:
    d = diagnose('time="2026-01-02T03:04:05Z" level=warning msg="Missing k8s.v1.cni.cncf.io/network-status annotation, '
                 'use instance-manager-6b77fd6b pod IP 10.42.0.67"')
    [s] = d.suggestions
    assert (s.runbook, s.params) == ("longhorn-storage-network", {"pod": "instance-manager-6b77fd6b"})
    assert "10.42.0.67" in s.matches[0].explanation


def test_multiline_log_with_several_failures_is_ordered_by_priority() -> None:
    log = "\n".join([
        "I0102 03:04:05 multus-daemon starting",
        'error adding container to network "storage-205": config file not found',
        "nothing to see here",
        'failed to find plugin "portmap" in path [/opt/cni/bin]',
        "Could not allocate IP in range: ip: 198.18.205.240 / - 198.18.205.254 / range: 198.18.205.0/24 / excludeRanges: []",
        'failed to find plugin "multus" in path [/var/lib/rancher/k3s/data/current/bin]',
        'failed to find plugin "portmap" in path [/opt/cni/bin]',
    ])
    d = diagnose(log)
    assert [(m.rule.id, m.line_no) for m in d.matches] == [
        ("whereabouts-config-not-found", 2), ("plugin-not-found", 4), ("whereabouts-pool-exhausted", 5),
        ("plugin-not-found-versioned-k3s-dir", 6), ("plugin-not-found", 7)]
    # by priority, then by first line: the upgrade-specific rule (90) first; config (70, line 2) before plugins (70, line 4)
    assert [s.runbook for s in d.suggestions] == ["upgrade-check", "config-not-found", "failed-to-find-plugin", "ip-occupancy"]
    assert d.suggestions[1].params == {"nad": "storage-205"}
    assert len(d.suggestions[2].matches) == 2 and d.suggestions[2].params == {"plugin": "portmap", "bin_dirs": ["/opt/cni/bin"]}


def test_message_wrapped_over_lines_still_matches() -> None:
    d = diagnose("error adding container to network \"storage\": failed to find plugin\n\"macvlan\" in path [/opt/cni/bin]")
    assert [(m.rule.id, m.line_no) for m in d.matches] == [("plugin-not-found", None)]


def test_nothing_matches_ordinary_text() -> None:
    assert not diagnose("pod web-0 started\nall good\n").matched


def test_bad_rules_are_refused() -> None:
    with pytest.raises(RulesError, match="unknown runbook"):
        parse_rules({"runbooks": {"install": {}}, "rules": [
            {"id": "x", "title": "t", "runbook": "nope", "pattern": "a", "explanation": "e", "fix": "f", "samples": ["a"]}]})
    with pytest.raises(RulesError, match="bad regex"):
        parse_rules({"runbooks": {"install": {}}, "rules": [
            {"id": "x", "title": "t", "runbook": "install", "pattern": "(", "explanation": "e", "fix": "f", "samples": ["a"]}]})


# ---------------------------------------------------------------------------------------------
# CLI (only this command's parser, so unrelated subcommands cannot break these tests)


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="runbook")
    diagnose_cmd.register(parser.add_subparsers(dest="command"))
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    args = parser.parse_args(["diagnose", *argv])
    code = args.func(args)
    return code, capsys.readouterr().out


def test_cli_argument_match_exit_0(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(monkeypatch, capsys, 'failed to find plugin "flannel" in path [/opt/cni/bin]', "--params", "params/lab.yaml")
    assert code == 0
    assert "runbook run failed-to-find-plugin --params params/lab.yaml -p plugin=flannel" in out
    assert "why:" in out and "fix:" in out


def test_cli_stdin_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(monkeypatch, capsys, "-", "--json", stdin="IPAM configuration load failed: config file not found\n")
    data = json.loads(out)
    assert code == 0 and data["matched"]
    assert data["suggestions"][0]["runbook"] == "config-not-found"


def test_cli_nothing_matched_exit_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(monkeypatch, capsys, "everything is fine")
    assert code == 1 and "nothing known matched" in out and "runbook run install" in out


def test_cli_empty_input_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = cli(monkeypatch, capsys, "-", stdin="   \n")
    assert code == 2
