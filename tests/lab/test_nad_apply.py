"""NAD validate/apply and IP occupancy against the in-process Kubernetes API emulator (no root)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s

from runbooklib.cli import main
from runbooklib.cluster import api_client_from_kubeconfig
from runbooklib.lab.api import LabApiServer
from runbooklib.nad import LinkFacts, NodeCniFacts, validate_nads
from runbooklib.nad.apply import apply_nads
from runbooklib.nad.node_facts import BinaryFacts
from runbooklib.occupancy import AddressState, occupancy_for_params
from runbooklib.params import Params, load_params
from runbooklib.results import Severity, Status

REPO = Path(__file__).resolve().parents[2]
NODES = ["kr1", "kr2", "hp1", "hp2"]
VERSION = '{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}'


def crd(group: str, version: str, kind: str, plural: str) -> dict[str, Any]:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
                     "versions": [{"name": version, "served": True, "storage": True, "schema": schema}]}}


CRDS = [crd("k8s.cni.cncf.io", "v1", "NetworkAttachmentDefinition", "network-attachment-definitions"),
        crd("whereabouts.cni.cncf.io", "v1alpha1", "IPPool", "ippools"),
        crd("whereabouts.cni.cncf.io", "v1alpha1", "OverlappingRangeIPReservation", "overlappingrangeipreservations")]


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture()
def params(api: LabApiServer, tmp_path: Path) -> Params:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    raw = yaml.safe_load((REPO / "params" / "homelab.yaml").read_text())
    raw["kubeconfig"] = {"path": str(kubeconfig)}
    for i, n in enumerate(raw["nodes"]):
        n["ssh"] = {"host": f"127.0.0.{i + 1}", "port": _closed_port()}  # nothing listens: unreachable
    raw["ssh"] = {"verify_host_keys": False, "connect_timeout_s": 2}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_params(path, require_files=False)


@pytest.fixture()
def client(params: Params) -> k8s.ApiClient:
    c = api_client_from_kubeconfig(params.kubeconfig.path)
    ext = k8s.ApiextensionsV1Api(c)
    for d in CRDS:
        ext.create_custom_resource_definition(d)
    k8s.CoreV1Api(c).create_namespace({"metadata": {"name": "longhorn-system"}})
    return c


def good_facts() -> dict[str, NodeCniFacts]:
    bins = {b: BinaryFacts(b, f"/opt/cni/bin/{b}", "file", True, "", "", 0, VERSION) for b in ("macvlan", "whereabouts")}
    return {n: NodeCniFacts(n, links={"ens2": LinkFacts("ens2", 9000)}, binaries=dict(bins)) for n in NODES}


def nad_objects(api: LabApiServer) -> list[dict[str, Any]]:
    from runbooklib.lab.api.resources import Registry  # noqa: F401 - only to be sure the module loads

    c = api_client_from_kubeconfig(api.write_kubeconfig(api.state_dir / "kc2"))
    resp = k8s.CustomObjectsApi(c).list_cluster_custom_object("k8s.cni.cncf.io", "v1", "network-attachment-definitions",
                                                              _preload_content=False)
    return json.loads(resp.data)["items"]


def test_validate_against_cluster_then_apply_idempotently(api: LabApiServer, params: Params, client: k8s.ApiClient) -> None:
    result = validate_nads(params, api_client=client, node_facts=good_facts())
    assert result.problems == [], [f.title for f in result.problems]
    assert any(f.evidence.get("rule") == "namespace.exists" and f.severity is Severity.OK for f in result.findings)

    dry = apply_nads(params, client, dry_run=True, validation=result)
    assert [r.evidence["action"] for r in dry] == ["would-create"]
    assert nad_objects(api) == []

    first = apply_nads(params, client, validation=result)
    assert [r.evidence["action"] for r in first] == ["created"]
    [live] = nad_objects(api)
    assert json.loads(live["spec"]["config"])["ipam"]["range_start"] == "192.168.205.240"
    second = apply_nads(params, client, validation=result)
    assert [(r.status, r.evidence["action"]) for r in second] == [(Status.OK, "unchanged")]

    # the same configuration written differently is still unchanged
    live["spec"]["config"] = json.dumps(json.loads(live["spec"]["config"]))
    k8s.CustomObjectsApi(client).replace_namespaced_custom_object(
        "k8s.cni.cncf.io", "v1", "longhorn-system", "network-attachment-definitions", "storage-205", live)
    assert [r.evidence["action"] for r in apply_nads(params, client)] == ["unchanged"]

    params.nads[0].mtu = 1500
    changed = apply_nads(params, client, dry_run=True)
    assert changed[0].evidence["action"] == "would-update" and "spec.config" in changed[0].evidence["changed_fields"]
    assert [r.evidence["action"] for r in apply_nads(params, client)] == ["updated"]
    assert json.loads(nad_objects(api)[0]["spec"]["config"])["mtu"] == 1500


def test_failed_validation_refuses_to_write(api: LabApiServer, params: Params, client: k8s.ApiClient) -> None:
    facts = good_facts()
    facts["hp2"] = NodeCniFacts("hp2", error="ssh: connection refused")
    result = validate_nads(params, api_client=client, node_facts=facts)
    assert not result.ok
    [unreachable] = [f for f in result.problems if f.evidence.get("status") == "unreachable"]
    assert "hp2" in unreachable.title
    ops = apply_nads(params, client, validation=result)
    assert ops[0].status is Status.FAILED and ops[0].evidence["action"] == "refused"
    assert nad_objects(api) == []


def test_cluster_checks_namespace_other_nads_and_pod_annotations(params: Params, client: k8s.ApiClient) -> None:
    custom = k8s.CustomObjectsApi(client)
    k8s.CoreV1Api(client).create_namespace({"metadata": {"name": "apps"}})
    other = {"cniVersion": "0.3.1", "type": "macvlan", "master": "ens2",
             "ipam": {"type": "whereabouts", "range": "192.168.205.0/24", "range_start": "192.168.205.250",
                      "enable_overlapping_ranges": False}}
    custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", "apps", "network-attachment-definitions",
                                           {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                                            "metadata": {"name": "other", "namespace": "apps"},
                                            "spec": {"config": json.dumps(other)}})
    k8s.CoreV1Api(client).create_namespaced_pod("apps", {
        "metadata": {"name": "web", "annotations": {"k8s.v1.cni.cncf.io/networks": "storage-205@lhnet1"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    result = validate_nads(params, api_client=client, node_facts=good_facts())
    rules = {f.evidence.get("rule") for f in result.problems}
    assert rules == {"pools.overlap", "annotation.references"}
    [ref] = [f for f in result.problems if f.evidence.get("rule") == "annotation.references"]
    assert ref.evidence["right_value"] == "longhorn-system/storage-205@lhnet1"


def test_occupancy_from_the_cluster(params: Params, client: k8s.ApiClient) -> None:
    custom = k8s.CustomObjectsApi(client)
    custom.create_namespaced_custom_object("whereabouts.cni.cncf.io", "v1alpha1", "kube-system", "ippools", {
        "apiVersion": "whereabouts.cni.cncf.io/v1alpha1", "kind": "IPPool",
        "metadata": {"name": "192.168.205.0-24", "namespace": "kube-system"},
        "spec": {"range": "192.168.205.0/24", "allocations": {
            "240": {"id": "c1", "podref": "longhorn-system/instance-manager-xyz", "ifname": "lhnet1"},
            "241": {"id": "c2", "podref": "longhorn-system/instance-manager-gone", "ifname": "lhnet1"}}}})
    status = [{"name": "cbr0", "ips": ["10.42.0.9"], "default": True, "dns": {}},
              {"name": "longhorn-system/storage-205", "interface": "lhnet1", "ips": ["192.168.205.240"], "dns": {}}]
    k8s.CoreV1Api(client).create_namespaced_pod("longhorn-system", {
        "metadata": {"name": "instance-manager-xyz", "annotations": {"k8s.v1.cni.cncf.io/network-status": json.dumps(status)}},
        "spec": {"nodeName": "kr1", "containers": [{"name": "c", "image": "busybox"}]}})
    occ = occupancy_for_params(params, api_client=client)
    state = dict(zip(occ.frame["address"], occ.frame["state"], strict=True))
    assert state["192.168.205.240"] == AddressState.ALLOCATED.value
    assert state["192.168.205.241"] == AddressState.STALE.value
    assert occ.summary.iloc[0]["used"] == 2


def test_unreachable_cluster_is_reported_not_passed(params: Params, tmp_path: Path) -> None:
    kc = tmp_path / "dead-kubeconfig"
    kc.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", "clusters": [{"name": "x", "cluster": {
        "server": f"http://127.0.0.1:{_closed_port()}"}}], "users": [{"name": "x", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}], "current-context": "x"}))
    params.kubeconfig.path = str(kc)
    occ = occupancy_for_params(params)
    [f] = [f for f in occ.findings if f.severity is Severity.FAIL]
    assert f.evidence["status"] == "unreachable"
    result = validate_nads(params, node_facts=good_facts())
    assert any(f.evidence.get("status") == "unreachable" for f in result.problems)


def test_cli_nad_and_occupancy(params: Params, client: k8s.ApiClient, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = str(params.source_path)
    assert main(["nad", "validate", "--params", path, "--offline"]) == 0
    out = capsys.readouterr().out
    assert "[SKIP] node checks" in out and "NAD validation: ok" in out
    # nodes are unreachable (closed SSH port): validation fails, nothing is applied
    assert main(["nad", "apply", "--params", path]) == 1
    out = capsys.readouterr().out
    assert "unreachable" in out and "refused" in out
    assert main(["occupancy", "--params", path, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"][0]["size"] == 15
    png = tmp_path / "grid.png"
    assert main(["occupancy", "--params", path, "--offline", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "skipped: cluster sources" in out and png.exists()
    assert main(["occupancy", "--params", path, "--offline", "--csv"]) == 0
    assert capsys.readouterr().out.startswith("subnet,address,state,")
