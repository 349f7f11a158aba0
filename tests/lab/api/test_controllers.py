"""Lab controllers: nodes, DaemonSet pods and status, scheduling, pluggable pod starter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runbooklib.lab.api import LabApiServer, resources

DS = {"metadata": {"name": "kube-multus-ds", "labels": {"app": "multus"}}, "spec": {
    "selector": {"matchLabels": {"name": "multus"}},
    "template": {"metadata": {"labels": {"name": "multus", "app": "multus"}},
                 "spec": {"hostNetwork": True, "containers": [{"name": "kube-multus", "image": "multus:thick"}]}}}}


def ds_pods(api: LabApiServer) -> list[dict[str, Any]]:
    return api.store.list(resources.PODS, "kube-system", "app=multus")


def test_daemonset_one_pod_per_node(lab_api: LabApiServer) -> None:
    lab_api.store.create(resources.DAEMONSETS, DS, "kube-system")
    pods = ds_pods(lab_api)
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["lab-n1", "lab-n2", "lab-n3"]
    ds = lab_api.store.get(resources.DAEMONSETS, "kube-system", "kube-multus-ds")
    for p in pods:
        name = p["metadata"]["name"]
        assert name.startswith("kube-multus-ds-") and len(name) == len("kube-multus-ds-") + 5
        assert p["metadata"]["ownerReferences"][0]["uid"] == ds["metadata"]["uid"]
        assert p["spec"]["containers"][0]["image"] == "multus:thick"
        assert p["status"]["phase"] == "Running"
        assert p["status"]["podIP"] == p["status"]["hostIP"]  # hostNetwork
    st = ds["status"]
    assert (st["desiredNumberScheduled"], st["numberReady"], st["numberAvailable"]) == (3, 3, 3)

    # a new node gets a pod; a deleted pod is replaced; deleting the DaemonSet deletes its pods
    lab_api.register_nodes(["lab-n4"])
    assert len(ds_pods(lab_api)) == 4
    lab_api.store.delete(resources.PODS, "kube-system", ds_pods(lab_api)[0]["metadata"]["name"])
    assert len(ds_pods(lab_api)) == 4
    lab_api.store.delete(resources.DAEMONSETS, "kube-system", "kube-multus-ds")
    assert ds_pods(lab_api) == []


def test_pod_starter_decides_readiness(tmp_path: Path) -> None:
    api = LabApiServer(tmp_path / "s", nodes=["n1", "n2"])
    assert api.controllers is not None

    def starter(pod: dict[str, Any]) -> tuple[str, str, str]:
        if pod["spec"]["nodeName"] == "n2":
            return "Pending", "ContainerCreating", "CNI not ready on n2"
        return "Running", "", ""

    api.controllers.pod_starter = starter
    api.store.create(resources.DAEMONSETS, DS, "kube-system")
    st = api.store.get(resources.DAEMONSETS, "kube-system", "kube-multus-ds")["status"]
    assert (st["desiredNumberScheduled"], st["numberReady"], st["numberUnavailable"]) == (2, 1, 1)
    pending = api.store.list(resources.PODS, "kube-system", field_selector="spec.nodeName=n2")[0]
    waiting = pending["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {"reason": "ContainerCreating", "message": "CNI not ready on n2"}
    warnings = api.store.list(resources.EVENTS, "kube-system", field_selector="type=Warning")
    assert [(e["reason"], e["involvedObject"]["name"]) for e in warnings] == [
        ("ContainerCreating", pending["metadata"]["name"])]


def test_scheduling_round_robin_and_unschedulable(tmp_path: Path) -> None:
    api = LabApiServer(tmp_path / "s")
    pod = {"metadata": {"name": "p0"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    api.store.create(resources.PODS, pod, "default")
    p0 = api.store.get(resources.PODS, "default", "p0")
    assert p0["status"]["phase"] == "Pending" and p0["status"]["conditions"][0]["reason"] == "Unschedulable"
    api.register_nodes(["a", "b"])  # registering nodes schedules pending pods
    assert api.store.get(resources.PODS, "default", "p0")["status"]["phase"] == "Running"
    for i in range(1, 5):
        api.store.create(resources.PODS, {**pod, "metadata": {"name": f"p{i}"}}, "default")
    nodes = [p["spec"]["nodeName"] for p in api.store.list(resources.PODS, "default")]
    reasons = [e["reason"] for e in api.store.list(resources.EVENTS, "default", field_selector="involvedObject.name=p1")]
    assert sorted(reasons) == ["Scheduled", "Started"]
    assert nodes.count("a") >= 2 and nodes.count("b") >= 2
    ips = [p["status"]["podIP"] for p in api.store.list(resources.PODS, "default")]
    assert len(set(ips)) == 5 and all(ip.startswith("10.42.") for ip in ips)


def test_daemonset_template_update_rolls_pods(lab_api: LabApiServer) -> None:
    lab_api.store.create(resources.DAEMONSETS, DS, "kube-system")
    before = {p["metadata"]["name"] for p in ds_pods(lab_api)}

    def new_image(ds: dict[str, Any]) -> dict[str, Any]:
        ds["spec"]["template"]["spec"]["containers"][0]["image"] = "multus:v2"
        return ds

    lab_api.store.modify(resources.DAEMONSETS, "kube-system", "kube-multus-ds", new_image)
    pods = ds_pods(lab_api)
    assert len(pods) == 3 and not before & {p["metadata"]["name"] for p in pods}
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"multus:v2"}
    st = lab_api.store.get(resources.DAEMONSETS, "kube-system", "kube-multus-ds")["status"]
    assert st["updatedNumberScheduled"] == 3 and st["observedGeneration"] == 2
