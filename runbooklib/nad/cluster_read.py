"""Reading what NAD validation and IP occupancy need from the cluster, as plain dicts.

Every call uses `_preload_content=False` and parses JSON itself (no model deserialization), so
objects look the same whether they come from the API, a YAML file or a recorded case.
A missing CRD (404) reads as an empty list; other API errors propagate.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from runbooklib.cluster.kinds import body_json
from runbooklib.nad.document import NAD_GROUP, NAD_PLURAL, NAD_VERSION, NadDocument, document_from_object

Obj = dict[str, Any]
WHEREABOUTS_GROUP = "whereabouts.cni.cncf.io"
WHEREABOUTS_VERSION = "v1alpha1"
IPPOOLS = "ippools"
RESERVATIONS = "overlappingrangeipreservations"


def _items(resp: Any) -> list[Obj]:
    return list(body_json(resp).get("items") or [])


def list_custom(api_client: k8s.ApiClient, group: str, version: str, plural: str) -> list[Obj]:
    """All objects of a custom resource in every namespace; [] when the CRD is not installed."""
    try:
        resp = k8s.CustomObjectsApi(api_client).list_cluster_custom_object(group, version, plural, _preload_content=False)
    except ApiException as e:
        if e.status == 404:
            return []
        raise
    return _items(resp)


def list_nad_documents(api_client: k8s.ApiClient) -> list[NadDocument]:
    return [document_from_object(o, "cluster") for o in list_custom(api_client, NAD_GROUP, NAD_VERSION, NAD_PLURAL)]


def list_namespaces(api_client: k8s.ApiClient) -> set[str]:
    items = _items(k8s.CoreV1Api(api_client).list_namespace(_preload_content=False))
    return {str((o.get("metadata") or {}).get("name")) for o in items}


def list_pods(api_client: k8s.ApiClient) -> list[Obj]:
    return _items(k8s.CoreV1Api(api_client).list_pod_for_all_namespaces(_preload_content=False))


def list_nodes(api_client: k8s.ApiClient) -> list[Obj]:
    return _items(k8s.CoreV1Api(api_client).list_node(_preload_content=False))


def list_workloads(api_client: k8s.ApiClient) -> list[Obj]:
    """Deployments, StatefulSets and DaemonSets (kind filled in); a kind the server lacks is skipped."""
    apps = k8s.AppsV1Api(api_client)
    out: list[Obj] = []
    for kind, call in (("Deployment", apps.list_deployment_for_all_namespaces),
                       ("StatefulSet", apps.list_stateful_set_for_all_namespaces),
                       ("DaemonSet", apps.list_daemon_set_for_all_namespaces)):
        try:
            items = _items(call(_preload_content=False))
        except ApiException as e:
            if e.status == 404:
                continue
            raise
        for o in items:
            o.setdefault("kind", kind)
            out.append(o)
    return out


def list_ippools(api_client: k8s.ApiClient) -> list[Obj]:
    return list_custom(api_client, WHEREABOUTS_GROUP, WHEREABOUTS_VERSION, IPPOOLS)


def list_reservations(api_client: k8s.ApiClient) -> list[Obj]:
    return list_custom(api_client, WHEREABOUTS_GROUP, WHEREABOUTS_VERSION, RESERVATIONS)
