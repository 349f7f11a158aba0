"""Start the lab API (another module: `python -m runbooklib.lab.api`) as a daemon, and register nodes.

Interface used (documented by the lab API): `python -m runbooklib.lab.api --state-dir DIR --port N
--kubeconfig PATH` serves the Kubernetes API on 127.0.0.1:N with its state in DIR and writes a
kubeconfig to PATH. The lab then creates one Node object per lab node (as k3s agents do when they
join), through the ordinary kubernetes client and that kubeconfig.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from runbooklib.lab.names import DEFAULT_API_PORT, LabNames
from runbooklib.lab.procs import alive, port_open, read_pid, spawn, wait_port

API_HOST = "127.0.0.1"
API_MODULE = "runbooklib.lab.api"


def available() -> bool:
    return importlib.util.find_spec(API_MODULE + ".__main__") is not None


def choose_port(preferred: int = DEFAULT_API_PORT) -> int:
    if not port_open(API_HOST, preferred, 0.2):
        return preferred
    with socket.socket() as s:
        s.bind((API_HOST, 0))
        return int(s.getsockname()[1])


def start(state_dir: Path, port: int, kubeconfig: Path, pid_file: Path, log_file: Path, timeout: float = 20) -> int:
    pid = read_pid(pid_file)
    if alive(pid) and port_open(API_HOST, port):
        assert pid is not None
        return pid
    state_dir.mkdir(parents=True, exist_ok=True)
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    ready = state_dir.parent / "api.ready"
    ready.unlink(missing_ok=True)
    argv = [sys.executable, "-m", API_MODULE, "--state-dir", str(state_dir), "--host", API_HOST, "--port", str(port),
            "--kubeconfig", str(kubeconfig), "--ready-file", str(ready)]
    pid = spawn(argv, pid_file=pid_file, log_file=log_file)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if not alive(pid) or time.monotonic() > deadline:
            raise RuntimeError(f"lab API did not become ready on {API_HOST}:{port}; see {log_file}")
        time.sleep(0.02)
    if not (wait_port(API_HOST, port, timeout=5, pid=pid) and kubeconfig.exists()):
        raise RuntimeError(f"lab API is not answering on {API_HOST}:{port} or wrote no kubeconfig; see {log_file}")
    return pid


def node_object(names: LabNames, node_name: str, roles: list[str], k3s_version: str) -> dict[str, Any]:
    n = names.node(node_name)
    labels = {
        "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": "k3s",
    }
    if "server" in roles:
        labels["node-role.kubernetes.io/control-plane"] = "true"
        labels["node-role.kubernetes.io/master"] = "true"
    ident = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{names.cluster}.{n.name}.runbooklib-lab"))
    pod_cidr = str(ipaddress.ip_interface(n.pod_subnet).network)
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": n.name, "labels": labels, "annotations": {
            "k3s.io/internal-ip": n.mgmt_address, "flannel.alpha.coreos.com/backend-type": "vxlan",
            "runbooklib.lab/netns": n.netns}},
        "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]},
        "status": {
            "addresses": [{"type": "InternalIP", "address": n.mgmt_address}, {"type": "Hostname", "address": n.name}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status (lab)"}],
            "nodeInfo": {"kubeletVersion": k3s_version, "kubeProxyVersion": k3s_version,
                         "containerRuntimeVersion": "containerd://lab", "operatingSystem": "linux",
                         "architecture": "amd64", "osImage": "runbooklib lab node", "kernelVersion": os.uname().release,
                         "machineID": ident, "systemUUID": ident, "bootID": ident},
        },
    }


def register_nodes(kubeconfig: Path, objects: list[dict[str, Any]]) -> None:
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    for obj in objects:
        try:
            api.create_node(obj)
        except ApiException as e:
            if e.status != 409:
                raise
            api.patch_node(obj["metadata"]["name"], {"metadata": obj["metadata"], "spec": obj["spec"]})
        try:
            api.patch_node_status(obj["metadata"]["name"], {"status": obj["status"]})
        except ApiException:
            pass          # the emulator may keep status from create only
