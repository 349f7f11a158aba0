"""Contract tests with the official ``kubernetes`` client: CRUD, errors, patches, selectors."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

NAD = ("k8s.cni.cncf.io", "v1", "network-attachment-definitions")


def nad(name: str, labels: dict[str, str] | None = None) -> dict:
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": name, "labels": labels or {}}, "spec": {"config": '{"type":"macvlan"}'}}


def status_of(exc: pytest.ExceptionInfo[ApiException]) -> int:
    return int(exc.value.status)


def test_custom_object_404_without_crd(api_client: client.ApiClient) -> None:
    co = client.CustomObjectsApi(api_client)
    with pytest.raises(ApiException) as exc:
        co.list_namespaced_custom_object(*NAD[:2], "default", NAD[2])
    assert status_of(exc) == 404
    assert "the server could not find the requested resource" in exc.value.body
    with pytest.raises(ApiException) as exc:
        co.create_namespaced_custom_object(*NAD[:2], "default", NAD[2], nad("a"))
    assert status_of(exc) == 404


@pytest.mark.usefixtures("with_crds")
def test_custom_object_crud(api_client: client.ApiClient) -> None:
    co = client.CustomObjectsApi(api_client)
    created = co.create_namespaced_custom_object(*NAD[:2], "default", NAD[2], nad("m1", {"team": "a"}))
    assert created is not None, "create must answer 201 (the client drops other codes)"
    meta = created["metadata"]
    assert meta["uid"] and meta["resourceVersion"] and meta["creationTimestamp"] and meta["generation"] == 1
    with pytest.raises(ApiException) as exc:
        co.create_namespaced_custom_object(*NAD[:2], "default", NAD[2], nad("m1"))
    assert status_of(exc) == 409 and '"reason": "AlreadyExists"' in exc.value.body.replace('":"', '": "')
    got = co.get_namespaced_custom_object(*NAD[:2], "default", NAD[2], "m1")
    assert got["spec"]["config"] == '{"type":"macvlan"}'
    with pytest.raises(ApiException) as exc:
        co.get_namespaced_custom_object(*NAD[:2], "default", NAD[2], "missing")
    assert status_of(exc) == 404 and "NotFound" in exc.value.body

    patched = co.patch_namespaced_custom_object(*NAD[:2], "default", NAD[2], "m1",
                                                {"metadata": {"labels": {"team": None, "x": "1"}}})
    assert patched["metadata"]["labels"] == {"x": "1"}
    patched = co.patch_namespaced_custom_object(
        *NAD[:2], "default", NAD[2], "m1", [{"op": "replace", "path": "/spec/config", "value": "{}"}],
        _content_type="application/json-patch+json")
    assert patched["spec"]["config"] == "{}" and patched["metadata"]["generation"] == 2
    with pytest.raises(ApiException) as exc:  # list body sent as merge patch (the client's default)
        co.patch_namespaced_custom_object(*NAD[:2], "default", NAD[2], "m1",
                                          [{"op": "replace", "path": "/spec/config", "value": "{}"}])
    assert status_of(exc) == 400
    with pytest.raises(ApiException) as exc:
        co.patch_namespaced_custom_object(*NAD[:2], "default", NAD[2], "m1",
                                          [{"op": "remove", "path": "/spec/nope"}],
                                          _content_type="application/json-patch+json")
    assert status_of(exc) == 422
    with pytest.raises(ApiException) as exc:
        co.patch_namespaced_custom_object(*NAD[:2], "default", NAD[2], "missing", {"spec": {}})
    assert status_of(exc) == 404

    stale = dict(got)
    fresh = co.replace_namespaced_custom_object(*NAD[:2], "default", NAD[2], "m1",
                                                {**patched, "spec": {"config": "replaced"}})
    assert fresh["spec"]["config"] == "replaced"
    assert int(fresh["metadata"]["resourceVersion"]) > int(patched["metadata"]["resourceVersion"])
    with pytest.raises(ApiException) as exc:
        co.replace_namespaced_custom_object(*NAD[:2], "default", NAD[2], "m1", stale)
    assert status_of(exc) == 409 and "Conflict" in exc.value.body

    co.delete_namespaced_custom_object(*NAD[:2], "default", NAD[2], "m1")
    with pytest.raises(ApiException) as exc:
        co.get_namespaced_custom_object(*NAD[:2], "default", NAD[2], "m1")
    assert status_of(exc) == 404
    with pytest.raises(ApiException) as exc:
        co.delete_namespaced_custom_object(*NAD[:2], "default", NAD[2], "m1")
    assert status_of(exc) == 404


@pytest.mark.usefixtures("with_crds")
def test_label_selectors(api_client: client.ApiClient) -> None:
    co = client.CustomObjectsApi(api_client)
    for name, labels in (("a", {"team": "a", "tier": "x"}), ("b", {"team": "b"}), ("c", {})):
        co.create_namespaced_custom_object(*NAD[:2], "default", NAD[2], nad(name, labels))

    def names(selector: str) -> list[str]:
        items = co.list_namespaced_custom_object(*NAD[:2], "default", NAD[2], label_selector=selector)["items"]
        return [i["metadata"]["name"] for i in items]

    assert names("team=a") == ["a"]
    assert names("team==b") == ["b"]
    assert names("team!=a") == ["b", "c"]
    assert names("team in (a,b)") == ["a", "b"]
    assert names("team notin (a)") == ["b", "c"]
    assert names("tier") == ["a"]
    assert names("!team") == ["c"]
    assert names("team,!tier") == ["b"]
    for bad in ("team in (a", "=x", "a b c"):
        with pytest.raises(ApiException) as exc:
            names(bad)
        assert status_of(exc) == 400


@pytest.mark.usefixtures("with_crds")
def test_crds_and_cluster_scoped(api_client: client.ApiClient) -> None:
    ext = client.ApiextensionsV1Api(api_client)
    crds = ext.list_custom_resource_definition().items
    assert {c.metadata.name for c in crds} >= {"network-attachment-definitions.k8s.cni.cncf.io",
                                               "ippools.whereabouts.cni.cncf.io"}
    crd = ext.read_custom_resource_definition("ippools.whereabouts.cni.cncf.io")
    assert any(c.type == "Established" and c.status == "True" for c in crd.status.conditions)
    with pytest.raises(ApiException) as exc:
        ext.read_custom_resource_definition("nope.example.com")
    assert status_of(exc) == 404
    co = client.CustomObjectsApi(api_client)
    pool = {"apiVersion": "whereabouts.cni.cncf.io/v1alpha1", "kind": "IPPool",
            "metadata": {"name": "10.10.0.0-24"}, "spec": {"range": "10.10.0.0/24", "allocations": {}}}
    co.create_namespaced_custom_object("whereabouts.cni.cncf.io", "v1alpha1", "kube-system", "ippools", pool)
    assert len(co.list_cluster_custom_object("whereabouts.cni.cncf.io", "v1alpha1", "ippools")["items"]) == 1
    # deleting the CRD removes the resource and its objects
    ext.delete_custom_resource_definition("ippools.whereabouts.cni.cncf.io")
    with pytest.raises(ApiException) as exc:
        co.list_cluster_custom_object("whereabouts.cni.cncf.io", "v1alpha1", "ippools")
    assert status_of(exc) == 404


def test_builtin_kinds(api_client: client.ApiClient) -> None:
    core, rbac = client.CoreV1Api(api_client), client.RbacAuthorizationV1Api(api_client)
    ns = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="t1")))
    assert ns.status.phase == "Active"
    core.create_namespaced_config_map("t1", {"metadata": {"name": "cm"}, "data": {"k": "v"}})
    assert core.read_namespaced_config_map("cm", "t1").data == {"k": "v"}
    core.create_namespaced_service_account("t1", {"metadata": {"name": "sa"}})
    rbac.create_cluster_role({"metadata": {"name": "cr"}, "rules": []})
    rbac.create_cluster_role_binding({"metadata": {"name": "crb"}, "roleRef": {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cr"}, "subjects": []})
    assert [r.metadata.name for r in rbac.list_cluster_role_binding().items] == ["crb"]
    core.create_namespaced_event("t1", {"metadata": {"generateName": "ev-"}, "reason": "Test",
                                        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "t1"}})
    events = core.list_namespaced_event("t1", field_selector="involvedObject.name=p").items
    assert len(events) == 1 and events[0].metadata.name.startswith("ev-") and len(events[0].metadata.name) == 8
    ev1 = client.EventsV1Api(api_client)
    ev1.create_namespaced_event("t1", {"metadata": {"name": "e2"}, "eventTime": "2026-01-01T00:00:00.000000Z",
                                       "reason": "R", "action": "A", "reportingController": "lab",
                                       "reportingInstance": "lab"})
    assert [e.metadata.name for e in ev1.list_namespaced_event("t1").items] == ["e2"]
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map("no-such-ns", {"metadata": {"name": "cm"}})
    assert status_of(exc) == 404
    core.delete_namespace("t1")
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("cm", "t1")
    assert [n.metadata.name for n in core.list_node().items] == ["lab-n1", "lab-n2", "lab-n3"]


def test_pods_selectors_patch_status(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    for name, app in (("p1", "multus"), ("p2", "multus"), ("p3", "other")):
        core.create_namespaced_pod("kube-system", {"metadata": {"name": name, "labels": {"app": app}},
                                                   "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    assert len(core.list_namespaced_pod("kube-system", label_selector="app=multus").items) == 2
    assert len(core.list_namespaced_pod("kube-system", label_selector="app in (multus,other)").items) == 3
    assert len(core.list_pod_for_all_namespaces(label_selector="app notin (multus)").items) == 1
    p1 = core.read_namespaced_pod("p1", "kube-system")
    assert p1.spec.node_name in ("lab-n1", "lab-n2", "lab-n3") and p1.status.phase == "Running"
    assert p1.status.pod_ip and any(c.type == "Ready" and c.status == "True" for c in p1.status.conditions)
    on_node = core.list_namespaced_pod("kube-system", field_selector=f"spec.nodeName={p1.spec.node_name}").items
    assert "p1" in [p.metadata.name for p in on_node]
    assert [p.metadata.name for p in core.list_namespaced_pod(
        "kube-system", field_selector="metadata.name=p2,status.phase=Running").items] == ["p2"]
    assert core.list_namespaced_pod("kube-system", field_selector="status.phase=Pending").items == []

    # strategic merge (dict body): containers merge by name
    patched = core.patch_namespaced_pod("p1", "kube-system", {
        "metadata": {"annotations": {"k8s.v1.cni.cncf.io/networks": "macvlan-conf"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:2"}]}})
    assert patched.metadata.annotations["k8s.v1.cni.cncf.io/networks"] == "macvlan-conf"
    assert [(c.name, c.image) for c in patched.spec.containers] == [("c", "busybox:2")]
    # json patch (list body)
    patched = core.patch_namespaced_pod("p1", "kube-system", [
        {"op": "add", "path": "/metadata/labels/extra", "value": "1"}])
    assert patched.metadata.labels["extra"] == "1"
    # status is ignored on the main resource, written through /status
    core.patch_namespaced_pod("p1", "kube-system", {"status": {"phase": "Failed"}})
    assert core.read_namespaced_pod("p1", "kube-system").status.phase == "Running"
    core.patch_namespaced_pod_status("p1", "kube-system", {"status": {"phase": "Failed"}})
    assert core.read_namespaced_pod_status("p1", "kube-system").status.phase == "Failed"
    core.delete_namespaced_pod("p3", "kube-system")
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod("p3", "kube-system")
    assert status_of(exc) == 404


def test_apply_patch_unsupported(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map("default", {"metadata": {"name": "cm"}})
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_config_map("cm", "default", {"data": {"a": "b"}},
                                         _content_type="application/apply-patch+yaml", field_manager="t")
    assert status_of(exc) == 415
    with pytest.raises(ApiException) as exc:  # refused rather than silently persisted
        core.create_namespaced_config_map("default", {"metadata": {"name": "dry"}}, dry_run="All")
    assert status_of(exc) == 400


def test_daemonset_status_read(api_client: client.ApiClient) -> None:
    apps = client.AppsV1Api(api_client)
    ds = {"metadata": {"name": "d"}, "spec": {
        "selector": {"matchLabels": {"name": "d"}},
        "template": {"metadata": {"labels": {"name": "d"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    apps.create_namespaced_daemon_set("kube-system", ds)
    got = apps.read_namespaced_daemon_set("d", "kube-system")
    assert got.status.desired_number_scheduled == 3 and got.status.number_ready == 3
    with pytest.raises(ApiException) as exc:
        apps.read_namespaced_daemon_set("missing", "kube-system")
    assert status_of(exc) == 404
