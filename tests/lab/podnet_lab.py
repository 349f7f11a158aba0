"""A lab for the pod-networking tests: the reference lab (params/lab.yaml: kr1, kr2, hp1, hp2, NAD
storage-205) moved to its own cluster name, state dir, management CIDR and storage subnet so it
never collides with a demo lab or another engineer's test lab."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


def podnet_params(path: Path, *, cluster: str, state_dir: str, mgmt_cidr: str = "198.19.64.0/24",
                  storage_cidr: str = "198.18.206.0/24", nodes: int = 4) -> Path:
    base = REPO / "params" / "lab.yaml"
    raw: dict[str, Any] = yaml.safe_load(base.read_text())
    mgmt, storage = ipaddress.ip_network(mgmt_cidr), ipaddress.ip_network(storage_cidr)
    gw = mgmt.network_address + 1
    old_storage = ipaddress.ip_network(raw["storage_network"]["cidr"])

    def move(addr: str) -> str:
        return str(storage.network_address + (int(ipaddress.ip_address(addr)) - int(old_storage.network_address)))

    raw["cluster"] = cluster
    raw["kubeconfig"] = {"path": f"{state_dir}/kubeconfig"}
    raw["ssh"]["known_hosts"] = f"{state_dir}/ssh/known_hosts"
    raw["lab"] = {"state_dir": state_dir, "mgmt_cidr": mgmt_cidr}
    for key in ("url", "sha256_url"):
        raw["artifacts"]["cni_plugins"][key] = raw["artifacts"]["cni_plugins"][key].replace("198.19.0.1", str(gw))
    for key in ("multus_manifest", "whereabouts_manifest"):
        raw["artifacts"][key]["local"] = str((base.parent / raw["artifacts"][key]["local"]).resolve())
    for crd in raw["artifacts"]["whereabouts_crds"]:
        crd["local"] = str((base.parent / crd["local"]).resolve())
    raw["storage_network"]["cidr"] = storage_cidr
    raw["nodes"] = raw["nodes"][:nodes]
    for i, n in enumerate(raw["nodes"]):
        n["ssh"]["host"] = str(mgmt.network_address + 11 + i)
        n["ssh"]["key_file"] = f"{state_dir}/ssh/id_ed25519"
        n["storage_nic"]["address"] = move(n["storage_nic"]["address"])
    for h in raw.get("static_hosts", []):
        h["address"] = move(h["address"])
    for nad in raw["nads"]:
        ipam = nad["ipam"]
        ipam["range"] = storage_cidr
        for k in ("range_start", "range_end"):
            if k in ipam:
                ipam[k] = move(ipam[k])
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


# --- helpers shared by test_pod_networking.py and test_scenarios.py ---------------------------------

NAD_NS, NAD = "longhorn-system", "storage-205"


def free_mgmt_cidr(seed: int) -> str:
    import json
    import subprocess

    out = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True, check=True).stdout  # noqa: S603,S607
    used = {a.get("local") for link in json.loads(out) for a in link.get("addr_info", [])}
    for k in range(36):
        cidr = f"198.19.{64 + (seed + k) % 36}.0/24"
        if str(ipaddress.ip_network(cidr).network_address + 1) not in used:
            return cidr
    raise RuntimeError("no free 198.19.64-99.x/24 for a pod-networking test lab")


class LabSession:
    """A running pod-networking lab: params, a kubernetes client, pod helpers."""

    def __init__(self, params_file: Path) -> None:
        from runbooklib.cluster import api_client_from_kubeconfig
        from runbooklib.lab.lab import Lab
        from runbooklib.params import load_params

        self.params_file = params_file
        self.lab = Lab.from_params(load_params(params_file, require_files=False))
        self.lab.up()
        self.params = load_params(params_file)
        from kubernetes import client as k8s

        self.client = api_client_from_kubeconfig(self.params.kubeconfig.path)
        self.core = k8s.CoreV1Api(self.client)
        self.custom = k8s.CustomObjectsApi(self.client)

    @property
    def state(self):  # noqa: ANN201
        from runbooklib.lab.state import load_lab_state
        return load_lab_state(self.params)

    def node_prep(self, nodes: list[str] | None = None) -> None:
        from runbooklib.nodes import prep_nodes
        res = prep_nodes(self.params, nodes=nodes)
        assert res.ok, res

    def install(self) -> None:
        from kubernetes.client.rest import ApiException

        from runbooklib.cluster import apply_manifests, wait_for_rollout
        from runbooklib.manifests import prepare_manifests
        from runbooklib.nad.apply import apply_nads
        from runbooklib.results import Status

        self.node_prep()
        results = apply_manifests(self.client, prepare_manifests(self.params).docs())
        assert all(r.status is not Status.FAILED for r in results), results
        report = wait_for_rollout(self.client, timeout_s=90, poll_s=0.3)
        assert report.ready, report.render()
        try:
            self.core.create_namespace({"metadata": {"name": NAD_NS}})
        except ApiException as e:
            assert e.status == 409
        assert all(r.status is not Status.FAILED for r in apply_nads(self.params, self.client))

    def down(self) -> None:
        self.lab.down()

    # -- pods --------------------------------------------------------------------------------------
    def create_pod(self, name: str, node: str | None = None, networks: str | None = NAD,
                   namespace: str = NAD_NS) -> None:
        meta: dict[str, Any] = {"name": name}
        if networks is not None:
            meta["annotations"] = {"k8s.v1.cni.cncf.io/networks": networks}
        spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
        if node:
            spec["nodeName"] = node
        self.core.create_namespaced_pod(namespace, {"metadata": meta, "spec": spec})

    def events(self, name: str, namespace: str = NAD_NS, reason: str | None = None) -> list[str]:
        return [e.message or "" for e in self.core.list_namespaced_event(namespace).items
                if e.involved_object.name == name and (reason is None or e.reason == reason)]

    def wait_pod(self, name: str, namespace: str = NAD_NS, timeout: float = 45,
                 want: str = "Running", error: str | None = None) -> Any:
        import time
        deadline = time.monotonic() + timeout
        while True:
            pod = self.core.read_namespaced_pod(name, namespace)
            if want == "Running" and pod.status.phase == "Running":
                return pod
            if error is not None and any(error in m for m in self.events(name, namespace)):
                return pod
            if time.monotonic() > deadline:
                raise AssertionError(f"pod {namespace}/{name}: phase {pod.status.phase}; events: "
                                     f"{self.events(name, namespace)}")
            time.sleep(0.2)

    def delete_pod(self, name: str, namespace: str = NAD_NS) -> None:
        self.core.delete_namespaced_pod(name, namespace)

    def exec(self, name: str, command: list[str], namespace: str = NAD_NS) -> str:
        from kubernetes.stream import stream
        return stream(self.core.connect_get_namespaced_pod_exec, name, namespace, command=command,
                      stderr=True, stdin=False, stdout=True, tty=False)

    def allocations(self, pool: str) -> dict[str, Any]:
        obj = self.custom.get_namespaced_custom_object("whereabouts.cni.cncf.io", "v1alpha1", "kube-system",
                                                       "ippools", pool)
        return dict(obj["spec"].get("allocations") or {})

    def multus_pod(self, node: str) -> Any:
        pods = self.core.list_namespaced_pod("kube-system", label_selector="name=multus").items
        return next(p for p in pods if p.spec.node_name == node)

    def daemon_log(self, node: str) -> str:
        return self.core.read_namespaced_pod_log(self.multus_pod(node).metadata.name, "kube-system",
                                                 container="kube-multus")

    def node_sh(self, node: str, script: str) -> str:
        from runbooklib.lab.cni import nodeexec
        st = self.state
        h = nodeexec.NodeHandle.of(st, node, Path(st.state_dir) / "cni" / "rbl-cni.pyz")
        proc = nodeexec.run(h, ["sh", "-c", script])
        return proc.stdout.decode() + proc.stderr.decode()


def make_session(tmp: Path, tag: str) -> LabSession:
    import os
    pid = os.getpid()
    pfile = podnet_params(tmp / f"podnet-{tag}.yaml", cluster=f"pn{pid}-{tag}",
                          state_dir=f"/var/tmp/runbooklib-podnet-{pid}-{tag}",
                          mgmt_cidr=free_mgmt_cidr(pid + sum(map(ord, tag))), storage_cidr="198.18.206.0/24")
    return LabSession(pfile)


def cleanup_stale_podnet_labs() -> None:
    """Tear down pod-networking test labs left by dead test sessions (only ours: runbooklib-podnet-<pid>-*)."""
    from runbooklib.lab.lab import Lab
    from runbooklib.params import load_params

    for d in Path("/var/tmp").glob("runbooklib-podnet-*"):
        pid = d.name[len("runbooklib-podnet-"):].split("-")[0]
        if not pid.isdigit() or Path(f"/proc/{pid}").exists() or not (d / "params.yaml").exists():
            continue
        Lab.from_params(load_params(d / "params.yaml", require_files=False)).down()
