"""How to read/create/replace one object of a given apiVersion/kind with the official client.

Built-in kinds go through the typed APIs (`CoreV1Api.create_namespaced_config_map`, ...); anything
else is a custom object and goes through `CustomObjectsApi` with the plural taken from a CRD (in
the same batch, or on the server). Every call uses `_preload_content=False` and parses the JSON
itself: that sidesteps model deserialization, including create_namespaced_custom_object's
"only 201 is deserialized" behaviour.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s

Obj = dict[str, Any]

TYPED_APIS: dict[str, type] = {
    "v1": k8s.CoreV1Api,
    "apps/v1": k8s.AppsV1Api,
    "rbac.authorization.k8s.io/v1": k8s.RbacAuthorizationV1Api,
    "apiextensions.k8s.io/v1": k8s.ApiextensionsV1Api,
}
CLUSTER_SCOPED = {"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
                  "CustomResourceDefinition", "StorageClass", "PriorityClass"}


def snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def body_json(resp: Any) -> Obj:
    data = resp.data if hasattr(resp, "data") else resp
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return json.loads(data) if data else {}


@dataclass
class ObjectApi:
    """Bound calls for one object."""

    api_client: k8s.ApiClient
    doc: Obj
    plural: str | None = None  # set for custom objects
    namespaced: bool = True

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind"))

    @property
    def name(self) -> str:
        return str((self.doc.get("metadata") or {}).get("name"))

    @property
    def namespace(self) -> str | None:
        if not self.namespaced:
            return None
        return (self.doc.get("metadata") or {}).get("namespace") or "default"

    def _typed(self, verb: str) -> Any:
        api = TYPED_APIS[self.doc["apiVersion"]](self.api_client)
        scope = "namespaced_" if self.namespaced else ""
        return getattr(api, f"{verb}_{scope}{snake(self.kind)}")

    def _custom(self) -> tuple[k8s.CustomObjectsApi, str, str]:
        group, _, version = str(self.doc["apiVersion"]).rpartition("/")
        return k8s.CustomObjectsApi(self.api_client), group, version

    def read(self) -> Obj:
        if self.plural is None:
            args = [self.name] + ([self.namespace] if self.namespaced else [])
            return body_json(self._typed("read")(*args, _preload_content=False))
        api, g, v = self._custom()
        if self.namespaced:
            return body_json(api.get_namespaced_custom_object(g, v, self.namespace, self.plural, self.name, _preload_content=False))
        return body_json(api.get_cluster_custom_object(g, v, self.plural, self.name, _preload_content=False))

    def create(self, body: Obj) -> Obj:
        if self.plural is None:
            args = ([self.namespace] if self.namespaced else []) + [body]
            return body_json(self._typed("create")(*args, _preload_content=False))
        api, g, v = self._custom()
        if self.namespaced:
            return body_json(api.create_namespaced_custom_object(g, v, self.namespace, self.plural, body, _preload_content=False))
        return body_json(api.create_cluster_custom_object(g, v, self.plural, body, _preload_content=False))

    def replace(self, body: Obj) -> Obj:
        if self.plural is None:
            args = [self.name] + ([self.namespace] if self.namespaced else []) + [body]
            return body_json(self._typed("replace")(*args, _preload_content=False))
        api, g, v = self._custom()
        if self.namespaced:
            return body_json(api.replace_namespaced_custom_object(g, v, self.namespace, self.plural, self.name, body,
                                                                  _preload_content=False))
        return body_json(api.replace_cluster_custom_object(g, v, self.plural, self.name, body, _preload_content=False))


class UnknownKind(Exception):
    pass


def object_api(api_client: k8s.ApiClient, doc: Obj, crds: list[Obj]) -> ObjectApi:
    """Bind the calls for `doc`; `crds` are CRDs known so far (batch + server) for custom kinds."""
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if api_version in TYPED_APIS:
        api = TYPED_APIS[api_version](api_client)
        scope = "" if kind in CLUSTER_SCOPED else "namespaced_"
        if hasattr(api, f"create_{scope}{snake(str(kind))}"):
            return ObjectApi(api_client, doc, None, kind not in CLUSTER_SCOPED)
    group = str(api_version).rpartition("/")[0]
    for crd in crds:
        spec = crd.get("spec") or {}
        if spec.get("group") == group and (spec.get("names") or {}).get("kind") == kind:
            return ObjectApi(api_client, doc, spec["names"]["plural"], spec.get("scope", "Namespaced") == "Namespaced")
    raise UnknownKind(f"{api_version} {kind}: not a built-in kind this tool knows and no CRD defines it")


def server_crds(api_client: k8s.ApiClient) -> list[Obj]:
    resp = k8s.ApiextensionsV1Api(api_client).list_custom_resource_definition(_preload_content=False)
    return list(body_json(resp).get("items") or [])
