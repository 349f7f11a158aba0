"""longhorn-storage-network on recorded annotations: the setting and one row per instance-manager pod.

The network-status values have the shape of the ones shown in longhorn/longhorn #5048 / #7640
(JSON written by Multus with 4-space indent, a `default` cluster-network entry first, the
storage entry named `<ns>/<nad>` with interface `lhnet1`); addresses are neutral (RFC 5737 /
198.18.0.0/15).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from runbooklib.checks.longhorn import (
    DEPRECATED_STATUS_ANNOTATION,
    HOLDER_KIND,
    IM_LABELS,
    LONGHORN_HOLDER,
    LonghornEvidence,
    attachment,
    check_longhorn_storage_network,
    label_longhorn_holders,
    nad_pool,
    parse_setting,
    status_entries,
    storage_entry,
)
from runbooklib.nad.annotations import NETWORK_STATUS_ANNOTATION, NETWORKS_ANNOTATION
from runbooklib.results import Severity

NAD = "longhorn-system/storage-205"
CONFIG = json.dumps({"cniVersion": "0.3.1", "name": "storage-205", "type": "macvlan", "master": "ens2", "mode": "bridge",
                     "mtu": 9000, "ipam": {"type": "whereabouts", "range": "198.18.205.0/24",
                                           "range_start": "198.18.205.240", "range_end": "198.18.205.254"}})
DEFAULT = {"name": "cbr0", "interface": "eth0", "ips": ["10.42.1.155"], "mac": "ae:3f:eb:e9:a4:c5", "default": True,
           "dns": {}, "gateway": ["10.42.1.1"]}


def entry(name: str = NAD, ip: str = "198.18.205.241", iface: str = "lhnet1") -> dict[str, Any]:
    return {"name": name, "interface": iface, "ips": [ip], "mac": "06:7c:1a:c7:45:9f", "dns": {}}


def status(*entries: dict[str, Any]) -> str:
    """As Multus writes it: each entry MarshalIndent-ed with 4 spaces, joined with ',' in [ ]."""
    return "[" + ",".join(json.dumps(e, indent=4) for e in entries) + "]"


def im_pod(node: str, *, network_status: str | None = None, plural: str | None = None, networks: str | None = "json",
           phase: str = "Running", nad: str = NAD) -> dict[str, Any]:
    ann: dict[str, str] = {}
    if networks == "json":
        ns, name = nad.split("/")
        ann[NETWORKS_ANNOTATION] = json.dumps([{"namespace": ns, "name": name, "interface": "lhnet1"}])
    elif networks:
        ann[NETWORKS_ANNOTATION] = networks
    if network_status is not None:
        ann[NETWORK_STATUS_ANNOTATION] = network_status
    if plural is not None:
        ann[DEPRECATED_STATUS_ANNOTATION] = plural
    return {"metadata": {"name": f"instance-manager-{node}", "namespace": "longhorn-system",
                         "labels": {**IM_LABELS, "longhorn.io/node": node}, "annotations": ann},
            "spec": {"nodeName": node}, "status": {"phase": phase}}


def evidence(setting: str | None = NAD, pods: list[dict[str, Any]] | None = None, **kw: Any) -> LonghornEvidence:
    return LonghornEvidence(setting=setting, nads={NAD: CONFIG, "default/other": CONFIG}, pods=pods or [],
                            nodes=kw.pop("nodes", ["n1", "n2"]), **kw)


def run(ev: LonghornEvidence):  # noqa: ANN201
    return check_longhorn_storage_network(ev, expected_nad=NAD, storage_nic="ens2", storage_mtu=9000)


# --- setting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "want"), [
    ("longhorn-system/storage-205", ("longhorn-system", "storage-205")),
    (" kube-system/demo-192-168-0-0 ", ("kube-system", "demo-192-168-0-0")),
    ("", None), ("storage-205", None), ("a/b/c", None), ("Longhorn/Storage", None),
])
def test_parse_setting(value: str, want: tuple[str, str] | None) -> None:
    assert parse_setting(value) == want


def test_setting_empty_is_fail_with_patch_to_expected() -> None:
    r = run(evidence(setting="", pods=[im_pod("n1", network_status=status(DEFAULT), networks=None)]))
    f = r.findings[0]
    assert f.severity is Severity.FAIL and "storage network off" in f.title
    assert f.evidence["right_value"] == NAD
    assert any('"value": "longhorn-system/storage-205"' in c for c in f.fix)
    assert r.tables["nodes"][0]["attached"] is False


def test_setting_wrong_nad_name() -> None:
    r = run(evidence(setting="longhorn-system/storage-250"))
    f = r.findings[0]
    assert f.severity is Severity.FAIL and "does not exist" in f.title
    assert "no NAD named longhorn-system/storage-250" in f.detail
    assert f.evidence["right_value"] == NAD


def test_setting_wrong_namespace_points_at_the_real_one() -> None:
    ev = evidence(setting="kube-system/storage-205")
    r = check_longhorn_storage_network(ev, expected_nad=None)
    f = r.findings[0]
    assert f.severity is Severity.FAIL and "wrong namespace" in f.detail
    assert f.evidence["right_value"] == NAD
    assert any(NAD in c for c in f.fix)


def test_setting_other_existing_nad_warns() -> None:
    f = run(evidence(setting="default/other")).findings[0]
    assert f.severity is Severity.WARN and f.evidence["right_value"] == NAD


def test_crd_missing_and_setting_missing() -> None:
    assert "not installed" in run(evidence(setting=None, crd_installed=False)).findings[0].title
    assert "not found" in run(evidence(setting=None)).findings[0].title


# --- network-status -----------------------------------------------------------------------------


def test_single_nad_attached_in_pool() -> None:
    pods = [im_pod("n1", network_status=status(DEFAULT, entry(ip="198.18.205.241"))),
            im_pod("n2", network_status=status(DEFAULT, entry(ip="198.18.205.242")))]
    r = run(evidence(pods=pods, links={"n1": {"ens2": 9000}, "n2": {"ens2": 9000}}))
    assert r.severity is Severity.OK, r.frame()
    rows = r.tables["nodes"]
    assert [(x["node"], x["attached"], x["interface"], x["address"], x["in_pool"], x["nic_mtu"]) for x in rows] == [
        ("n1", True, "lhnet1", "198.18.205.241", True, 9000), ("n2", True, "lhnet1", "198.18.205.242", True, 9000)]


def test_several_nads_picks_the_storage_entry() -> None:
    st = status(DEFAULT, entry(name="default/other", ip="192.0.2.7", iface="net1"), entry(ip="198.18.205.243"))
    a = attachment(im_pod("n1", network_status=st), NAD, nad_pool(CONFIG))
    assert (a.attached, a.interface, a.address, a.in_pool, a.severity) == (True, "lhnet1", "198.18.205.243", True, Severity.OK)


def test_default_entry_is_never_the_storage_network() -> None:
    entries, source = status_entries(im_pod("n1", network_status=status({**DEFAULT, "name": NAD})))
    assert source == "network-status" and storage_entry(entries, NAD) is None


def test_only_default_entry_is_fail_with_reason() -> None:
    a = attachment(im_pod("n1", network_status=status(DEFAULT)), NAD, nad_pool(CONFIG))
    assert a.severity is Severity.FAIL and not a.attached
    assert "no entry" in a.reason


def test_pod_without_networks_annotation_predates_setting() -> None:
    a = attachment(im_pod("n1", network_status=status(DEFAULT), networks=None), NAD, nad_pool(CONFIG))
    assert a.severity is Severity.FAIL and "created before the setting" in a.reason


def test_pod_from_older_setting() -> None:
    pod = im_pod("n1", network_status=status(DEFAULT), networks="default/other@lhnet1")
    a = attachment(pod, NAD, nad_pool(CONFIG))
    assert a.severity is Severity.FAIL and "older setting" in a.reason


def test_missing_annotation_is_fail() -> None:
    r = run(evidence(pods=[im_pod("n1"), im_pod("n2", network_status=status(DEFAULT, entry()))]))
    row = r.tables["nodes"][0]
    assert (row["node"], row["attached"], row["status_annotation"], row["severity"]) == ("n1", False, "missing", "fail")
    f = next(f for f in r.findings if f.target == "n1")
    assert "no network-status annotation" in f.detail and any("pods/status" in c for c in f.fix)


def test_only_deprecated_plural_is_reported() -> None:
    a = attachment(im_pod("n1", plural=status(DEFAULT, entry())), NAD, nad_pool(CONFIG))
    assert a.attached and a.status_annotation == "networks-status (deprecated only)"
    assert a.severity is Severity.FAIL and "deprecated" in a.reason


def test_singular_wins_over_plural() -> None:
    pod = im_pod("n1", network_status=status(DEFAULT, entry()), plural=status(DEFAULT))
    assert attachment(pod, NAD, nad_pool(CONFIG)).severity is Severity.OK


def test_bare_name_entry_of_old_multus_matches() -> None:
    a = attachment(im_pod("n1", network_status=status(DEFAULT, entry(name="storage-205"))), NAD, nad_pool(CONFIG))
    assert a.attached


def test_address_outside_pool_is_fail() -> None:
    a = attachment(im_pod("n1", network_status=status(DEFAULT, entry(ip="198.18.205.10"))), NAD, nad_pool(CONFIG))
    assert a.in_pool is False and a.severity is Severity.FAIL


def test_pending_pod_reports_its_event() -> None:
    ev = evidence(setting="longhorn-system/storage-250",
                  pods=[im_pod("n1", phase="Pending", nad="longhorn-system/storage-250")],
                  events={"longhorn-system/instance-manager-n1": [
                      "... cannot find a network-attachment-definition (storage-250) in namespace (longhorn-system)"]})
    r = run(ev)
    row = r.tables["nodes"][0]
    assert row["severity"] == "fail" and "cannot find a network-attachment-definition" in row["reason"]


def test_mtu_low_and_nic_missing() -> None:
    pods = [im_pod("n1", network_status=status(DEFAULT, entry(ip="198.18.205.241"))),
            im_pod("n2", network_status=status(DEFAULT, entry(ip="198.18.205.242")))]
    r = run(evidence(pods=pods, links={"n1": {"ens2": 1500}, "n2": {"eth0": 1500}}))
    rows = {x["node"]: x for x in r.tables["nodes"]}
    assert rows["n1"]["severity"] == "warn" and "MTU 1500 < 9000" in rows["n1"]["reason"]
    assert rows["n2"]["severity"] == "fail" and "does not exist" in rows["n2"]["reason"]


def test_coverage_and_duplicates() -> None:
    pods = [im_pod("n1", network_status=status(DEFAULT, entry(ip="198.18.205.241"))),
            im_pod("n2", network_status=status(DEFAULT, entry(ip="198.18.205.241")))]
    r = run(evidence(pods=pods, nodes=["n1", "n2", "n3"]))
    titles = [f.title for f in r.problems]
    assert "no instance-manager pod on n3" in titles
    assert any("held by 2 instance-manager pods" in t for t in titles)
    assert "no Longhorn instance-manager pod found" in [f.title for f in run(evidence(pods=[])).problems]


def test_unreachable_cluster_is_fail() -> None:
    r = run(LonghornEvidence(error="ConnectionRefused"))
    assert r.severity is Severity.FAIL and r.findings[0].evidence["status"] == "unreachable"


# --- occupancy label -----------------------------------------------------------------------------


def test_label_longhorn_holders() -> None:
    frame = pd.DataFrame({"address": ["198.18.205.241", "198.18.205.242", "198.18.205.100", "198.18.205.243"],
                          "holder": ["longhorn-system/instance-manager-n1", "apps/web-0", "nas",
                                     "apps/web-1, longhorn-system/instance-manager-n1"]})
    out = label_longhorn_holders(frame, [im_pod("n1"), {"metadata": {"name": "web-0", "namespace": "apps"}}])
    assert list(out.columns) == ["address", "holder", HOLDER_KIND]
    assert out[HOLDER_KIND].tolist() == [LONGHORN_HOLDER, "pod", "static", LONGHORN_HOLDER]
