"""Writing what the kubelet and Multus write into the lab API: events, pod status, annotations, logs."""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict, deque
from typing import Any

from runbooklib.lab.api import resources as r
from runbooklib.lab.api.controllers import pod_status
from runbooklib.lab.api.errors import ApiError
from runbooklib.lab.api.store import ObjectStore, now_iso

Obj = dict[str, Any]


def record_event(store: ObjectStore, pod: Obj, reason: str, message: str, *, type_: str = "Normal",
                 component: str = "kubelet") -> None:
    """An Event about the pod; a repeat of the same reason+message bumps `count` (like the recorder)."""
    meta = pod["metadata"]
    ns = meta.get("namespace", "default")
    for ev in store.list(r.EVENTS, ns):
        io = ev.get("involvedObject", {})
        if io.get("uid") == meta.get("uid") and ev.get("reason") == reason and ev.get("message") == message:
            def bump(obj: Obj) -> Obj:
                obj["count"] = int(obj.get("count", 1)) + 1
                obj["lastTimestamp"] = now_iso()
                return obj
            try:
                store.modify(r.EVENTS, ns, ev["metadata"]["name"], bump)
            except ApiError:
                pass
            return
    ts = now_iso()
    ev = {"apiVersion": "v1", "kind": "Event",
          "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}", "namespace": ns},
          "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": ns, "name": meta["name"],
                             "uid": meta.get("uid", "")},
          "reason": reason, "message": message, "type": type_,
          "source": {"component": component, "host": pod.get("spec", {}).get("nodeName", "")},
          "firstTimestamp": ts, "lastTimestamp": ts, "count": 1, "reportingComponent": component}
    try:
        store.create(r.EVENTS, ev, ns)
    except ApiError:
        pass


def set_status(store: ObjectStore, pod: Obj, phase: str, reason: str = "", message: str = "", ip: str = "") -> None:
    meta = pod["metadata"]
    node = store.try_get(r.NODES, None, pod.get("spec", {}).get("nodeName", "")) or {}
    status = pod_status(pod, node, phase, reason, message, ip)

    def apply(obj: Obj) -> Obj:
        if obj["metadata"].get("uid") != meta.get("uid"):
            return obj
        obj["status"] = status
        return obj
    try:
        store.modify(r.PODS, meta["namespace"], meta["name"], apply, subresource="status")
    except ApiError:
        pass


def set_annotation(store: ObjectStore, pod: Obj, key: str, value: str) -> None:
    meta = pod["metadata"]

    def apply(obj: Obj) -> Obj:
        if obj["metadata"].get("uid") == meta.get("uid"):
            obj["metadata"].setdefault("annotations", {})[key] = value
        return obj
    try:
        store.modify(r.PODS, meta["namespace"], meta["name"], apply)
    except ApiError:
        pass


class PodLogs:
    """Log lines per (namespace, pod), served by the API's pods/log (bounded)."""

    def __init__(self, keep: int = 5000) -> None:
        self._lines: dict[tuple[str, str], deque[str]] = defaultdict(lambda: deque(maxlen=keep))
        self._lock = threading.Lock()

    def add(self, namespace: str, pod: str, line: str, level: str = "verbose") -> None:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1e6) % 1000000:06d}Z"
        with self._lock:
            self._lines[(namespace, pod)].append(f"{ts} [{level}] {line}")

    def text(self, namespace: str, pod: str, tail: int | None = None) -> str | None:
        with self._lock:
            if (namespace, pod) not in self._lines:
                return None
            lines = list(self._lines[(namespace, pod)])
        if tail is not None and tail >= 0:
            lines = lines[-tail:] if tail else []
        return "".join(line + "\n" for line in lines)
