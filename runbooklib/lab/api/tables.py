"""Server-side printing: ``meta.k8s.io/v1 Table`` answers for ``kubectl get``.

kubectl asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` when it prints human-readable
output; :func:`to_table` builds that document with per-kind columns (pods, nodes, daemonsets,
namespaces, CRDs; NAME/AGE for everything else). Columns with priority 1 show with ``-o wide``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Column = tuple[str, int, Callable[[Obj], Any]]


def age(obj: Obj) -> str:
    ts = obj.get("metadata", {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    created = dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    secs = max(0, int((dt.datetime.now(dt.UTC) - created).total_seconds()))
    if secs < 120:
        return f"{secs}s"
    if secs < 3 * 3600:
        return f"{secs // 60}m"
    return f"{secs // 3600}h" if secs < 48 * 3600 else f"{secs // 86400}d"


def _pod_ready(o: Obj) -> str:
    statuses = o.get("status", {}).get("containerStatuses") or []
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(o.get('spec', {}).get('containers', []))}"


def _pod_status(o: Obj) -> str:
    for cs in o.get("status", {}).get("containerStatuses") or []:
        waiting = cs.get("state", {}).get("waiting")
        if waiting and waiting.get("reason"):
            return str(waiting["reason"])
    return str(o.get("status", {}).get("reason") or o.get("status", {}).get("phase", "Unknown"))


def _node_status(o: Obj) -> str:
    ready = [c for c in o.get("status", {}).get("conditions", []) if c.get("type") == "Ready"]
    return "Ready" if ready and ready[0].get("status") == "True" else "NotReady"


def _node_roles(o: Obj) -> str:
    labels = o.get("metadata", {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    return ",".join(roles) or "<none>"


def _ds(field: str) -> Callable[[Obj], Any]:
    return lambda o: o.get("status", {}).get(field, 0)


def _name(o: Obj) -> str:
    return str(o["metadata"]["name"])


COLUMNS: dict[str, list[Column]] = {
    "Pod": [("Ready", 0, _pod_ready), ("Status", 0, _pod_status),
            ("Restarts", 0, lambda o: sum(c.get("restartCount", 0)
                                          for c in o.get("status", {}).get("containerStatuses") or [])),
            ("Age", 0, age), ("IP", 1, lambda o: o.get("status", {}).get("podIP", "<none>")),
            ("Node", 1, lambda o: o.get("spec", {}).get("nodeName", "<none>"))],
    "Node": [("Status", 0, _node_status), ("Roles", 0, _node_roles), ("Age", 0, age),
             ("Version", 0, lambda o: o.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", "")),
             ("Internal-IP", 1, lambda o: next((a["address"] for a in o.get("status", {}).get("addresses", [])
                                               if a.get("type") == "InternalIP"), "<none>"))],
    "DaemonSet": [("Desired", 0, _ds("desiredNumberScheduled")), ("Current", 0, _ds("currentNumberScheduled")),
                  ("Ready", 0, _ds("numberReady")), ("Up-to-date", 0, _ds("updatedNumberScheduled")),
                  ("Available", 0, _ds("numberAvailable")),
                  ("Node Selector", 0, lambda o: ",".join(f"{k}={v}" for k, v in (
                      o.get("spec", {}).get("template", {}).get("spec", {}).get("nodeSelector") or {}).items())
                   or "<none>"),
                  ("Age", 0, age)],
    "Namespace": [("Status", 0, lambda o: o.get("status", {}).get("phase", "Active")), ("Age", 0, age)],
    "CustomResourceDefinition": [("Created At", 0, lambda o: o["metadata"].get("creationTimestamp", ""))],
    "ConfigMap": [("Data", 0, lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
                  ("Age", 0, age)],
}


def to_table(kind: str, items: list[Obj], resource_version: str) -> Obj:
    cols: list[Column] = [("Name", 0, _name), *COLUMNS.get(kind, [("Age", 0, age)])]
    defs = [{"name": n, "type": "string", "format": "name" if n == "Name" else "", "description": n,
             "priority": p} for n, p, _ in cols]
    rows = [{"cells": [fn(o) for _, _, fn in cols],
             "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": o.get("metadata", {})}} for o in items]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": defs, "rows": rows}
