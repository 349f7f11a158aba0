"""The Multus thick daemon of one node (multus-cni v4.2.2 pkg/server + pkg/multus), in the lab API process.

Listens on the node's `<socketDir>/multus.sock` (the daemon-config's socketDir mapped through the
pod's hostPath mounts to the node, e.g. /run/multus/multus.sock) for the lab `multus-shim`.
Per ADD: the shim's conf overridden by daemon-config keys; the pod and its NADs read from the lab
API; every delegate plugin looked up with FindInPath in `[binDir]` INSIDE the daemon container's
view (nodeexec.view: only the DaemonSet's mounts), then executed on the node at that same path
(`chrootDir` /hostroot = the node's own root) with CNI_PATH = binDir; `network-status` written;
AddedInterface events; the delegates cached in the node's /var/lib/cni/multus for DEL.
Errors are wrapped as upstream does, ending up as the 400 body the shim reports.
"""

from __future__ import annotations

import json
import os
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from runbooklib.lab.api import resources as r
from runbooklib.lab.api.store import ObjectStore
from runbooklib.lab.cni import multus, nodeexec, podapi
from runbooklib.lab.cni.nodeside.cniproto import (
    CniError,
    _plugin_conf,
    k8s_cni_args,
    parse_cni_args,
    plugin_description,
    plugin_error,
)
from runbooklib.lab.cni.podview import ContainerView

Obj = dict[str, Any]


@dataclass
class Delegate:
    name: str              # network name (conf name) used in error texts
    status_name: str       # network-status name (`<ns>/<nad>` or the cluster conf's name)
    ifname: str
    conflist: Obj
    single: bool = False   # a NAD with a single conf (libcni AddNetwork: no `plugin type=` prefix)
    default: bool = False


@dataclass
class DaemonContext:
    store: ObjectStore
    logs: podapi.PodLogs
    handle: Callable[[str], nodeexec.NodeHandle]
    node_path: Callable[[str, str], Path]


@dataclass
class MultusDaemon:
    ctx: DaemonContext
    node: str
    pod_namespace: str
    pod_name: str
    view: ContainerView
    config: Obj
    socket_path: Path
    _server: socketserver.ThreadingUnixStreamServer | None = field(default=None, repr=False)

    # -- lifecycle ----------------------------------------------------------------------------------
    def log(self, line: str, level: str = "verbose") -> None:
        self.ctx.logs.add(self.pod_namespace, self.pod_name, line, level)

    def start(self) -> None:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        daemon = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:  # noqa: N802
                self._reply(200 if self.path == "/healthz" else 404, b"")

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                code, out = daemon.handle_request(body)
                self._reply(code, out)

            def _reply(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def address_string(self) -> str:
                return "unix"

        server = socketserver.ThreadingUnixStreamServer(str(self.socket_path), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                         name=f"multus-daemon-{self.node}").start()
        self.log(f"multus daemon is listening on {self.config.get('socketDir')}multus.sock (lab: {self.socket_path})")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.socket_path.unlink(missing_ok=True)

    # -- requests -----------------------------------------------------------------------------------
    def handle_request(self, body: bytes) -> tuple[int, bytes]:
        import base64
        try:
            req = json.loads(body)
            env: dict[str, str] = req.get("env") or {}
            conf = json.loads(base64.b64decode(req.get("config") or b"") or b"{}")
        except ValueError as e:
            return 400, f"invalid request: {e}".encode()
        conf.update({k: v for k, v in self.config.items()})
        cmd, cid = env.get("CNI_COMMAND", ""), env.get("CNI_CONTAINERID", "")
        netns, ifname, args = env.get("CNI_NETNS", ""), env.get("CNI_IFNAME", "eth0"), env.get("CNI_ARGS", "")
        head = f'ContainerID:"{cid}" Netns:"{netns}" IfName:"{ifname}" Args:"{args}" Path:""'
        self.log(f"{cmd} starting CNI request {head}")
        k8s = parse_cni_args(args)
        ns, name = k8s.get("K8S_POD_NAMESPACE", ""), k8s.get("K8S_POD_NAME", "")
        try:
            if cmd == "ADD":
                result = self.cmd_add(conf, cid, netns, ifname, ns, name, k8s.get("K8S_POD_UID", ""))
                self.log(f"{cmd} finished CNI request {head}, result: {json.dumps(result)}, err: <nil>")
                return 200, json.dumps({"result": result}).encode()
            if cmd == "DEL":
                self.cmd_del(conf, cid, netns, ifname, ns, name)
            self.log(f"{cmd} finished CNI request {head}, result: <nil>, err: <nil>")
            return 200, b"{}"
        except (CniError, multus.MultusError, nodeexec.NodeExecError) as e:
            msg = f"{head} ERRORED: error configuring pod [{ns}/{name}] networking: {e}"
            self.log(f"{cmd} finished CNI request {head}, result: <nil>, err: error configuring pod [{ns}/{name}] "
                     f"networking: {e}", "error")
            return 400, msg.encode()

    def _delegates(self, conf: Obj, pod: Obj) -> list[Delegate]:
        cluster_path = str(conf.get("clusterNetwork", ""))
        res = nodeexec.view(self.ctx.handle(self.node), self.view.mount_specs(), _files(self.view),
                            [{"op": "read", "path": cluster_path}])[0]
        if "error" in res:
            raise multus.MultusError(f"failed to load the cluster network {cluster_path}: {res['error']}")
        cluster = json.loads(res["content"])
        cluster = cluster if "plugins" in cluster else {"cniVersion": cluster.get("cniVersion", ""),
                                                       "name": cluster.get("name", ""), "plugins": [cluster]}
        out = [Delegate(cluster.get("name", ""), cluster.get("name", ""), "", cluster, default=True)]
        ann = (pod.get("metadata", {}).get("annotations") or {}).get(multus.NETWORKS_ANNOTATION, "")
        sels = multus.parse_networks(ann, pod["metadata"]["namespace"]) if ann else []
        nad_type = _nad_type(self.ctx.store)
        for i, sel in enumerate(sels, start=1):
            nad = self.ctx.store.try_get(nad_type, sel.namespace, sel.name) if nad_type else None
            if nad is None:
                podapi.record_event(self.ctx.store, pod, "NoNetworkFound", multus.nad_not_found(sel.name, sel.namespace),
                                    type_="Warning", component="multus")
                raise multus.MultusError(
                    "Multus: [{}/{}/{}]: error loading k8s delegates k8s args: TryLoadPodDelegates: error in getting "
                    "k8s network for pod: GetNetworkDelegates: failed getting the delegate: getKubernetesDelegate: {}"
                    .format(pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"].get("uid", ""),
                            multus.nad_not_found(sel.name, sel.namespace)))
            dl = multus.delegate_from_nad(nad, sel)
            single = bool(dl.pop("single", False))
            out.append(Delegate(str(dl.get("name", sel.name)), f"{sel.namespace}/{sel.name}",
                                sel.interface or f"net{i}", dl, single=single))
        return out

    def _lookup(self, delegates: list[Delegate], bin_dir: str) -> dict[str, Obj]:
        types = sorted({str(p.get("type", "")) for d in delegates for p in d.conflist.get("plugins", [])})
        ops = [{"op": "find", "plugin": t, "paths": [bin_dir]} for t in types]
        results = nodeexec.view(self.ctx.handle(self.node), self.view.mount_specs(), _files(self.view), ops)
        return dict(zip(types, results, strict=True))

    def _exec(self, path: str, conf: Obj, command: str, cid: str, netns: str, ifname: str, args: str,
              bin_dir: str) -> Obj | None:
        env = {"CNI_COMMAND": command, "CNI_CONTAINERID": cid, "CNI_NETNS": netns, "CNI_IFNAME": ifname,
               "CNI_ARGS": args, "CNI_PATH": bin_dir}
        proc = nodeexec.run(self.ctx.handle(self.node), [path], env=env, stdin=json.dumps(conf).encode())
        if proc.returncode != 0:
            raise plugin_error(proc.returncode, proc.stdout, proc.stderr)
        return json.loads(proc.stdout or b"{}") if command == "ADD" else None

    def _run_delegate(self, d: Delegate, command: str, found: dict[str, Obj], cid: str, netns: str, args: str,
                      bin_dir: str, prev_for_del: Obj | None = None) -> Obj | None:
        plugins = d.conflist.get("plugins", [])
        order = plugins if command == "ADD" else list(reversed(plugins))
        prev: Obj | None = None
        for p in order:
            verb = "add" if command == "ADD" else "delete"
            try:
                hit = found.get(str(p.get("type", ""))) or {"error": "not looked up"}
                if "error" in hit:
                    raise CniError(hit["error"])
                conf = _plugin_conf(d.conflist, p, prev if command == "ADD" else None, None)
                out = self._exec(hit["path"], conf, command, cid, netns, d.ifname, args, bin_dir)
                if command == "ADD":
                    prev = out
            except CniError as e:
                if d.single:
                    raise
                raise CniError(f"plugin {plugin_description(p, with_name=False)} failed ({verb}): {e}", e.code) from e
        return prev

    def cmd_add(self, conf: Obj, cid: str, netns: str, ifname: str, ns: str, name: str, uid: str) -> Obj:
        pod = self.ctx.store.try_get(r.PODS, ns, name)
        if pod is None:
            raise multus.MultusError(f'Multus: [{ns}/{name}/{uid}]: error getting pod: pods "{name}" not found')
        uid = uid or pod["metadata"].get("uid", "")
        bin_dir = str(conf.get("binDir") or multus.DEFAULTS["binDir"])
        delegates = self._delegates(conf, pod)
        delegates[0].ifname = ifname
        found = self._lookup(delegates, bin_dir)
        args = k8s_cni_args(ns, name, uid, cid)
        done: list[Delegate] = []
        results: list[Obj] = []
        for d in delegates:
            try:
                res = self._run_delegate(d, "ADD", found, cid, netns, args, bin_dir) or {}
            except CniError as e:
                for prev in reversed(done):
                    try:
                        self._run_delegate(prev, "DEL", found, cid, netns, args, bin_dir)
                    except CniError as de:
                        self.log(f"rollback of {prev.name} failed: {de}", "error")
                raise CniError(f"{multus.error_prefix(ns, name, uid, d.name)}: error adding container to network "
                               f"\"{d.name}\": {e}") from e
            done.append(d)
            results.append(res)
        entries = [multus.status_entry(d.status_name, d.ifname, res, default=d.default)
                   for d, res in zip(delegates, results, strict=True)]
        podapi.set_annotation(self.ctx.store, pod, multus.STATUS_ANNOTATION, multus.network_status_value(entries))
        for d, res in zip(delegates, results, strict=True):
            podapi.record_event(self.ctx.store, pod, "AddedInterface",
                                f"Add {d.ifname} [{','.join(_cidrs(res))}] from {d.status_name}", component="multus")
        self._cache_write(cid, {"delegates": [d.__dict__ for d in delegates], "binDir": bin_dir,
                                "pod": f"{ns}/{name}", "uid": uid})
        return results[0]

    def cmd_del(self, conf: Obj, cid: str, netns: str, ifname: str, ns: str, name: str) -> None:
        cached = self._cache_read(cid)
        if cached is None:
            self.log(f"DEL: no cached delegates for {cid}; nothing to do")
            return
        delegates = [Delegate(**d) for d in cached["delegates"]]
        bin_dir = str(cached.get("binDir") or conf.get("binDir") or multus.DEFAULTS["binDir"])
        found = self._lookup(delegates, bin_dir)
        args = k8s_cni_args(ns, name, str(cached.get("uid", "")), cid)
        for d in reversed(delegates):
            try:
                self._run_delegate(d, "DEL", found, cid, netns, args, bin_dir)
            except CniError as e:
                self.log(f"DEL {cid} {d.name}: {e}", "error")
        self._cache_path(cid).unlink(missing_ok=True)

    # -- delegate cache (cniDir on the node) --------------------------------------------------------
    def _cache_path(self, cid: str) -> Path:
        return self.ctx.node_path(self.node, os.path.join(str(self.config.get("cniDir", "/var/lib/cni/multus")), cid))

    def _cache_write(self, cid: str, data: Obj) -> None:
        p = self._cache_path(cid)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(data))

    def _cache_read(self, cid: str) -> Obj | None:
        try:
            return json.loads(self._cache_path(cid).read_text())
        except (OSError, ValueError):
            return None


def _files(view: ContainerView) -> dict[str, bytes | str]:
    return dict(view.files)


def _cidrs(result: Obj) -> list[str]:
    return [str(ip.get("address", "")) for ip in result.get("ips") or []]


def _nad_type(store: ObjectStore) -> r.ResourceType | None:
    for crd in store.all_of(r.CRDS.key):
        for rt in r.from_crd(crd):
            if rt.group == "k8s.cni.cncf.io" and rt.plural == "network-attachment-definitions":
                return rt
    return None
