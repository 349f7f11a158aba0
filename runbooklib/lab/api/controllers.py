"""Lab controllers: give stored objects life, at the API level only (no namespaces, no ssh).

:class:`LabControllers` subscribes to the store and reconciles:

* **Nodes**: :meth:`LabControllers.register_nodes` creates ``Node`` objects (Ready, InternalIP,
  ``podCIDR`` 10.42.<i>.0/24, standard ``kubernetes.io/*`` labels) for the lab's node names.
* **DaemonSets**: one pod per eligible Ready node (template ``nodeSelector`` honoured), named
  ``<ds>-<5 chars>``, labels/annotations/spec from the template, ``ownerReferences`` and
  ``spec.nodeName`` set; pods of an older template generation are replaced; the status
  (desired/current/ready/available/updated) is recomputed after every pod change. Deleting a
  DaemonSet deletes its pods (the store garbage-collects by ``ownerReferences``).
* **Pods**: pods without ``spec.nodeName`` are scheduled round robin onto eligible nodes; a
  scheduled pod without ``containerStatuses`` is started: ``pod_starter(pod) -> (phase, reason,
  message)`` decides the outcome (default: ``Running``), ``ip_allocator(pod, node) -> ip`` gives
  ``podIP`` (default: next free address of the node's podCIDR; node IP for hostNetwork pods).

Both hooks are plain attributes, so the pod-networking work can plug the real CNI chain in.
Reconciliation runs synchronously in the thread that made the change, after the store
lock is released; nested changes are queued and drained by the outermost call, so an
HTTP request that creates a DaemonSet returns once its pods and status are in place.
"""

from __future__ import annotations

import collections
import ipaddress
import itertools
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import resources as r
from .store import ObjectStore, now_iso

Obj = dict[str, Any]
PodStarter = Callable[[Obj], tuple[str, str, str]]
IpAllocator = Callable[[Obj, Obj], str]


def default_pod_starter(pod: Obj) -> tuple[str, str, str]:
    """Every container starts: phase ``Running``."""
    return "Running", "", ""


def node_object(name: str, ip: str, index: int) -> Obj:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}
    ts = now_iso()
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "spec": {"podCIDR": f"10.42.{index}.0/24", "podCIDRs": [f"10.42.{index}.0/24"]},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                "message": "kubelet is posting ready status", "lastHeartbeatTime": ts,
                                "lastTransitionTime": ts}],
                "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                "nodeInfo": {"kubeletVersion": "v1.32.0+k3s1", "containerRuntimeVersion": "containerd://lab",
                             "osImage": "runbooklib lab", "operatingSystem": "linux", "architecture": "amd64",
                             "kernelVersion": "", "kubeProxyVersion": "", "machineID": "", "systemUUID": "",
                             "bootID": ""},
                "capacity": {"cpu": "2", "memory": "2Gi", "pods": "110"},
                "allocatable": {"cpu": "2", "memory": "2Gi", "pods": "110"}}}


def node_ready(node: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in node.get("status", {}).get("conditions", []))


def node_ip(node: Obj) -> str:
    return next((a["address"] for a in node.get("status", {}).get("addresses", [])
                 if a.get("type") == "InternalIP"), "")


def node_matches(node: Obj, pod_spec: Obj) -> bool:
    labels = node.get("metadata", {}).get("labels") or {}
    return node_ready(node) and all(labels.get(k) == v for k, v in (pod_spec.get("nodeSelector") or {}).items())


def owner_uid(obj: Obj, kind: str) -> str | None:
    return next((ref.get("uid") for ref in obj.get("metadata", {}).get("ownerReferences") or []
                 if ref.get("kind") == kind and ref.get("controller")), None)


def daemonset_pod(ds: Obj, node_name: str) -> Obj:
    """The pod a DaemonSet runs on ``node_name`` (not yet stored)."""
    tmpl = ds.get("spec", {}).get("template", {})
    meta = ds["metadata"]
    labels = dict(tmpl.get("metadata", {}).get("labels") or {})
    labels["pod-template-generation"] = str(meta.get("generation", 1))
    labels.setdefault("controller-revision-hash", f"lab{meta.get('generation', 1)}")
    pod_meta: Obj = {"generateName": f"{meta['name']}-", "namespace": meta["namespace"], "labels": labels,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": meta["name"],
                                          "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]}
    if tmpl.get("metadata", {}).get("annotations"):
        pod_meta["annotations"] = dict(tmpl["metadata"]["annotations"])
    spec = dict(tmpl.get("spec") or {})
    spec["nodeName"] = node_name
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}


def pod_status(pod: Obj, node: Obj, phase: str, reason: str, message: str, ip: str) -> Obj:
    """Pod status as a kubelet would report it after trying to start the pod."""
    ts = now_iso()
    running = phase == "Running"
    statuses = []
    for c in pod.get("spec", {}).get("containers", []):
        if running:
            state: Obj = {"running": {"startedAt": ts}}
        elif phase in ("Failed", "Succeeded"):
            state = {"terminated": {"exitCode": 0 if phase == "Succeeded" else 1, "reason": reason or phase,
                                    "message": message, "startedAt": ts, "finishedAt": ts}}
        else:
            state = {"waiting": {"reason": reason or "ContainerCreating", "message": message}}
        statuses.append({"name": c.get("name"), "image": c.get("image", ""), "imageID": "",
                         "containerID": f"containerd://{uuid.uuid4().hex}" if running else "",
                         "ready": running, "started": running, "restartCount": 0, "state": state})

    def cond(kind: str, ok: bool) -> Obj:
        out: Obj = {"type": kind, "status": "True" if ok else "False", "lastTransitionTime": ts}
        if not ok and reason:
            out.update(reason=reason, message=message)
        return out

    status: Obj = {"phase": phase, "hostIP": node_ip(node), "startTime": ts, "containerStatuses": statuses,
                   "conditions": [cond("PodScheduled", True), cond("Initialized", True),
                                  cond("ContainersReady", running), cond("Ready", running)]}
    if ip:
        status.update(podIP=ip, podIPs=[{"ip": ip}])
    if reason and not running:
        status.update(reason=reason, message=message)
    return status


def event_for(obj: Obj, reason: str, message: str, kind: str = "Normal", source: str = "lab") -> Obj:
    """A core/v1 Event about ``obj`` (as kubelet / controllers record them)."""
    meta = obj["metadata"]
    ts = now_iso()
    return {"metadata": {"generateName": f"{meta['name']}.", "namespace": meta.get("namespace", "default")},
            "involvedObject": {"kind": obj.get("kind", ""), "apiVersion": obj.get("apiVersion", ""),
                               "name": meta["name"], "namespace": meta.get("namespace", ""), "uid": meta.get("uid")},
            "reason": reason, "message": message, "type": kind, "count": 1, "firstTimestamp": ts,
            "lastTimestamp": ts, "source": {"component": source}, "reportingComponent": source}


def daemonset_status(ds: Obj, pods: Sequence[Obj], desired: int) -> Obj:
    gen = str(ds["metadata"].get("generation", 1))
    ready = sum(1 for p in pods if p.get("status", {}).get("phase") == "Running")
    return {"desiredNumberScheduled": desired, "currentNumberScheduled": len(pods), "numberMisscheduled": 0,
            "numberReady": ready, "numberAvailable": ready, "numberUnavailable": max(0, desired - ready),
            "updatedNumberScheduled": sum(1 for p in pods
                                          if p["metadata"].get("labels", {}).get("pod-template-generation") == gen),
            "observedGeneration": ds["metadata"].get("generation", 1)}


class LabControllers:
    """Node registration, DaemonSet controller, scheduler and pod starter (see module docstring)."""

    def __init__(self, store: ObjectStore, *, pod_starter: PodStarter = default_pod_starter,
                 ip_allocator: IpAllocator | None = None) -> None:
        self.store = store
        self.pod_starter = pod_starter
        self.ip_allocator: IpAllocator = ip_allocator or self.next_pod_ip
        self._queue: collections.deque[tuple[str, str, Obj]] = collections.deque()
        self._qlock = threading.Lock()
        self._work = threading.Lock()
        self._local = threading.local()
        self._rr = itertools.count()

    def attach(self) -> LabControllers:
        self.store.subscribe(self._on_change)
        return self

    def detach(self) -> None:
        self.store.unsubscribe(self._on_change)

    # -- nodes ---------------------------------------------------------------------------------
    def register_nodes(self, names: Sequence[str], addresses: Mapping[str, str] | None = None) -> None:
        """Create a Ready ``Node`` for each name that is not registered yet (idempotent)."""
        used = {n.get("spec", {}).get("podCIDR") for n in self.store.list(r.NODES)}
        index = 1
        for name in names:
            if self.store.try_get(r.NODES, None, name) is not None:
                continue
            while f"10.42.{index}.0/24" in used:
                index += 1
            used.add(f"10.42.{index}.0/24")
            ip = (addresses or {}).get(name, f"10.0.0.{10 + index}")
            self.store.create(r.NODES, node_object(name, ip, index))

    def eligible_nodes(self, pod_spec: Obj) -> list[Obj]:
        return [n for n in self.store.list(r.NODES) if node_matches(n, pod_spec)]

    def record(self, obj: Obj, reason: str, message: str, kind: str = "Normal", source: str = "lab") -> None:
        """Record a core/v1 Event about ``obj`` (shown by ``kubectl describe`` / ``get events``)."""
        self.store.create(r.EVENTS, event_for(obj, reason, message, kind, source))

    # -- event queue ---------------------------------------------------------------------------
    def _on_change(self, verb: str, rt: r.ResourceType, obj: Obj) -> None:
        if rt.key not in (r.DAEMONSETS.key, r.PODS.key, r.NODES.key):
            return
        with self._qlock:
            self._queue.append((verb, rt.key, obj))
        if getattr(self._local, "busy", False):
            return  # the outermost call in this thread drains the queue
        self._local.busy = True
        try:
            with self._work:
                while True:
                    with self._qlock:
                        if not self._queue:
                            break
                        item = self._queue.popleft()
                    self._process(*item)
        finally:
            self._local.busy = False

    def _process(self, verb: str, key: str, obj: Obj) -> None:
        meta = obj["metadata"]
        if key == r.DAEMONSETS.key and verb != "delete":
            self.sync_daemonset(meta["namespace"], meta["name"])
        elif key == r.NODES.key:
            self.reconcile_all()
        elif key == r.PODS.key:
            if verb != "delete":
                self.reconcile_pod(meta["namespace"], meta["name"])
            ds_uid = owner_uid(obj, "DaemonSet")
            if ds_uid:
                for ds in self.store.list(r.DAEMONSETS, meta["namespace"]):
                    if ds["metadata"]["uid"] == ds_uid:
                        self.sync_daemonset(meta["namespace"], ds["metadata"]["name"])

    def reconcile_all(self) -> None:
        for ds in self.store.list(r.DAEMONSETS):
            self.sync_daemonset(ds["metadata"]["namespace"], ds["metadata"]["name"])
        for pod in self.store.list(r.PODS):
            self.reconcile_pod(pod["metadata"]["namespace"], pod["metadata"]["name"])

    # -- daemonsets ----------------------------------------------------------------------------
    def sync_daemonset(self, namespace: str, name: str) -> None:
        ds = self.store.try_get(r.DAEMONSETS, namespace, name)
        if ds is None:
            return
        uid, gen = ds["metadata"]["uid"], str(ds["metadata"].get("generation", 1))
        nodes = {n["metadata"]["name"] for n in self.eligible_nodes(ds["spec"].get("template", {}).get("spec", {}))}
        pods = [p for p in self.store.list(r.PODS, namespace) if owner_uid(p, "DaemonSet") == uid]
        seen: set[str] = set()
        for pod in pods:
            node = pod.get("spec", {}).get("nodeName", "")
            stale = pod["metadata"].get("labels", {}).get("pod-template-generation") != gen
            if node not in nodes or node in seen or stale:
                self.store.delete(r.PODS, namespace, pod["metadata"]["name"])
                self.record(ds, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                            source="daemonset-controller")
            else:
                seen.add(node)
        for node in sorted(nodes - seen):
            pod = self.store.create(r.PODS, daemonset_pod(ds, node), namespace)
            self.record(ds, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
                        source="daemonset-controller")
        pods = [p for p in self.store.list(r.PODS, namespace) if owner_uid(p, "DaemonSet") == uid]
        status = daemonset_status(ds, pods, len(nodes))

        def set_status(obj: Obj) -> Obj:
            obj["status"] = {**obj.get("status", {}), **status}
            return obj

        if self.store.try_get(r.DAEMONSETS, namespace, name) is not None:
            self.store.modify(r.DAEMONSETS, namespace, name, set_status, subresource="status")

    # -- pods ----------------------------------------------------------------------------------
    def reconcile_pod(self, namespace: str, name: str) -> None:
        pod = self.store.try_get(r.PODS, namespace, name)
        if pod is None:
            return
        if not pod.get("spec", {}).get("nodeName"):
            self.schedule_pod(pod)
        elif "containerStatuses" not in pod.get("status", {}):
            self.start_pod(pod)

    def schedule_pod(self, pod: Obj) -> str | None:
        """Bind the pod to the next eligible node (round robin); mark it Unschedulable if none."""
        meta = pod["metadata"]
        nodes = sorted(n["metadata"]["name"] for n in self.eligible_nodes(pod.get("spec", {})))
        if not nodes:
            def unschedulable(obj: Obj) -> Obj:
                obj.setdefault("status", {})["conditions"] = [{
                    "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                    "message": "0/0 nodes are available: no lab node matches the pod."}]
                return obj
            self.store.modify(r.PODS, meta["namespace"], meta["name"], unschedulable, subresource="status")
            return None
        node = nodes[next(self._rr) % len(nodes)]

        def bind(obj: Obj) -> Obj:
            obj["spec"]["nodeName"] = node
            return obj
        bound = self.store.modify(r.PODS, meta["namespace"], meta["name"], bind)
        self.record(bound, "Scheduled", f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
                    source="default-scheduler")
        return node

    def start_pod(self, pod: Obj) -> None:
        meta = pod["metadata"]
        node = self.store.try_get(r.NODES, None, pod["spec"]["nodeName"]) or {}
        phase, reason, message = self.pod_starter(pod)
        ip = node_ip(node) if pod["spec"].get("hostNetwork") else (self.ip_allocator(pod, node) if node else "")
        status = pod_status(pod, node, phase, reason, message, ip)

        def set_status(obj: Obj) -> Obj:
            obj["status"] = status
            return obj
        self.store.modify(r.PODS, meta["namespace"], meta["name"], set_status, subresource="status")
        if phase == "Running":
            for c in pod["spec"].get("containers", []):
                self.record(pod, "Started", f"Started container {c.get('name')}", source="kubelet")
        elif reason:
            self.record(pod, reason, message, "Warning", source="kubelet")

    def next_pod_ip(self, pod: Obj, node: Obj) -> str:
        """Lowest free address of the node's podCIDR (skipping .0 and the .1 gateway)."""
        cidr = node.get("spec", {}).get("podCIDR")
        if not cidr:
            return ""
        net = ipaddress.ip_network(cidr)
        used = {p.get("status", {}).get("podIP") for p in self.store.list(r.PODS)}
        for host in itertools.islice(net.hosts(), 1, None):
            if str(host) not in used:
                return str(host)
        return ""

