"""The test pod's verdict: net1 present with an address in the NAD's pool."""

from __future__ import annotations

from runbooklib.checks.testpod import AttachOutcome, attach_findings, parse_ip_addr, pod_manifest
from runbooklib.results import Severity
from tests.unit.checks_fixtures import nads

BR = """lo               UNKNOWN        127.0.0.1/8 ::1/128
eth0@if12        UP             10.42.1.7/24 fe80::1/64
net1@if3         UP             198.18.207.241/24 fe80::2/64
"""
BUSYBOX = """1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
3: net1    inet 198.18.207.99/24 brd 198.18.207.255 scope global net1\\       valid_lft forever
"""


def test_parse_both_forms() -> None:
    assert parse_ip_addr(BR)["net1"] == ["198.18.207.241/24", "fe80::2/64"]
    assert parse_ip_addr(BUSYBOX)["net1"] == ["198.18.207.99/24"]


def test_in_pool_out_of_pool_missing_and_error() -> None:
    nad = nads()[0]
    ok = attach_findings("x", nad, AttachOutcome("p", "default", "n1", "Running", parse_ip_addr(BR)))
    assert ok[0].severity is Severity.OK and ok[0].evidence["in_pool"] == ["198.18.207.241"]
    out = attach_findings("x", nad, AttachOutcome("p", "default", "n1", "Running", parse_ip_addr(BUSYBOX)))
    assert out[0].severity is Severity.FAIL and "outside the pool" in out[0].title
    none = attach_findings("x", nad, AttachOutcome("p", "default", "n1", "Running", {"eth0": ["10.0.0.1/24"]}))
    assert "no net1 address" in none[0].title
    err = attach_findings("x", nad, AttachOutcome("p", "default", "n1", "Pending", error="pod not running after 120s",
                                                  events=['FailedCreatePodSandBox: failed to find plugin "macvlan"']))
    assert err[0].severity is Severity.FAIL and "runbook diagnose" in err[0].fix[0]


def test_manifest_asks_for_the_nad() -> None:
    m = pod_manifest(nads()[0], "runbook-attach-x", "n2", "busybox:1.36")
    assert m["metadata"]["annotations"]["k8s.v1.cni.cncf.io/networks"] == "default/storage-207"
    assert m["spec"]["nodeName"] == "n2"
