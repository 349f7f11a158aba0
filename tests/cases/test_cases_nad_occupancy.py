"""The handed cases about NAD validation and IP occupancy: each must produce its expected finding
and right value (read from ../shared/cases/handed.jsonl next to the repo)."""

from __future__ import annotations

import json
from typing import Any

from handed import load_cases, skip_without

from runbooklib.nad import NadDocument, validate_documents, validate_networks_annotation
from runbooklib.nad.findings import by_rule
from runbooklib.nad.node_facts import facts_from_case_nodes
from runbooklib.nad.pools import pool_from_ipam
from runbooklib.occupancy import (
    AddressState,
    OccupancyInputs,
    PoolSource,
    allocations_from_ippool,
    build_occupancy,
    nodes_from_objects,
    pods_from_objects,
)
from runbooklib.results import Severity, worst

COMPONENTS = {"NAD validation", "IP occupancy"}

CASES = load_cases(COMPONENTS)
pytestmark = skip_without(CASES)


def case(cid: str) -> dict[str, Any]:
    return CASES[cid]


def test_every_nad_and_occupancy_case_has_a_test() -> None:
    assert set(CASES) == {"C15", "C16", "C18", "C19", "C21", "C24", "C26", "C27"}


def _doc(nad: dict[str, Any]) -> NadDocument:
    raw = nad["config_raw"] if "config_raw" in nad else json.dumps(nad["config"])
    return NadDocument(nad["namespace"], nad["name"], raw, origin="case")


def _status(findings: list[Any]) -> str:
    return worst(findings).value.upper()


# --- NAD validation ------------------------------------------------------------------------

def test_c15_mtu_above_master_on_one_node() -> None:
    c = case("C15")
    result = validate_documents([_doc(c["input"]["nad"])], node_facts=facts_from_case_nodes(c["input"]["nodes"]))
    [mtu] = [f for f in by_rule(result.findings, "node.mtu") if f.severity is Severity.FAIL]
    assert _status(result.findings) == c["expected"]["status"]
    assert mtu.evidence["per_node"] == c["expected"]["per_node"]
    assert mtu.evidence["right_value"] == c["expected"]["right_value"]
    assert c["expected"]["error_match"]["plugins >= v0.8.3"] in mtu.detail
    assert mtu.evidence["field"] == "spec.config.mtu"


def test_c16_master_missing_on_one_node() -> None:
    c = case("C16")
    result = validate_documents([_doc(c["input"]["nad"])], node_facts=facts_from_case_nodes(c["input"]["nodes"]))
    [master] = [f for f in by_rule(result.findings, "node.master") if f.severity is Severity.FAIL]
    assert _status(result.findings) == c["expected"]["status"]
    assert master.evidence["per_node"] == c["expected"]["per_node"]
    assert master.evidence["right_value"] == c["expected"]["right_value"]
    assert "Link not found" in master.detail
    assert "pods scheduled there cannot get the attachment" in master.detail


def test_c18_networks_annotation_json_syntax() -> None:
    c = case("C18")
    findings = validate_networks_annotation(c["input"]["annotation_raw"], "default", None, "pod default/p")
    [syntax] = [f for f in findings if f.severity is Severity.FAIL]
    assert _status(findings) == c["expected"]["status"]
    assert c["expected"]["error_match"] in syntax.detail
    assert syntax.evidence["right_value"] == c["expected"]["right_value"]


def test_c19_spec_config_trailing_commas() -> None:
    c = case("C19")
    result = validate_documents([_doc(c["input"]["nad"])])
    [parse] = [f for f in by_rule(result.findings, "config.json") if f.severity is Severity.FAIL]
    assert _status(result.findings) == c["expected"]["status"]
    assert parse.evidence["go_error"] == c["expected"]["error_match"]
    assert parse.evidence["right_value"] == c["expected"]["right_value"]
    assert parse.evidence["field"] == "spec.config"
    assert parse.evidence["line"] == 1 and parse.evidence["column"] > 100


def test_c27_overlapping_pools_one_without_reservation() -> None:
    c = case("C27")
    result = validate_documents([_doc(n) for n in c["input"]["nads"]])
    overlaps = [f for f in by_rule(result.findings, "pools.overlap") if f.severity is Severity.FAIL]
    assert {f.target for f in overlaps} == {"storage/storage-a", "apps/apps-b"}
    assert _status(result.findings) == c["expected"]["status"]
    for f in overlaps:
        assert f.evidence["overlap"] == c["expected"]["overlap"]
        assert c["expected"]["right_value"] in f.fix
        assert any("another cluster" in x for x in f.fix)


# --- IP occupancy --------------------------------------------------------------------------

def _pod_object(p: dict[str, Any]) -> dict[str, Any]:
    ns, name = p["ref"].split("/")
    meta: dict[str, Any] = {"namespace": ns, "name": name, "annotations": dict(p.get("annotations") or {})}
    if p.get("deletionTimestamp"):
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    if p.get("network_status") is not None:
        meta["annotations"]["k8s.v1.cni.cncf.io/network-status"] = json.dumps(p["network_status"])
    return {"metadata": meta, "spec": {"nodeName": p.get("node", "")},
            "status": {"phase": p.get("phase", "Running"), "conditions": p.get("conditions") or []}}


def _node_object(name: str, n: dict[str, Any]) -> dict[str, Any]:
    taints = [{"key": t.split(":")[0], "effect": t.split(":")[1]} for t in n.get("taints") or []]
    return {"metadata": {"name": name}, "spec": {"taints": taints},
            "status": {"conditions": [{"type": "Ready", "status": "True" if n.get("ready", True) else "False"}]}}


def _occupancy(inp: dict[str, Any]) -> Any:
    ipam = inp.get("ipam") or {"type": "whereabouts", "range": inp["ippool"]["range"]}
    pool = pool_from_ipam(ipam)
    assert pool is not None
    inputs = OccupancyInputs(subnets=[pool.network], pools=[PoolSource("apps/data-net", pool)],
                             allocations=allocations_from_ippool({"metadata": {"name": inp["ippool"]["name"]},
                                                                   "spec": inp["ippool"]}))
    if "pods" in inp:
        inputs.pods = pods_from_objects(_pod_object(p) for p in inp["pods"])
    if "nodes" in inp:
        inputs.nodes = nodes_from_objects(_node_object(k, v) for k, v in inp["nodes"].items())
    return build_occupancy(inputs)


def test_c21_range_end_is_inclusive() -> None:
    c = case("C21")
    occ = _occupancy(c["input"])
    [row] = occ.summary.to_dict(orient="records")
    assert row["size"] == c["expected"]["capacity"]
    assert row["used"] == c["expected"]["used"]
    assert occ.addresses(AddressState.FREE) == c["expected"]["free"]
    assert _status(occ.findings) == c["expected"]["status"]
    assert occ.addresses(AddressState.ALLOCATED) == [f"192.0.2.{i}" for i in range(10, 15)]


def test_c24_ips_held_by_pods_on_unreachable_node() -> None:
    c = case("C24")
    occ = _occupancy(c["input"])
    [row] = occ.summary.to_dict(orient="records")
    assert row["size"] == c["expected"]["capacity"]
    assert row["used"] == c["expected"]["used"]
    assert occ.addresses(AddressState.FREE) == c["expected"]["free"]
    assert occ.addresses(AddressState.HELD_UNREACHABLE) == c["expected"]["held_by_pods_on_unreachable_node"]
    assert occ.addresses(AddressState.STALE) == []  # not orphans: reclaimable only once the pods are gone
    assert _status(occ.findings) == c["expected"]["status"]
    held = [f for f in occ.findings if f.evidence.get("state") == "held-unreachable"]
    assert held and c["expected"]["right_value"] in held[0].fix


def test_c26_pods_without_network_status_are_not_orphans() -> None:
    c = case("C26")
    occ = _occupancy(c["input"])
    assert _status(occ.findings) == c["expected"]["status"]
    [f] = [f for f in occ.findings if f.title == c["expected"]["finding"]]
    assert f.evidence["per_allocation"] == c["expected"]["per_allocation"]
    assert f.detail.startswith(c["expected"]["right_value"])
    assert occ.addresses(AddressState.STALE) == []
    assert occ.addresses(AddressState.PENDING) == ["203.0.113.20"]
    assert occ.addresses(AddressState.UNVERIFIED) == ["203.0.113.21"]
