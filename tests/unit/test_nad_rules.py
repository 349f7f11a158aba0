"""Every NAD validation rule: one failing and one passing case each."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from runbooklib.nad import (
    BinaryFacts,
    LinkFacts,
    NadDocument,
    NodeCniFacts,
    StaticOccupant,
    validate_documents,
)
from runbooklib.nad.findings import by_rule
from runbooklib.results import Severity

BASE: dict[str, Any] = {
    "cniVersion": "0.3.1", "type": "macvlan", "master": "ens2", "mode": "bridge", "mtu": 9000,
    "ipam": {"type": "whereabouts", "range": "192.168.205.0/24", "range_start": "192.168.205.240",
             "range_end": "192.168.205.254"},
}
VERSION_OK = '{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}'


def doc(config: Any = None, *, raw: str | None = None, ns: str = "longhorn-system", name: str = "storage-205") -> NadDocument:
    return NadDocument(ns, name, raw if raw is not None else json.dumps(BASE if config is None else config))


def cfg(**changes: Any) -> dict[str, Any]:
    c = copy.deepcopy(BASE)
    for key, value in changes.items():
        target = c
        parts = key.split("__")
        for p in parts[:-1]:
            target = target[p]
        if value is _DROP:
            target.pop(parts[-1], None)
        else:
            target[parts[-1]] = value
    return c


_DROP = object()


def binary(name: str, kind: str = "file", executable: bool = True, version: str = VERSION_OK, target_kind: str = "") -> BinaryFacts:
    return BinaryFacts(name, f"/opt/cni/bin/{name}", kind, executable, "/x/" + name if kind == "symlink" else "",
                       target_kind, 0, version)


def node(name: str = "kr1", *, mtu: int = 9000, up: bool = True, links: dict[str, LinkFacts] | None = None,
         binaries: dict[str, BinaryFacts] | None = None) -> NodeCniFacts:
    links = links if links is not None else {"ens2": LinkFacts("ens2", mtu, up, up, "UP" if up else "DOWN")}
    bins = binaries if binaries is not None else {"macvlan": binary("macvlan"), "whereabouts": binary("whereabouts")}
    return NodeCniFacts(name, links=links, binaries=bins)


def severity_of(findings: list[Any], rule: str) -> Severity:
    fs = by_rule(findings, rule)
    assert fs, f"rule {rule} did not run"
    order = [Severity.OK, Severity.WARN, Severity.FAIL]
    return max((f.severity for f in fs), key=order.index)


CONFIG_RULES = [
    # rule, failing document, expected severity, field named
    ("config.json", doc(raw='{"cniVersion": "0.3.1",}'), Severity.FAIL, "spec.config"),
    ("config.json", doc(raw="   "), Severity.FAIL, "spec.config"),
    ("config.object", doc(raw='["macvlan"]'), Severity.FAIL, "spec.config"),
    ("config.cniVersion", doc(cfg(cniVersion=_DROP)), Severity.FAIL, "spec.config.cniVersion"),
    ("config.cniVersion", doc(cfg(cniVersion="0.3.2")), Severity.FAIL, "spec.config.cniVersion"),
    ("config.type", doc(cfg(type=_DROP)), Severity.FAIL, "spec.config.type"),
    ("macvlan.mode", doc(cfg(mode="bridged")), Severity.FAIL, "spec.config.mode"),
    ("macvlan.master", doc(cfg(master=_DROP)), Severity.WARN, "spec.config.master"),
    ("macvlan.master", doc(cfg(master="a-very-long-interface-name")), Severity.FAIL, "spec.config.master"),
    ("macvlan.mtu", doc(cfg(mtu="9000")), Severity.FAIL, "spec.config.mtu"),
    ("macvlan.mtu", doc(cfg(mtu=-1)), Severity.FAIL, "spec.config.mtu"),
    ("ipam.keys", doc(cfg(ipam__rangeStart="192.168.205.240")), Severity.WARN, "spec.config.ipam.rangeStart"),
    ("ipam.range", doc(cfg(ipam__range="192.168.205.0/33")), Severity.FAIL, "spec.config.ipam.range"),
    ("ipam.range", doc(cfg(ipam__range="192.168.205.7/32", ipam__range_start=_DROP, ipam__range_end=_DROP)),
     Severity.FAIL, "spec.config.ipam.range"),
    ("ipam.range", doc(cfg(ipam__range="192.168.205.9/24")), Severity.WARN, "spec.config.ipam.range"),
    ("ipam.bounds", doc(cfg(ipam__range_end="192.168.205.255")), Severity.FAIL, "spec.config.ipam.range_end"),
    ("ipam.bounds", doc(cfg(ipam__range_start="192.168.206.1")), Severity.FAIL, "spec.config.ipam.range_start"),
    ("ipam.bounds", doc(cfg(ipam__range_start="192.168.205.250", ipam__range_end="192.168.205.240")), Severity.FAIL,
     "spec.config.ipam.range_end"),
    ("ipam.bounds", doc(cfg(ipam__range_start="not-an-ip")), Severity.FAIL, "spec.config.ipam.range_start"),
    ("ipam.exclude", doc(cfg(ipam__exclude=["192.168.206.0/30"])), Severity.FAIL, "spec.config.ipam.exclude[0]"),
    ("ipam.exclude", doc(cfg(ipam__exclude=["garbage"])), Severity.FAIL, "spec.config.ipam.exclude[0]"),
    ("ipam.exclude", doc(cfg(ipam__exclude="192.168.205.250")), Severity.FAIL, "spec.config.ipam.exclude"),
]


@pytest.mark.parametrize("rule,document,severity,field", CONFIG_RULES,
                         ids=[f"{r}-{i}" for i, (r, *_rest) in enumerate(CONFIG_RULES)])
def test_config_rule_fails(rule: str, document: NadDocument, severity: Severity, field: str) -> None:
    findings = validate_documents([document]).findings
    problems = [f for f in by_rule(findings, rule) if f.severity is severity]
    assert problems, [f.title for f in findings]
    assert problems[0].evidence["field"] == field
    assert problems[0].title.startswith(field)
    assert problems[0].fix


@pytest.mark.parametrize("rule", sorted({r for r, *_ in CONFIG_RULES}))
def test_config_rule_passes_on_reference(rule: str) -> None:
    findings = validate_documents([doc()]).findings
    assert severity_of(findings, rule) is Severity.OK


def test_reference_passes_every_rule_with_nodes_and_cluster() -> None:
    result = validate_documents([doc()], occupants=[StaticOccupant("192.168.205.100", "nas")],
                                node_facts={"kr1": node("kr1"), "kr2": node("kr2")}, namespaces={"longhorn-system"})
    assert result.problems == []
    assert result.ok


def test_range_end_outside_proposes_the_last_usable_address() -> None:
    [f] = [f for f in validate_documents([doc(cfg(ipam__range_end="192.168.205.255"))]).findings if f.severity is Severity.FAIL]
    assert f.evidence["right_value"] == "192.168.205.254"
    assert "silently ignores" in f.detail


def test_dash_range_syntax_is_accepted() -> None:
    c = cfg(ipam__range="192.168.205.240-192.168.205.250/24", ipam__range_start=_DROP, ipam__range_end=_DROP)
    result = validate_documents([doc(c)])
    assert result.problems == []
    assert str(result.nads[0].pool.last) == "192.168.205.250"  # type: ignore[union-attr]


def test_pool_containing_static_occupant_fails_and_exclude_fixes_it() -> None:
    nas = [StaticOccupant("192.168.205.245", "nas")]
    bad = validate_documents([doc()], occupants=nas).findings
    assert severity_of(bad, "pools.static") is Severity.FAIL
    assert by_rule(bad, "pools.static")[0].evidence["right_value"] == {"exclude_add": "192.168.205.245/32"}
    good = validate_documents([doc(cfg(ipam__exclude=["192.168.205.245/32"]))], occupants=nas).findings
    assert severity_of(good, "pools.static") is Severity.OK


def test_overlap_with_reservation_protection_is_only_a_warning() -> None:
    other = doc(cfg(ipam__range_start="192.168.205.250", ipam__range_end=_DROP), ns="apps", name="other")
    findings = validate_documents([doc()], other_nads=[other]).findings
    assert severity_of(findings, "pools.overlap") is Severity.WARN


def test_overlap_with_a_cluster_nad_fails_and_disjoint_passes() -> None:
    other = doc(cfg(ipam__range_start="192.168.205.250", ipam__range_end=_DROP, ipam__enable_overlapping_ranges=False),
                ns="apps", name="other")
    findings = validate_documents([doc()], other_nads=[other]).findings
    [f] = [f for f in by_rule(findings, "pools.overlap") if f.severity is Severity.FAIL]
    assert f.evidence["overlap"] == "192.168.205.250-192.168.205.254"
    disjoint = doc(cfg(ipam__range_start="192.168.205.200", ipam__range_end="192.168.205.220"), ns="apps", name="other")
    assert severity_of(validate_documents([doc()], other_nads=[disjoint]).findings, "pools.overlap") is Severity.OK


def test_namespace_rule() -> None:
    assert severity_of(validate_documents([doc()], namespaces={"default"}).findings, "namespace.exists") is Severity.FAIL
    assert severity_of(validate_documents([doc()], namespaces={"longhorn-system"}).findings, "namespace.exists") is Severity.OK


NODE_RULES = [
    ("node.reachable", NodeCniFacts("kr2", error="TimeoutError: timed out")),
    ("node.master", node("kr2", links={"eno1": LinkFacts("eno1", 9000)})),
    ("node.master", node("kr2", up=False)),
    ("node.mtu", node("kr2", mtu=1500)),
    ("node.plugin", node("kr2", binaries={"whereabouts": binary("whereabouts")})),
    ("node.plugin", node("kr2", binaries={"macvlan": binary("macvlan", "dir", False), "whereabouts": binary("whereabouts")})),
    ("node.plugin", node("kr2", binaries={"macvlan": binary("macvlan", executable=False), "whereabouts": binary("whereabouts")})),
    ("node.ipam", node("kr2", binaries={"macvlan": binary("macvlan"),
                                        "whereabouts": binary("whereabouts", "symlink", False, "", "dangling")})),
    ("node.plugin.version", node("kr2", binaries={"macvlan": binary("macvlan", version='{"cniVersion":"0.2.0","supportedVersions":["0.1.0","0.2.0"]}'),
                                                  "whereabouts": binary("whereabouts")})),
    ("node.ipam.version", node("kr2", binaries={"macvlan": binary("macvlan"),
                                                "whereabouts": binary("whereabouts", version="segmentation fault")})),
]


@pytest.mark.parametrize("rule,bad_node", NODE_RULES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(NODE_RULES)])
def test_node_rule_fails_on_one_node_and_passes_on_the_other(rule: str, bad_node: NodeCniFacts) -> None:
    findings = validate_documents([doc()], node_facts={"kr1": node("kr1"), "kr2": bad_node}).findings
    [f] = [f for f in by_rule(findings, rule) if f.severity is Severity.FAIL]
    assert "kr2" in f.title or "kr2" in f.detail or f.evidence.get("node") == "kr2"
    if "per_node" in f.evidence:
        assert f.evidence["per_node"]["kr1"] == "ok"
        assert f.evidence["per_node"]["kr2"] != "ok"
    good = validate_documents([doc()], node_facts={"kr1": node("kr1"), "kr2": node("kr2")}).findings
    assert severity_of(good, rule) is Severity.OK


def test_unreachable_node_is_a_fail_with_status_unreachable_not_a_pass() -> None:
    findings = validate_documents([doc()], node_facts={"kr1": NodeCniFacts("kr1", error="no route")}).findings
    [f] = [f for f in findings if f.severity is Severity.FAIL]
    assert f.evidence["status"] == "unreachable"


def test_unsupported_cni_version_proposes_a_common_version() -> None:
    old = binary("macvlan", version='{"cniVersion":"0.4.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0"]}')
    d = doc(cfg(cniVersion="1.0.0"))
    findings = validate_documents([d], node_facts={"kr1": node("kr1", binaries={"macvlan": old, "whereabouts": binary("whereabouts")})}).findings
    [f] = [f for f in by_rule(findings, "node.plugin.version") if f.severity is Severity.FAIL]
    assert f.evidence["right_value"] == {"cniVersion": "0.4.0"}
    assert f.evidence["field"] == "spec.config.cniVersion"


def test_old_plugin_answering_unknown_command_supports_only_010() -> None:
    b = binary("macvlan", version="unknown CNI_COMMAND: VERSION")
    assert b.supported_versions == ("0.1.0",)


def test_symlinked_plugin_is_a_warning() -> None:
    link = binary("macvlan", "symlink", True, VERSION_OK, "file")
    findings = validate_documents([doc()], node_facts={"kr1": node("kr1", binaries={"macvlan": link,
                                                                                     "whereabouts": binary("whereabouts")})}).findings
    assert severity_of(findings, "node.plugin") is Severity.WARN
