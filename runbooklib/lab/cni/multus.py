"""Multus thick v4.2.2 logic, pure: daemon config, generated 00-multus.conf, the networks annotation,
NAD -> delegate, network-status. Texts follow upstream (pkg/server, pkg/k8sclient, pkg/types)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

DAEMON_CONFIG_PATH = "/etc/cni/net.d/multus.d/daemon-config.json"
DEFAULTS: Obj = {"binDir": "/opt/cni/bin", "confDir": "/etc/cni/multus/net.d", "cniDir": "/var/lib/cni/multus",
                 "multusNamespace": "kube-system", "logToStderr": True, "socketDir": "/run/multus/"}
DEFAULT_NETWORK_NAME = "multus-cni-network"
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status"
_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class MultusError(Exception):
    pass


def daemon_config(raw: str) -> Obj:
    """daemon-config.json with upstream defaults filled in."""
    cfg = json.loads(raw)
    return {**DEFAULTS, **cfg}


def no_master_plugin_logs(autoconf_dir: str) -> list[str]:
    err = f"failed to find the cluster master CNI plugin: could not find a plugin configuration in {autoconf_dir}"
    return [f"failed to find the primary CNI plugin: {err}",
            f"failed to create the configuration manager for the primary CNI plugin: {err}"]


def generate_conf(cfg: Obj, primary_path: str, primary: Obj) -> Obj:
    """MultusConf.Generate: what the daemon writes as 00-multus.conf (auto mode)."""
    out: Obj = {}
    caps: Obj = {}
    for p in primary.get("plugins", [primary]):
        caps.update({k: v for k, v in (p.get("capabilities") or {}).items() if v})
    if caps:
        out["capabilities"] = caps
    out["cniVersion"] = cfg.get("cniVersion", "")
    for k in ("logLevel", "logToStderr", "logFile"):
        if k in cfg:
            out[k] = cfg[k]
    out["name"] = primary.get("name", DEFAULT_NETWORK_NAME) if cfg.get("overrideNetworkName") else DEFAULT_NETWORK_NAME
    out["clusterNetwork"] = primary_path
    out["type"] = "multus-shim"
    return out


@dataclass
class Selection:
    name: str
    namespace: str
    interface: str = ""
    ips: list[str] = field(default_factory=list)
    mac: str = ""
    cni_args: Obj | None = None


def _parse_error(detail: str) -> MultusError:
    return MultusError("parsePodNetworkAnnotation: failed to parse pod Network Attachment Selection "
                       f"Annotation JSON format: {detail}")


def parse_networks(value: str, pod_namespace: str) -> list[Selection]:
    """parsePodNetworkAnnotation: a JSON list, or `[ns/]name[@if]` items separated by commas."""
    value = value.strip()
    if not value:
        return []
    out: list[Selection] = []
    if any(c in value for c in "[{\""):
        try:
            items = json.loads(value)
        except ValueError as e:
            raise _parse_error(str(e)) from e
        if not isinstance(items, list):
            raise _parse_error("json: cannot unmarshal object into Go value of type "
                               "[]*types.NetworkSelectionElement")
        for it in items:
            if not isinstance(it, dict):
                raise _parse_error("json: cannot unmarshal into Go value of type types.NetworkSelectionElement")
            out.append(Selection(str(it.get("name", "")), str(it.get("namespace") or pod_namespace),
                                 str(it.get("interface") or it.get("interfaceRequest") or ""),
                                 list(it.get("ips") or []), str(it.get("mac") or ""), it.get("cni-args")))
    else:
        for item in value.split(","):
            item = item.strip()
            ns, name, ifname = pod_namespace, item, ""
            if "@" in name:
                parts = name.split("@")
                if len(parts) > 2:
                    raise MultusError("parsePodNetworkAnnotation: Invalid network object (failed at '@')")
                name, ifname = parts
            if "/" in name:
                parts = name.split("/")
                if len(parts) > 2:
                    raise MultusError("parsePodNetworkAnnotation: Invalid network object (failed at '/')")
                ns, name = parts
            out.append(Selection(name, ns, ifname))
    for s in out:
        for part in (s.namespace, s.name):
            if not _DNS1123.match(part):
                raise MultusError(f"parsePodNetworkAnnotation: Failed to parse network annotation: "
                                  f"{part} is not a valid DNS-1123 label")
        if len(s.interface) > 15:
            raise MultusError(f"parsePodNetworkAnnotation: interface name {s.interface} is too long")
    return out


def nad_not_found(name: str, namespace: str) -> str:
    return (f"cannot find a network-attachment-definition ({name}) in namespace ({namespace}): "
            f"network-attachment-definitions.k8s.cni.cncf.io \"{name}\" not found")


def delegate_from_nad(nad: Obj, sel: Selection) -> Obj:
    """The delegate conf list of a NAD (its spec.config; `name` defaults to the NAD name)."""
    raw = nad.get("spec", {}).get("config", "")
    if not raw:
        raise MultusError(f"GetCNIConfig: NAD {sel.namespace}/{sel.name} has no spec.config "
                          "(confDir lookup is not modelled by the lab)")
    try:
        conf = json.loads(raw)
    except ValueError as e:
        raise MultusError(f"GetCNIConfig: err in getCNIConfigFromSpec: failed to unmarshal Spec.Config: {e}") from e
    if not isinstance(conf, dict):
        raise MultusError("GetCNIConfig: err in getCNIConfigFromSpec: failed to unmarshal Spec.Config: not an object")
    conf.setdefault("name", sel.name)
    if not conf.get("name"):
        conf["name"] = sel.name
    if "plugins" in conf:
        if not conf["plugins"] or not all(isinstance(p, dict) and p.get("type") for p in conf["plugins"]):
            raise MultusError("a plugin delegate must have the 'type' field")
        return conf
    if not conf.get("type"):
        raise MultusError("LoadDelegateNetConfList: delegate must have the 'type' or 'plugin' field")
    return {"cniVersion": conf.get("cniVersion", ""), "name": conf["name"], "plugins": [conf], "single": True}


def status_entry(name: str, ifname: str, result: Obj, *, default: bool = False) -> Obj:
    """One network-status entry (NetworkStatus field order) from a CNI result."""
    ifaces = result.get("interfaces") or []
    idx = next((i for i, itf in enumerate(ifaces) if itf.get("sandbox") and itf.get("name") == ifname), None)
    mac = ifaces[idx].get("mac", "") if idx is not None else ""
    mtu = ifaces[idx].get("mtu") if idx is not None else None
    ips = [str(ip.get("address", "")).split("/")[0] for ip in result.get("ips") or []
           if idx is None or ip.get("interface") in (None, idx)]
    out: Obj = {"name": name, "interface": ifname}
    if ips:
        out["ips"] = ips
    if mac:
        out["mac"] = mac
    if mtu:
        out["mtu"] = mtu
    if default:
        out["default"] = True
    out["dns"] = result.get("dns") or {}
    gws = [str(r["gw"]) for r in result.get("routes") or [] if r.get("gw") and r.get("dst") in ("0.0.0.0/0", "::/0")]
    if default and gws:
        out["gateway"] = gws
    return out


def network_status_value(entries: list[Obj]) -> str:
    """Each entry json.MarshalIndent'ed (4 spaces), joined with `,`, wrapped in `[` `]`."""
    return "[" + ",".join(json.dumps(e, indent=4) for e in entries) + "]"


def error_prefix(namespace: str, pod: str, uid: str, netname: str) -> str:
    return f"[{namespace}/{pod}/{uid}:{netname}]"
