"""Create or update NADs with the official client (via `runbooklib.cluster.apply_manifests`).

Idempotent: a live NAD whose `spec.config` parses to the same JSON (whitespace or key order
aside) is left alone. Dry-run reads only. Refuses to write when validation found a `fail`.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from kubernetes.client.exceptions import ApiException

from runbooklib.cluster import apply_manifests
from runbooklib.nad.document import NAD_GROUP, NAD_PLURAL, NAD_VERSION, build_nads
from runbooklib.params import Params
from runbooklib.results import OpResult, Status

if TYPE_CHECKING:
    from kubernetes import client as k8s

    from runbooklib.nad.validate import NadValidation


def _live_config(api_client: k8s.ApiClient, namespace: str, name: str) -> str | None:
    from kubernetes import client

    from runbooklib.cluster.kinds import body_json

    try:
        resp = client.CustomObjectsApi(api_client).get_namespaced_custom_object(
            NAD_GROUP, NAD_VERSION, namespace, NAD_PLURAL, name, _preload_content=False)
    except ApiException as e:
        if e.status == 404:
            return None
        raise
    config = (body_json(resp).get("spec") or {}).get("config")
    return config if isinstance(config, str) else None


def _same_json(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return False


def apply_nad_objects(api_client: k8s.ApiClient, objects: list[dict[str, Any]], *, dry_run: bool = False) -> list[OpResult]:
    """Create or update each NAD object; one `OpResult` per NAD (see `cluster.apply_manifests`)."""
    docs = []
    for obj in objects:
        doc = copy.deepcopy(obj)
        meta = doc.get("metadata") or {}
        try:
            live = _live_config(api_client, str(meta.get("namespace") or "default"), str(meta.get("name")))
        except ApiException:
            live = None  # apply_manifests reports the API error itself
        if live is not None and _same_json(live, doc["spec"]["config"]):
            doc["spec"]["config"] = live  # same configuration: keep the live text, no update
        docs.append(doc)
    return apply_manifests(api_client, docs, dry_run=dry_run)


def apply_nads(params: Params, api_client: k8s.ApiClient, *, dry_run: bool = False,
               validation: NadValidation | None = None) -> list[OpResult]:
    """Apply the params' NADs. With a failed `validation`, nothing is written (each NAD: FAILED)."""
    objects = build_nads(params)
    if validation is not None and not validation.ok and not dry_run:
        return [OpResult("create-or-update", Status.FAILED, f"NetworkAttachmentDefinition {o['metadata']['namespace']}/"
                         f"{o['metadata']['name']}", "not applied: validation failed (see findings)",
                         evidence={"action": "refused"}) for o in objects]
    return apply_nad_objects(api_client, objects, dry_run=dry_run)
