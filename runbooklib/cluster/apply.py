"""Create-or-update every object of a set of manifests, idempotently, with a per-object recap.

Order: Namespaces, CRDs, RBAC, ServiceAccounts, ConfigMaps/Secrets, Services, workloads, then
custom objects. An existing object is replaced (PUT with its resourceVersion) only when a field the
manifest sets differs from the live object; labels/annotations set by others are kept.
`dry_run=True` reads only and reports what would be created or updated (and which fields).
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from runbooklib.cluster.compare import differing_fields
from runbooklib.cluster.kinds import Obj, UnknownKind, body_json, object_api, server_crds
from runbooklib.manifests.docs import obj_ref
from runbooklib.results import OpResult, Status

KIND_ORDER = {
    "Namespace": 0, "CustomResourceDefinition": 1, "ClusterRole": 2, "ClusterRoleBinding": 3, "Role": 4,
    "RoleBinding": 5, "ServiceAccount": 6, "ConfigMap": 7, "Secret": 7, "Service": 8,
    "DaemonSet": 9, "Deployment": 9, "StatefulSet": 9,
}
OP_NAME = "create-or-update"


def order_for_apply(docs: list[Obj]) -> list[Obj]:
    """Stable order: CRDs first, then RBAC, ServiceAccounts, ConfigMaps, DaemonSets, custom objects."""
    return sorted(docs, key=lambda d: KIND_ORDER.get(str(d.get("kind")), 10))


def _result(doc: Obj, status: Status, action: str, reason: str, t0: float, **extra: Any) -> OpResult:
    meta = doc.get("metadata") or {}
    ev = {"action": action, "kind": doc.get("kind"), "namespace": meta.get("namespace"), "name": meta.get("name"), **extra}
    return OpResult(OP_NAME, status, obj_ref(doc), reason, duration_s=time.monotonic() - t0, evidence=ev)


def _api_error(e: ApiException) -> str:
    import json

    try:
        msg = json.loads(e.body or "{}").get("message")
    except (ValueError, AttributeError):
        msg = None
    return f"HTTP {e.status}: {msg or e.reason}"


def _merged_body(doc: Obj, live: Obj) -> Obj:
    body = copy.deepcopy(doc)
    meta = body.setdefault("metadata", {})
    live_meta = live.get("metadata") or {}
    meta["resourceVersion"] = live_meta.get("resourceVersion")
    for key in ("labels", "annotations"):
        if live_meta.get(key) or meta.get(key):
            meta[key] = {**(live_meta.get(key) or {}), **(meta.get(key) or {})}
    return body


def apply_one(api_client: k8s.ApiClient, doc: Obj, crds: list[Obj], *, dry_run: bool = False) -> OpResult:
    t0 = time.monotonic()
    try:
        obj = object_api(api_client, doc, crds)
    except UnknownKind as e:
        return _result(doc, Status.FAILED, "failed", str(e), t0)
    try:
        try:
            live: Obj | None = obj.read()
        except ApiException as e:
            if e.status != 404:
                raise
            live = None
        if live is None:
            if dry_run:
                return _result(doc, Status.SKIPPED, "would-create", "dry-run: would create", t0)
            obj.create(doc)
            return _result(doc, Status.CHANGED, "created", "created", t0)
        fields = differing_fields(doc, live)
        if not fields:
            return _result(doc, Status.OK, "unchanged", "unchanged", t0)
        if dry_run:
            return _result(doc, Status.SKIPPED, "would-update", f"dry-run: would update {', '.join(fields[:8])}", t0,
                           changed_fields=fields)
        obj.replace(_merged_body(doc, live))
        return _result(doc, Status.CHANGED, "updated", f"updated {', '.join(fields[:8])}", t0, changed_fields=fields)
    except ApiException as e:
        return _result(doc, Status.FAILED, "failed", _api_error(e), t0)


def wait_crds_established(api_client: k8s.ApiClient, names: list[str], timeout_s: float = 30.0) -> None:
    """Wait (bounded) until freshly created CRDs report Established, before their objects are created."""
    api = k8s.ApiextensionsV1Api(api_client)
    deadline = time.monotonic() + timeout_s
    for name in names:
        while time.monotonic() < deadline:
            try:
                crd = body_json(api.read_custom_resource_definition(name, _preload_content=False))
            except ApiException:
                crd = {}
            conds = (crd.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conds):
                break
            time.sleep(0.2)


def apply_manifests(api_client: k8s.ApiClient, docs: list[Obj], dry_run: bool = False, *,
                    crd_timeout_s: float = 30.0) -> list[OpResult]:
    """Create-or-update each object (ordered by `order_for_apply`); one `OpResult` per object.

    Status: CHANGED (evidence.action created/updated), OK (unchanged), SKIPPED (dry-run:
    would-create/would-update, with `changed_fields`), FAILED (with the API's message).
    Custom objects (kinds from CRDs in the batch or on the server) come last, after the CRDs
    created in this run are Established."""
    ordered = order_for_apply(docs)
    crds = [d for d in ordered if d.get("kind") == "CustomResourceDefinition"]
    has_custom = any(d.get("kind") not in KIND_ORDER for d in ordered)
    if has_custom:
        try:
            crds = crds + server_crds(api_client)
        except ApiException:
            pass
    results: list[OpResult] = []
    waited = False
    for d in ordered:
        if has_custom and not waited and not dry_run and d.get("kind") not in KIND_ORDER:
            created = [str(r.evidence.get("name")) for r in results
                       if r.evidence.get("kind") == "CustomResourceDefinition" and r.changed]
            wait_crds_established(api_client, created, crd_timeout_s)
            waited = True
        results.append(apply_one(api_client, d, crds, dry_run=dry_run))
    return results


def summarize_apply(results: list[OpResult]) -> dict[str, int]:
    """Counts per action (created, updated, unchanged, failed, would-create, would-update)."""
    return dict(Counter(str(r.evidence.get("action")) for r in results))
