"""kubectl against the lab API: get / apply -f / create -f of the upstream manifests, logs, exec, delete."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from runbooklib.lab.api import LabApiServer

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def test_get_discovery_and_short_names(kubectl: Kubectl) -> None:
    assert "Server Version: v1.32" in kubectl("version").stdout
    ns = kubectl("get", "ns").stdout
    assert "kube-system" in ns and "Active" in ns
    assert kubectl("get", "no").stdout.count("Ready") == 3
    res = kubectl("api-resources").stdout
    for short in ("ns", "ds", "po", "cm", "sa", "crd", "ev"):
        assert f" {short} " in res or f" {short}," in res, short


def test_apply_upstream_twice_then_get(kubectl: Kubectl, lab_api: LabApiServer, upstream_files: list[Path],
                                       upstream_docs: list[dict[str, Any]]) -> None:
    files = upstream_files
    for f in files:  # no --validate=false
        out = kubectl("apply", "-f", str(f)).stdout
        assert "created" in out
    for f in files:
        out = kubectl("apply", "-f", str(f)).stdout
        assert "created" not in out and "configured" not in out and "unchanged" in out, out
    assert len(lab_api.store.all_of("apps/daemonsets")) == sum(d["kind"] == "DaemonSet" for d in upstream_docs)

    ds = kubectl("get", "ds", "-A").stdout
    assert "kube-multus-ds" in ds and "whereabouts" in ds
    assert ds.splitlines()[1].split()[2:5] == ["3", "3", "3"]  # desired current ready
    pods = kubectl("get", "po", "-n", "kube-system", "-l", "app=multus", "-o", "wide").stdout.splitlines()
    assert len(pods) == 4 and all("Running" in p for p in pods[1:])
    crd = yaml.safe_load(kubectl("get", "crd", "network-attachment-definitions.k8s.cni.cncf.io", "-o", "yaml").stdout)
    assert crd["spec"]["names"]["shortNames"] == ["net-attach-def"]
    assert "No resources found" in kubectl("get", "net-attach-def", "-A").stderr
    everything = kubectl("get", "all", "-A").stdout
    assert "daemonset.apps/whereabouts" in everything and "pod/kube-multus-ds-" in everything
    assert "Successfully assigned" not in kubectl("get", "events", "-n", "kube-system").stdout  # DS pods are bound
    assert "SuccessfulCreate" in kubectl("describe", "ds", "-n", "kube-system", "whereabouts").stdout
    cm = yaml.safe_load(kubectl("get", "cm", "-n", "kube-system", "multus-daemon-config", "-o", "yaml").stdout)
    assert "daemon-config.json" in cm["data"]


def test_apply_change_and_custom_resources(kubectl: Kubectl, tmp_path: Path, upstream_files: list[Path]) -> None:
    for f in upstream_files:
        kubectl("apply", "-f", str(f))
    nad = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
           "metadata": {"name": "macvlan-conf", "namespace": "default", "labels": {"team": "a"}},
           "spec": {"config": '{"cniVersion":"0.3.1","type":"macvlan","master":"eth0"}'}}
    path = tmp_path / "nad.yaml"
    path.write_text(yaml.safe_dump(nad))
    assert "created" in kubectl("apply", "-f", str(path)).stdout
    assert "unchanged" in kubectl("apply", "-f", str(path)).stdout
    nad["metadata"]["labels"] = {"team": "b"}
    path.write_text(yaml.safe_dump(nad))
    assert "configured" in kubectl("apply", "-f", str(path)).stdout
    assert "macvlan-conf" in kubectl("get", "net-attach-def", "-l", "team=b").stdout
    assert "macvlan-conf" not in kubectl("get", "net-attach-def", "-l", "team=a").stdout

    # strategic merge from kubectl keeps the other container fields (merge by name)
    kubectl("set", "image", "-n", "kube-system", "ds/kube-multus-ds", "kube-multus=multus:v2")
    ds = yaml.safe_load(kubectl("get", "ds", "-n", "kube-system", "kube-multus-ds", "-o", "yaml").stdout)
    container = ds["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "multus:v2" and len(container["volumeMounts"]) == 10
    assert ds["metadata"]["generation"] == 2 and ds["status"]["updatedNumberScheduled"] == 3


def test_create_all_then_create_again_conflicts(kubectl: Kubectl, upstream_files: list[Path]) -> None:
    for path in upstream_files:
        assert "created" in kubectl("create", "-f", str(path)).stdout
    f = str(next(p for p in upstream_files if p.name.startswith("whereabouts-daemonset")))
    again = kubectl("create", "-f", f, check=False)
    assert again.returncode != 0 and "AlreadyExists" in again.stderr


def test_logs_exec_delete(kubectl: Kubectl, lab_api: LabApiServer, upstream_files: list[Path]) -> None:
    for f in upstream_files:
        kubectl("apply", "-f", str(f))
    lab_api.log_source = lambda ns, pod, c, tail: "".join(f"{pod}/{c} {i}\n" for i in range(10))
    lab_api.exec_handler = lambda ns, pod, c, cmd: (f"ran {' '.join(cmd)} in {pod}/{c}\n".encode(),
                                                    b"warn\n", 0 if cmd[0] != "false" else 7)
    pod = kubectl("get", "po", "-n", "kube-system", "-l", "app=whereabouts", "-o", "name").stdout.split()[0]
    name = pod.split("/")[1]
    logs = kubectl("logs", "-n", "kube-system", pod, "--tail=2").stdout
    assert logs == f"{name}/whereabouts 8\n{name}/whereabouts 9\n"
    ex = kubectl("exec", "-n", "kube-system", pod, "--", "ip", "-br", "a")
    assert ex.stdout == f"ran ip -br a in {name}/whereabouts\n" and "warn" in ex.stderr
    bad = kubectl("exec", "-n", "kube-system", pod, "--", "false", check=False)
    assert bad.returncode == 7 and "exit code 7" in bad.stderr

    assert "deleted" in kubectl("delete", "ds", "-n", "kube-system", "whereabouts").stdout
    assert "No resources found" in kubectl("get", "po", "-n", "kube-system", "-l", "app=whereabouts").stderr
    for f in upstream_files:
        kubectl("delete", "--ignore-not-found", "-f", str(f))
    assert kubectl("get", "crd").stderr.startswith("No resources found")
    missing = kubectl("get", "net-attach-def", check=False)
    assert missing.returncode != 0
