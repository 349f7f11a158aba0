"""The networks annotation: every form multus accepts, and every problem we report."""

from __future__ import annotations

import pytest

from runbooklib.nad import parse_networks_annotation, validate_networks_annotation, validate_workload
from runbooklib.nad.findings import by_rule
from runbooklib.results import Severity

KNOWN = {"longhorn-system/storage-205", "apps/data-net"}


@pytest.mark.parametrize("value,expected", [
    ("storage-205", [("apps/storage-205", None)]),
    ("longhorn-system/storage-205", [("longhorn-system/storage-205", None)]),
    ("data-net@net2", [("apps/data-net", "net2")]),
    ("longhorn-system/storage-205@lhnet1, data-net", [("longhorn-system/storage-205", "lhnet1"), ("apps/data-net", None)]),
    ('[{"name": "storage-205", "namespace": "longhorn-system", "interface": "lhnet1"}, {"name": "data-net"}]',
     [("longhorn-system/storage-205", "lhnet1"), ("apps/data-net", None)]),
])
def test_forms(value: str, expected: list[tuple[str, str | None]]) -> None:
    selections, problems = parse_networks_annotation(value, "apps")
    assert problems == []
    assert [(s.ref, s.interface) for s in selections] == expected


@pytest.mark.parametrize("value,text", [
    ("a/b/c", "failed at '/'"),
    ("a@b@c", "failed at '@'"),
    ("Data_Net", "not a DNS-1123 label"),
    ("data-net@averyveryverylongname", "interface name"),
    ('{"name": "data-net"}', "a lone object must be wrapped in a list"),
    ('[{"name": "data-net", "ips": ["10.0.0.300/24"]}]', "ips entry"),
    ('[{"name": "data-net", "mac": "zz"}]', "mac"),
])
def test_syntax_problems(value: str, text: str) -> None:
    findings = validate_networks_annotation(value, "apps", KNOWN, "pod apps/p")
    [f] = [f for f in by_rule(findings, "annotation.syntax") if f.severity is Severity.FAIL]
    assert text in f.detail


def test_lone_object_proposes_a_list() -> None:
    [f] = [f for f in validate_networks_annotation('{"name": "data-net"}', "apps", KNOWN, "p") if f.severity is Severity.FAIL]
    assert f.evidence["right_value"] == '[{"name": "data-net"}]'


def test_references_pass_and_fail() -> None:
    ok = validate_networks_annotation("data-net, longhorn-system/storage-205", "apps", KNOWN, "p")
    assert all(f.severity is Severity.OK for f in ok)
    unknown = validate_networks_annotation("nope", "apps", KNOWN, "p")
    [f] = [f for f in unknown if f.severity is Severity.FAIL]
    assert "cannot find a network-attachment-definition (nope) in namespace (apps)" in f.detail


def test_wrong_namespace_proposes_the_qualified_name() -> None:
    [f] = [f for f in validate_networks_annotation("storage-205@lhnet1", "apps", KNOWN, "p") if f.severity is Severity.FAIL]
    assert "wrong namespace" in f.detail
    assert f.evidence["right_value"] == "longhorn-system/storage-205@lhnet1"


def _deployment(on_self: bool, on_template: bool) -> dict:  # type: ignore[type-arg]
    ann = {"k8s.v1.cni.cncf.io/networks": "data-net"}
    return {"kind": "Deployment", "metadata": {"name": "web", "namespace": "apps", "annotations": ann if on_self else {}},
            "spec": {"template": {"metadata": {"annotations": ann if on_template else {}}}}}


def test_annotation_on_deployment_instead_of_template() -> None:
    bad = validate_workload(_deployment(True, False), KNOWN)
    [f] = [f for f in by_rule(bad, "annotation.placement") if f.severity is Severity.FAIL]
    assert f.evidence["right_value"]["field"] == "spec.template.metadata.annotations[k8s.v1.cni.cncf.io/networks]"
    good = validate_workload(_deployment(False, True), KNOWN)
    assert all(f.severity is Severity.OK for f in good)
    assert by_rule(good, "annotation.placement")


def test_cronjob_template_path_and_pod() -> None:
    cron = {"kind": "CronJob", "metadata": {"name": "c", "namespace": "apps"},
            "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"annotations": {
                "k8s.v1.cni.cncf.io/networks": "nope"}}}}}}}
    [f] = [f for f in validate_workload(cron, KNOWN) if f.severity is Severity.FAIL]
    assert f.evidence["rule"] == "annotation.references"
    pod = {"kind": "Pod", "metadata": {"name": "p", "namespace": "apps", "annotations": {"k8s.v1.cni.cncf.io/networks": "data-net"}}}
    assert all(f.severity is Severity.OK for f in validate_workload(pod, KNOWN))
