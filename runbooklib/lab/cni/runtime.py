"""containerd's and the kubelet's part of pod networking, in the lab API process.

For every pod the lab controllers start (`pod_starter`), work is queued and done in a worker thread
(as the kubelet does it asynchronously; the pod shows ContainerCreating meanwhile):
- ordinary pods: sandbox = a network namespace created ON the node + containerd's CNI step run
  inside the node (nodeside/containerd.py: first conf of the k3s conf dir, plugins from
  `data/cni`). Failure: Warning event `FailedCreatePodSandBox` with the kubelet's wording, the
  netns is torn down, the pod stays ContainerCreating and is retried with a back-off (so a repair
  on the node is picked up, as on a real node). Success: Running, podIP = the eth0 address.
- Multus DaemonSet pods: the init container's copies, then the daemon (daemon.py) — or its
  `could not find a plugin configuration in ...` log lines and CrashLoopBackOff;
- Whereabouts DaemonSet pods: install-cni.sh's effect (effects.py);
- pod deletion: CNI DEL through the same chain, the netns removed.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbooklib.lab.api import resources as r
from runbooklib.lab.api.store import ObjectStore
from runbooklib.lab.cni import effects, multus, nodeexec, podapi
from runbooklib.lab.cni.daemon import DaemonContext, MultusDaemon
from runbooklib.lab.cni.nodeside.cniproto import k8s_cni_args
from runbooklib.lab.cni.podview import ContainerView, find_container, is_multus_daemon, is_whereabouts
from runbooklib.lab.sh import run as sh_run
from runbooklib.lab.state import LabState

Obj = dict[str, Any]
RETRY_SECONDS = (1.0, 2.0, 3.0, 5.0)
WORKERS = 4
log = logging.getLogger(__name__)


@dataclass
class Sandbox:
    node: str
    container_id: str
    netns: str            # name below /run/netns
    uid: str

    @property
    def netns_path(self) -> str:
        return f"/run/netns/{self.netns}"


class PodNetworking:
    """Pod networking for one lab: hooks for the lab API (see module docstring)."""

    def __init__(self, store: ObjectStore, state_dir: Path, api_url_for_nodes: str, api_token: str) -> None:
        self.store = store
        self.state_dir = Path(state_dir)
        self.api_url_for_nodes, self.api_token = api_url_for_nodes, api_token
        self.logs = podapi.PodLogs()
        self.dir = self.state_dir / "cni"
        (self.dir / "sandboxes").mkdir(parents=True, exist_ok=True)
        self.pyz = self.dir / "rbl-cni.pyz"
        from runbooklib.lab.cni import pyz
        pyz.write(self.pyz, flavour="v1")
        self.daemons: dict[str, MultusDaemon] = {}
        self._q: queue.Queue[tuple[str, Obj]] = queue.Queue()
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.ctx = DaemonContext(store, self.logs, self.handle, lambda n, p: self.lab().node_path(n, p))
        self._pod_locks: dict[str, threading.Lock] = {}
        for i in range(WORKERS):
            threading.Thread(target=self._worker, name=f"lab-pod-networking-{i}", daemon=True).start()

    # -- lab access ---------------------------------------------------------------------------------
    def lab(self) -> LabState:
        return LabState.load(self.state_dir)

    def handle(self, node: str) -> nodeexec.NodeHandle:
        return nodeexec.NodeHandle.of(self.lab(), node, self.pyz)

    def is_lab_node(self, node: str) -> bool:
        try:
            self.lab().node(node)
            return True
        except (KeyError, OSError, ValueError):
            return False

    # -- hooks ----------------------------------------------------------------------------------------
    def pod_starter(self, pod: Obj) -> tuple[str, str, str]:
        if not self.is_lab_node(pod.get("spec", {}).get("nodeName", "")):
            return "Running", "", ""
        self._q.put(("start", pod))
        return "Pending", "ContainerCreating", ""

    def on_change(self, verb: str, rt: r.ResourceType, obj: Obj) -> None:
        if rt.key == r.PODS.key and verb == "delete":
            self._q.put(("delete", obj))

    def log_source(self, namespace: str, pod: str, container: str, tail: int | None) -> str | None:
        return self.logs.text(namespace, pod, tail)

    def exec_in_pod(self, namespace: str, name: str, container: str, command: list[str]) -> tuple[bytes, bytes, int]:
        pod = self.store.try_get(r.PODS, namespace, name)
        if pod is None:
            return b"", f'pods "{name}" not found\n'.encode(), 1
        node = pod.get("spec", {}).get("nodeName", "")
        if not self.is_lab_node(node):
            return b"", f"pod {namespace}/{name} is not on a lab node\n".encode(), 126
        h = self.handle(node)
        if pod["spec"].get("hostNetwork"):
            proc = nodeexec.run(h, command)
        else:
            sb = self.sandbox(pod)
            if sb is None:
                return b"", (f"error: unable to upgrade connection: container not found (\"{container}\"): "
                             f"pod {namespace}/{name} has no sandbox\n").encode(), 1
            proc = nodeexec.run(h, ["ip", "netns", "exec", sb.netns] + command, net=False)
        return proc.stdout, proc.stderr, proc.returncode

    # -- sandboxes ------------------------------------------------------------------------------------
    def _sb_path(self, uid: str) -> Path:
        return self.dir / "sandboxes" / f"{uid}.json"

    def sandbox(self, pod: Obj) -> Sandbox | None:
        try:
            return Sandbox(**json.loads(self._sb_path(pod["metadata"].get("uid", "")).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    # -- worker ---------------------------------------------------------------------------------------
    def _worker(self) -> None:
        while True:
            kind, pod = self._q.get()
            uid = pod.get("metadata", {}).get("uid", "")
            with self._lock:
                pod_lock = self._pod_locks.setdefault(uid, threading.Lock())
            try:
                pod_lock.acquire()
                if kind == "start":
                    self._start(pod)
                elif kind == "recover":
                    self._start_host_network(pod)
                elif kind == "delete":
                    self._delete(pod)
            except Exception:  # noqa: BLE001 - one pod's failure must not stop the worker
                log.exception("lab pod networking: %s %s/%s failed", kind, pod["metadata"].get("namespace"),
                              pod["metadata"].get("name"))
            finally:
                pod_lock.release()
                if kind == "delete":
                    with self._lock:
                        self._pod_locks.pop(uid, None)
                self._q.task_done()

    def _retry(self, pod: Obj) -> None:
        uid = pod["metadata"].get("uid", "")
        n = self._attempts.get(uid, 0)
        self._attempts[uid] = n + 1
        delay = RETRY_SECONDS[min(n, len(RETRY_SECONDS) - 1)]
        t = threading.Timer(delay, lambda: self._q.put(("start", pod)))
        t.daemon = True
        t.start()

    def _current(self, pod: Obj) -> Obj | None:
        meta = pod["metadata"]
        cur = self.store.try_get(r.PODS, meta["namespace"], meta["name"])
        if cur is None or cur["metadata"].get("uid") != meta.get("uid"):
            return None
        return cur

    def _start(self, pod: Obj) -> None:
        pod = self._current(pod) or {}
        if not pod or pod.get("status", {}).get("phase") == "Running":
            return
        if pod["spec"].get("hostNetwork"):
            self._start_host_network(pod)
        else:
            self._start_sandbox(pod)

    def _start_sandbox(self, pod: Obj) -> None:
        meta, node = pod["metadata"], pod["spec"]["nodeName"]
        h = self.handle(node)
        cid = uuid.uuid4().hex + uuid.uuid4().hex
        sb = Sandbox(node, cid, f"{self.lab().prefix}{node}-cni-{cid[:12]}", meta.get("uid", ""))
        req = {"command": "ADD", "container_id": cid, "netns": sb.netns_path, "ifname": "eth0",
               "cni_args": k8s_cni_args(meta["namespace"], meta["name"], meta.get("uid", ""), cid)}
        out = nodeexec.helper(h, "containerd", req)
        if "error" in out:
            self._teardown(h, sb, req)
            msg = (f"Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for "
                   f"sandbox \"{cid}\": {out['error']}")
            podapi.record_event(self.store, pod, "FailedCreatePodSandBox", msg, type_="Warning")
            podapi.set_status(self.store, pod, "Pending", "ContainerCreating", "")
            self._retry(pod)
            return
        self._sb_path(sb.uid).write_text(json.dumps(sb.__dict__))
        if self._current(pod) is None:       # deleted meanwhile: undo
            self._delete(pod)
            return
        ips = [str(ip.get("address", "")).split("/")[0] for ip in (out.get("result") or {}).get("ips") or []]
        podapi.record_event(self.store, pod, "Started", "Started container (lab: sandbox " + sb.netns + ")")
        podapi.set_status(self.store, pod, "Running", ip=ips[0] if ips else "")
        self._attempts.pop(sb.uid, None)

    def _teardown(self, h: nodeexec.NodeHandle, sb: Sandbox, req: Obj) -> None:
        try:
            nodeexec.helper(h, "containerd", {**req, "command": "DEL"})
        except nodeexec.NodeExecError:
            pass
        nodeexec.run(h, ["ip", "netns", "delete", sb.netns], net=False)

    def _delete(self, pod: Obj) -> None:
        meta = pod["metadata"]
        uid = meta.get("uid", "")
        self._attempts.pop(uid, None)
        d = self.daemons.get(pod.get("spec", {}).get("nodeName", ""))
        if d is not None and d.pod_name == meta.get("name") and d.pod_namespace == meta.get("namespace"):
            d.stop()
            self.daemons.pop(d.node, None)
        sb = self.sandbox(pod)
        if sb is None:
            return
        req = {"command": "DEL", "container_id": sb.container_id, "netns": sb.netns_path, "ifname": "eth0",
               "cni_args": k8s_cni_args(meta["namespace"], meta["name"], uid, sb.container_id)}
        try:
            h = self.handle(sb.node)
            out = nodeexec.helper(h, "containerd", req)
            if "error" in out:
                log.warning("lab pod networking: DEL %s/%s: %s", meta["namespace"], meta["name"], out["error"])
            nodeexec.run(h, ["ip", "netns", "delete", sb.netns], net=False)
        except nodeexec.NodeExecError:
            sh_run(["ip", "netns", "delete", sb.netns], check=False)
        self._sb_path(uid).unlink(missing_ok=True)

    # -- DaemonSet pods with node effects -----------------------------------------------------------
    def _start_host_network(self, pod: Obj) -> None:
        node = pod["spec"]["nodeName"]
        meta = pod["metadata"]
        ns, name = meta["namespace"], meta["name"]
        try:
            if is_multus_daemon(pod):
                if not self._start_multus(pod):
                    podapi.set_status(self.store, pod, "Pending", "CrashLoopBackOff",
                                      "back-off restarting failed container kube-multus")
                    self._retry(pod)
                    return
            elif is_whereabouts(pod):
                wrote = effects.run_whereabouts_install(self.handle(node), pod, self.pyz.read_bytes(),
                                                        self.api_url_for_nodes, self.api_token)
                self.logs.add(ns, name, f"lab: install-cni.sh wrote {', '.join(wrote)} on {node}", "info")
        except nodeexec.NodeExecError as e:
            self.logs.add(ns, name, str(e), "error")
            podapi.set_status(self.store, pod, "Pending", "CrashLoopBackOff", str(e))
            self._retry(pod)
            return
        podapi.set_status(self.store, pod, "Running", ip=self._node_ip(node))

    def _node_ip(self, node: str) -> str:
        try:
            return self.lab().node(node).mgmt_address
        except (KeyError, OSError):
            return ""

    def _start_multus(self, pod: Obj) -> bool:
        node, meta = pod["spec"]["nodeName"], pod["metadata"]
        ns, name = meta["namespace"], meta["name"]
        h = self.handle(node)
        copied = effects.run_multus_init(h, pod, self.pyz.read_bytes())
        if copied:
            self.logs.add(ns, name, f"lab: init container install-multus-binary copied to {', '.join(copied)}", "info")
        cname = find_container(pod, lambda c: "multus-daemon" in " ".join(c.get("command") or []))
        v = ContainerView.from_pod(pod, cname or "kube-multus",
                                   lambda cns, cm: self.store.try_get(r.CONFIGMAPS, cns, cm))
        raw = v.files.get(multus.DAEMON_CONFIG_PATH)
        if raw is None:
            self.logs.add(ns, name, f"failed to read the config file's content: open {multus.DAEMON_CONFIG_PATH}: "
                          "no such file or directory", "error")
            return False
        cfg = multus.daemon_config(raw)
        auto_dir = str(cfg.get("multusAutoconfigDir") or cfg.get("cniConfigDir") or "/host/etc/cni/net.d")
        listing = nodeexec.view(h, v.mount_specs(), dict(v.files), [{"op": "list_confs", "dir": auto_dir}])[0]
        files = listing.get("files") or []
        if not files:
            for line in multus.no_master_plugin_logs(auto_dir):
                self.logs.add(ns, name, line, "error")
            return False
        primary_path = files[0]
        read = nodeexec.view(h, v.mount_specs(), dict(v.files), [{"op": "read", "path": primary_path}])[0]
        primary = json.loads(read.get("content") or "{}")
        conf = multus.generate_conf(cfg, primary_path, primary)
        out_dir = str(cfg.get("cniConfigDir") or auto_dir)
        nodeexec.view(h, v.mount_specs(), dict(v.files), [{"op": "write", "path": f"{out_dir}/00-multus.conf",
                                                            "content": json.dumps(conf), "mode": 0o600}])
        self.logs.add(ns, name, f"Using the primary CNI plugin configuration {primary_path}; "
                      f"generated {out_dir}/00-multus.conf", "info")
        sock_dir = v.to_node(str(cfg.get("socketDir") or "/run/multus/"))
        if sock_dir is None:
            sock_dir = str(cfg.get("socketDir") or "/run/multus/")
        try:
            sock = self.lab().node_path(node, sock_dir.rstrip("/") + "/multus.sock")
        except ValueError as e:
            self.logs.add(ns, name, f"lab: the daemon socket dir {sock_dir} is not private to the lab node: {e}", "error")
            return False
        old = self.daemons.pop(node, None)
        if old is not None:
            old.stop()
        d = MultusDaemon(self.ctx, node, ns, name, v, cfg, sock)
        d.start()
        self.daemons[node] = d
        return True

    def recover(self) -> None:
        """After an API restart: restart the daemons of Running Multus pods (their files are on the nodes)."""
        for pod in self.store.list(r.PODS):
            if pod.get("spec", {}).get("hostNetwork") and is_multus_daemon(pod) \
                    and self.is_lab_node(pod["spec"].get("nodeName", "")):
                self._q.put(("recover", pod))

    def wait_idle(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._q.unfinished_tasks == 0:
                return True
            time.sleep(0.05)
        return False
