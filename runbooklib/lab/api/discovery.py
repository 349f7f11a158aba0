"""Discovery and OpenAPI documents, enough for ``kubectl``.

* ``/version``, ``/api``, ``/apis``, ``/apis/<group>``, ``/api/v1``, ``/apis/<group>/<version>``: the
  legacy (non-aggregated) discovery documents, with ``shortNames``, ``verbs``, ``kind``,
  ``namespaced``, ``singularName`` and the subresources (``pods/log``, ``pods/exec``, ``*/status``).
* ``/openapi/v3`` and ``/openapi/v3/<api|apis/g>/<v>``: permissive OpenAPI v3 documents. Every
  resource gets a PATCH operation tagged with ``x-kubernetes-group-version-kind`` and a
  ``fieldValidation`` query parameter; kubectl then delegates field validation to the server
  (which accepts everything) instead of validating client-side, so ``kubectl apply -f`` works
  without ``--validate=false``. ``/openapi/v2`` is not served (kubectl wants protobuf there) and
  kubectl falls back to its compiled-in types for strategic-merge patches.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .resources import ALL_VERBS, Registry, ResourceType

VERSION = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.0+runbooklib-lab", "gitCommit": "lab",
    "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23",
    "compiler": "gc", "platform": "linux/amd64",
}


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group_doc(group: str, versions: list[str]) -> dict[str, Any]:
    vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": vs, "preferredVersion": vs[0]}


def api_groups(registry: Registry) -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for rt in registry.all():
        if rt.group and rt.version not in groups.setdefault(rt.group, []):
            groups[rt.group].append(rt.version)
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_doc(g, vs) for g, vs in groups.items()]}


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    for doc in api_groups(registry)["groups"]:
        if doc["name"] == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **doc}
    return None


def _resource_entries(rt: ResourceType) -> list[dict[str, Any]]:
    main: dict[str, Any] = {"name": rt.plural, "singularName": rt.singular or rt.kind.lower(),
                            "namespaced": rt.namespaced, "kind": rt.kind, "verbs": list(ALL_VERBS)}
    if rt.short_names:
        main["shortNames"] = list(rt.short_names)
    if rt.categories:
        main["categories"] = list(rt.categories)
    out = [main]
    sub_verbs = {"status": ["get", "patch", "update"], "log": ["get"], "exec": ["create", "get"]}
    kinds = {"log": "Pod", "exec": "PodExecOptions"}
    for sub in rt.subresources:
        if sub in sub_verbs:
            out.append({"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                        "kind": kinds.get(sub, rt.kind), "verbs": sub_verbs[sub]})
    return out


def resource_list(registry: Registry, group_version: str) -> dict[str, Any] | None:
    types = registry.group_versions().get(group_version)
    if not types:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [e for rt in types for e in _resource_entries(rt)]}


# -- OpenAPI v3 --------------------------------------------------------------------------------
def _gv_path(group_version: str) -> str:
    return f"api/{group_version}" if "/" not in group_version else f"apis/{group_version}"


def openapi_v3_doc(registry: Registry, group_version: str) -> dict[str, Any] | None:
    types = registry.group_versions().get(group_version)
    if not types:
        return None
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for rt in types:
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        schema_name = f"{(rt.group or 'core')}.{rt.version}.{rt.kind}"
        schemas[schema_name] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                                "x-kubernetes-group-version-kind": [gvk]}
        ref = {"$ref": f"#/components/schemas/{schema_name}"}
        prefix = f"/{_gv_path(group_version)}/" + ("namespaces/{namespace}/" if rt.namespaced else "")
        params = [{"name": n, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
                  for n in ("dryRun", "fieldManager", "fieldValidation")]
        body = {"content": {"application/json-patch+json": {"schema": {"type": "object"}},
                            "application/merge-patch+json": {"schema": {"type": "object"}}}}
        op = {"operationId": f"patch{rt.kind}", "parameters": params, "requestBody": body,
              "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}},
              "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk}
        create = {**op, "operationId": f"create{rt.kind}", "x-kubernetes-action": "post",
                  "requestBody": {"content": {"application/json": {"schema": ref}}}}
        paths[prefix + rt.plural + "/{name}"] = {"patch": op, "put": {**create, "x-kubernetes-action": "put"}}
        paths[prefix + rt.plural] = {"post": create}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": schemas}}


def openapi_v3_index(registry: Registry) -> dict[str, Any]:
    out = {}
    for gv in registry.group_versions():
        doc = openapi_v3_doc(registry, gv)
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()
        out[_gv_path(gv)] = {"serverRelativeURL": f"/openapi/v3/{_gv_path(gv)}?hash={digest}"}
    return {"paths": out}
