"""Longhorn in the lab, as far as its storage network goes: the `settings.longhorn.io` CRD, the
`storage-network` setting, and instance-manager-like pods (one per node, labelled like Longhorn's)
that attach through the lab's CNI chain (runbooklib.lab.cni: Multus thick + whereabouts).

The lab plays longhorn-manager's part: `apply_longhorn(api, setting)` writes the setting and
recreates the instance-manager pods with `k8s.v1.cni.cncf.io/networks` naming the NAD and
interface `lhnet1` (Longhorn's JSON form, longhorn/longhorn #5048; `form="short"` gives
`ns/name@lhnet1`), or without it when the setting is empty. Real Longhorn only does this while
no volume is attached; the lab always does. Broken wirings (`SCENARIOS`): the setting empty, the
NAD name or namespace wrong, pods whose network-status annotation was never written.

Needs a lab with Multus + whereabouts installed and the NAD applied (the install runbook) for
the pods to get `lhnet1`; without it they stay Pending with the sandbox error as an event.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from runbooklib.checks.longhorn import (
    IM_LABELS,
    LONGHORN_IFNAME,
    LONGHORN_NS,
    NODE_LABEL,
    SETTING_GROUP,
    SETTING_KIND,
    SETTING_NAME,
    SETTING_PLURAL,
    SETTING_VERSION,
    parse_setting,
)
from runbooklib.nad.annotations import NETWORK_STATUS_ANNOTATION, NETWORKS_ANNOTATION

if TYPE_CHECKING:
    from kubernetes import client as k8s

Obj = dict[str, Any]
Form = Literal["json", "short"]

SETTINGS_CRD: Obj = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": f"{SETTING_PLURAL}.{SETTING_GROUP}", "labels": {"longhorn-manager": ""}},
    "spec": {
        "group": SETTING_GROUP, "scope": "Namespaced",
        "names": {"kind": SETTING_KIND, "listKind": "SettingList", "plural": SETTING_PLURAL, "singular": "setting",
                  "shortNames": ["lhs"]},
        "versions": [{
            "name": SETTING_VERSION, "served": True, "storage": True, "subresources": {"status": {}},
            "additionalPrinterColumns": [{"name": "Value", "type": "string", "jsonPath": ".value",
                                          "description": "The value of the setting"}],
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
                "value": {"type": "string"},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}},
        }],
    },
}
"""The Setting CRD as far as the check needs it (longhorn-manager v1beta2 `Setting{Value string}`;
the real CRD has more printer columns and an `applied` status)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    expect: str
    fix: str


SCENARIOS = {s.name: s for s in (
    Scenario("setting-empty", "storage-network setting empty: instance-managers on the pod network",
             "FAIL storage network off", "patch the setting to <ns>/<nad>"),
    Scenario("nad-name-wrong", "the setting names a NAD that does not exist (name typo)",
             "FAIL the setting names a NAD that does not exist; pods Pending", "patch the setting to the real NAD"),
    Scenario("nad-namespace-wrong", "the setting names the NAD in the wrong namespace",
             "FAIL ... wrong namespace", "patch the setting to the NAD's namespace"),
    Scenario("no-network-status", "pods attach but their network-status annotation is gone (Multus could not write it)",
             "FAIL no network-status annotation", "fix Multus' pods/status RBAC, restart the pods"),
)}


class LonghornLabError(RuntimeError):
    pass


def _ignore_conflict(fn: Any, *args: Any) -> None:
    from kubernetes.client.exceptions import ApiException

    try:
        fn(*args)
    except ApiException as e:
        if e.status != 409:
            raise


def install_crd(api: k8s.ApiClient) -> None:
    """Namespace longhorn-system and the settings CRD (idempotent)."""
    from kubernetes import client

    _ignore_conflict(client.CoreV1Api(api).create_namespace, {"metadata": {"name": LONGHORN_NS}})
    _ignore_conflict(client.ApiextensionsV1Api(api).create_custom_resource_definition, SETTINGS_CRD)


def set_setting(api: k8s.ApiClient, value: str) -> None:
    """Create or update `settings.longhorn.io/storage-network` with `value`."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    custom = client.CustomObjectsApi(api)
    body = {"apiVersion": f"{SETTING_GROUP}/{SETTING_VERSION}", "kind": SETTING_KIND,
            "metadata": {"name": SETTING_NAME, "namespace": LONGHORN_NS}, "value": value}
    try:
        custom.create_namespaced_custom_object(SETTING_GROUP, SETTING_VERSION, LONGHORN_NS, SETTING_PLURAL, body)
    except ApiException as e:
        if e.status != 409:
            raise
        custom.patch_namespaced_custom_object(SETTING_GROUP, SETTING_VERSION, LONGHORN_NS, SETTING_PLURAL, SETTING_NAME,
                                              {"value": value})


def networks_value(setting: str, form: Form = "json") -> str | None:
    """The networks annotation Longhorn puts on instance-managers for a setting (None: setting off).
    A malformed value is passed through as a bare name, as a typo would be."""
    parsed = parse_setting(setting)
    if not setting.strip():
        return None
    if parsed is None:
        return setting.strip()
    ns, name = parsed
    if form == "short":
        return f"{ns}/{name}@{LONGHORN_IFNAME}"
    return json.dumps([{"namespace": ns, "name": name, "interface": LONGHORN_IFNAME}])


def instance_manager_pod(node: str, setting: str, form: Form = "json") -> Obj:
    digest = hashlib.md5(f"{node}/{uuid.uuid4()}".encode(), usedforsecurity=False).hexdigest()
    meta: Obj = {"name": f"instance-manager-{digest}", "namespace": LONGHORN_NS,
                 "labels": {**IM_LABELS, NODE_LABEL: node, "longhorn.io/instance-manager-image": "imi-lab"}}
    value = networks_value(setting, form)
    if value is not None:
        meta["annotations"] = {NETWORKS_ANNOTATION: value}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": node, "containers": [{"name": "instance-manager", "image": "longhornio/longhorn-instance-manager:lab"}]}}


def list_instance_managers(api: k8s.ApiClient) -> list[Obj]:
    from runbooklib.checks.longhorn_gather import read_instance_managers

    return read_instance_managers(api)


def delete_instance_managers(api: k8s.ApiClient, timeout_s: float = 30.0) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api)
    for pod in list_instance_managers(api):
        core.delete_namespaced_pod(pod["metadata"]["name"], LONGHORN_NS)
    deadline = time.monotonic() + timeout_s
    while list_instance_managers(api) and time.monotonic() < deadline:
        time.sleep(0.2)


def _settled(api: k8s.ApiClient, pods: list[Obj]) -> bool:
    from runbooklib.checks.longhorn_gather import read_warning_events

    waiting = [p for p in pods if (p.get("status") or {}).get("phase") != "Running"]
    if not waiting:
        return True
    events = read_warning_events(api, waiting)
    return all(f"{LONGHORN_NS}/{p['metadata']['name']}" in events for p in waiting)


def wait_instance_managers(api: k8s.ApiClient, count: int, timeout_s: float = 90.0) -> list[Obj]:
    """Until every pod is Running or has a Warning event (a failed sandbox); returns the pods."""
    deadline = time.monotonic() + timeout_s
    while True:
        pods = list_instance_managers(api)
        if len(pods) >= count and _settled(api, pods):
            return pods
        if time.monotonic() > deadline:
            phases = {p["metadata"]["name"]: (p.get("status") or {}).get("phase") for p in pods}
            raise LonghornLabError(f"instance-manager pods did not settle in {timeout_s:.0f}s: {phases}")
        time.sleep(0.3)


def run_instance_managers(api: k8s.ApiClient, nodes: list[str], setting: str, form: Form = "json",
                          timeout_s: float = 90.0) -> list[Obj]:
    """What longhorn-manager does after a setting change: replace the instance-managers, one per node."""
    from kubernetes import client

    delete_instance_managers(api)
    core = client.CoreV1Api(api)
    for node in nodes:
        core.create_namespaced_pod(LONGHORN_NS, instance_manager_pod(node, setting, form))
    return wait_instance_managers(api, len(nodes), timeout_s)


def drop_network_status(api: k8s.ApiClient) -> int:
    """Remove network-status from every instance-manager pod (as if Multus never wrote it)."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    n = 0
    for pod in list_instance_managers(api):
        if NETWORK_STATUS_ANNOTATION in ((pod["metadata"].get("annotations")) or {}):
            core.patch_namespaced_pod(pod["metadata"]["name"], LONGHORN_NS,
                                      {"metadata": {"annotations": {NETWORK_STATUS_ANNOTATION: None}}})
            n += 1
    return n


def broken_setting(scenario: str, good: str) -> str:
    ns, _, name = good.partition("/")
    return {"setting-empty": "", "nad-name-wrong": f"{ns}/{name}-wrong",
            "nad-namespace-wrong": f"{'kube-system' if ns != 'kube-system' else 'default'}/{name}"}.get(scenario, good)


def apply_longhorn(api: k8s.ApiClient, nodes: list[str], setting: str, *, broken: str | None = None,
                   form: Form = "json", timeout_s: float = 90.0) -> tuple[str, list[Obj]]:
    """CRD + setting (`setting`, or the broken variant of it) + instance-managers. Returns the
    setting written and the pods."""
    if broken is not None and broken not in SCENARIOS:
        raise LonghornLabError(f"unknown scenario {broken!r} (have: {', '.join(SCENARIOS)})")
    value = broken_setting(broken, setting) if broken else setting
    install_crd(api)
    set_setting(api, value)
    pods = run_instance_managers(api, nodes, value, form, timeout_s)
    if broken == "no-network-status":
        drop_network_status(api)
        pods = list_instance_managers(api)
    return value, pods


def default_setting(params: Any) -> str:
    """The params' storage NAD as a setting value (the NAD in longhorn-system, else the only one)."""
    from runbooklib.checks.longhorn_gather import expected_nad

    ref = expected_nad(params)
    if ref is None:
        raise LonghornLabError("the params name no NAD in longhorn-system (nads:); pass --setting")
    return ref
