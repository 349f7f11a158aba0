"""longhorn-storage-network, live: read Longhorn's setting, the NADs, the instance-manager pods (and
the Warning events of those not running), probe each node's NIC MTU, then judge (`checks.longhorn`).

    result = longhorn_storage_network(params)           # CheckResult; result.tables["nodes"] per pod
    result.frame()                                      # findings as a table
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runbooklib.checks.longhorn import (
    IM_SELECTOR,
    LONGHORN_NS,
    SETTING_GROUP,
    SETTING_NAME,
    SETTING_PLURAL,
    SETTING_VERSION,
    LonghornEvidence,
    check_longhorn_storage_network,
)
from runbooklib.checks.model import CheckResult
from runbooklib.params import Params

if TYPE_CHECKING:
    from kubernetes import client as k8s

Obj = dict[str, Any]


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0][:200] if text else ''}"


def read_setting(api_client: k8s.ApiClient) -> tuple[str | None, bool]:
    """(value, CRD installed). value None: the setting object is absent."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from runbooklib.cluster.kinds import body_json

    custom = client.CustomObjectsApi(api_client)
    try:
        obj = body_json(custom.get_namespaced_custom_object(SETTING_GROUP, SETTING_VERSION, LONGHORN_NS, SETTING_PLURAL,
                                                            SETTING_NAME, _preload_content=False))
    except ApiException as e:
        if e.status != 404:
            raise
        try:
            custom.list_namespaced_custom_object(SETTING_GROUP, SETTING_VERSION, LONGHORN_NS, SETTING_PLURAL,
                                                 _preload_content=False)
        except ApiException as e2:
            if e2.status == 404:
                return None, False
            raise
        return None, True
    return str(obj.get("value") or ""), True


def read_instance_managers(api_client: k8s.ApiClient) -> list[Obj]:
    from kubernetes import client

    from runbooklib.cluster.kinds import body_json

    resp = client.CoreV1Api(api_client).list_namespaced_pod(LONGHORN_NS, label_selector=IM_SELECTOR,
                                                             _preload_content=False)
    return list(body_json(resp).get("items") or [])


def read_warning_events(api_client: k8s.ApiClient, pods: Sequence[Obj]) -> dict[str, list[str]]:
    """Warning events (with a message) of the pods that are not Running, as "reason: message", oldest first."""
    from kubernetes import client

    from runbooklib.cluster.kinds import body_json

    waiting = {(p["metadata"].get("namespace"), p["metadata"].get("name")) for p in pods
               if (p.get("status") or {}).get("phase") != "Running"}
    if not waiting:
        return {}
    items = body_json(client.CoreV1Api(api_client).list_namespaced_event(LONGHORN_NS, _preload_content=False)).get("items") or []
    out: dict[str, list[str]] = {}
    for e in items:
        obj = e.get("involvedObject") or {}
        key = (obj.get("namespace"), obj.get("name"))
        if key in waiting and e.get("type") == "Warning" and e.get("message"):
            out.setdefault(f"{key[0]}/{key[1]}", []).append(f"{e.get('reason') or 'Warning'}: {e['message']}")
    return out


def gather_longhorn(params: Params, api_client: k8s.ApiClient | None = None, *, probe: bool = True) -> LonghornEvidence:
    """Everything the check needs. Never raises: an unreadable cluster sets `error`."""
    try:
        from runbooklib.nad.cluster_read import list_nad_documents, list_nodes

        if api_client is None:
            from runbooklib.cluster import api_client_for_params

            api_client = api_client_for_params(params)
        ev = LonghornEvidence()
        ev.setting, ev.crd_installed = read_setting(api_client)
        ev.nads = {d.ref: d.config_raw for d in list_nad_documents(api_client)}
        ev.pods = read_instance_managers(api_client)
        ev.nodes = sorted(str((n.get("metadata") or {}).get("name")) for n in list_nodes(api_client))
        ev.events = read_warning_events(api_client, ev.pods)
    except Exception as e:  # noqa: BLE001 - an unreadable cluster is evidence, reported as a fail
        return LonghornEvidence(error=_first_line(e))
    if probe:
        probe_links(params, ev)
    return ev


def probe_links(params: Params, ev: LonghornEvidence) -> None:
    """Each params node's interfaces and MTUs (one SSH round trip per node, NAD probe without binaries)."""
    from runbooklib.nad.probe import probe_nodes

    facts = probe_nodes(params, binaries=())
    ev.links = {}
    for node, f in facts.items():
        if f.reachable:
            ev.links[node] = {name: link.mtu for name, link in f.links.items()}
        else:
            ev.link_errors[node] = f"unreachable: {f.error}"


def expected_nad(params: Params | None, override: str | None = None) -> str | None:
    """The storage NAD Longhorn should use: `override`, else the params' NAD in longhorn-system,
    else the params' only NAD."""
    if override:
        return override
    nads = list(params.nads) if params is not None else []
    in_ns = [n for n in nads if n.namespace == LONGHORN_NS]
    pick = in_ns[0] if in_ns else (nads[0] if len(nads) == 1 else None)
    return f"{pick.namespace}/{pick.name}" if pick else None


def longhorn_storage_network(params: Params, *, api_client: k8s.ApiClient | None = None, storage_nad: str | None = None,
                             probe: bool = True, nodes: Sequence[str] | None = None, pod: str | None = None) -> CheckResult:
    """Gather + judge. `storage_nad` ("ns/name") overrides the NAD taken from the params;
    `nodes` limits the report to those nodes, `pod` (name, as `runbook diagnose` pre-fills it) to
    that instance-manager pod; `probe=False` skips the SSH MTU probe."""
    ev = gather_longhorn(params, api_client, probe=probe)
    if pod:
        name = pod.rsplit("/", 1)[-1]
        ev.pods = [p for p in ev.pods if (p.get("metadata") or {}).get("name") == name]
        ev.nodes = sorted({(p.get("spec") or {}).get("nodeName", "") for p in ev.pods} - {""})
    if nodes:
        ev.pods = [p for p in ev.pods if (p.get("spec") or {}).get("nodeName") in nodes]
        ev.nodes = [n for n in ev.nodes if n in nodes]
    result = check_longhorn_storage_network(ev, expected_nad=expected_nad(params, storage_nad),
                                            storage_nic=params.nodes[0].storage_nic.name if params.nodes else "",
                                            storage_mtu=params.storage_network.mtu)
    result.tables["evidence"] = [{"setting": ev.setting, "crd_installed": ev.crd_installed, "nads": sorted(ev.nads),
                                  "pods": len(ev.pods), "nodes": ev.nodes}]
    return result
