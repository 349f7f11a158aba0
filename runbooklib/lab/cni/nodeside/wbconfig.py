"""Whereabouts v0.9.1 config loading (pkg/config/config.go `LoadIPAMConfig` / `GetFlatIPAM`).

Search order for the flat file (host paths; the first that exists wins):
1. `ipam.configuration_path`
2. `/etc/kubernetes/cni/net.d/whereabouts.d/whereabouts.conf`
3. `/etc/cni/net.d/whereabouts.d/whereabouts.conf`
4. `/host/etc/cni/net.d/whereabouts.d/whereabouts.conf`
None found: `config file not found`. The flat file only fills fields the NAD's `ipam` leaves empty.
Also a small reader for the installer's YAML kubeconfig (the stdlib has no YAML parser).
"""

from __future__ import annotations

import json
import os
from typing import Any

DEFAULT_PATHS = (
    "/etc/kubernetes/cni/net.d/whereabouts.d/whereabouts.conf",
    "/etc/cni/net.d/whereabouts.d/whereabouts.conf",
    "/host/etc/cni/net.d/whereabouts.d/whereabouts.conf",
)
CONFIG_NOT_FOUND = "config file not found"
NO_STORAGE = ("you have not configured the storage engine (looks like you're using an invalid "
              "`kubernetes.kubeconfig` parameter in your config)")


class ConfigError(Exception):
    pass


def search_paths(ipam: dict[str, Any]) -> list[str]:
    out = list(DEFAULT_PATHS)
    if ipam.get("configuration_path"):
        out.insert(0, str(ipam["configuration_path"]))
    return out


def find_flat_config(ipam: dict[str, Any], exists: Any = os.path.exists) -> str:
    for p in search_paths(ipam):
        if exists(p):
            return p
    raise ConfigError(CONFIG_NOT_FOUND)


def merge_missing(dst: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    """mergo.Merge without override: src only fills keys that are empty in dst (recursively)."""
    out = dict(dst)
    for k, v in src.items():
        cur = out.get(k)
        if isinstance(cur, dict) and isinstance(v, dict):
            out[k] = merge_missing(cur, v)
        elif cur in (None, "", [], {}, 0):
            out[k] = v
    return out


def load_ipam(netconf: dict[str, Any], read: Any = None) -> dict[str, Any]:
    """The effective `ipam` dict of a whereabouts call (NAD's ipam merged with the flat file)."""
    ipam = netconf.get("ipam")
    if not isinstance(ipam, dict):
        raise ConfigError("IPAM config missing 'ipam' key")
    if ipam.get("type") != "whereabouts":
        raise ConfigError(f"only interested in networks whose IPAM type is 'whereabouts'. "
                          f"This one was: {ipam.get('type', '')}")
    path = find_flat_config(ipam)
    text = read(path) if read else open(path).read()
    flat = json.loads(text)
    merged = merge_missing(ipam, flat)
    if not (merged.get("kubernetes") or {}).get("kubeconfig"):
        raise ConfigError(NO_STORAGE)
    return merged


# --- kubeconfig ---------------------------------------------------------------------------------

def _scalar(v: str) -> Any:
    v = v.strip()
    if not v:
        return None
    if v[0] in "\"'" and v[-1] == v[0]:
        return v[1:-1]
    if v in ("true", "false"):
        return v == "true"
    return v


def parse_simple_yaml(text: str) -> Any:
    """Block-style YAML of maps, `- ` lists and scalars (what kubeconfig writers emit); JSON passes too."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return json.loads(stripped)
    lines = [(len(raw) - len(raw.lstrip(" ")), raw.strip()) for raw in text.splitlines()
             if raw.strip() and not raw.strip().startswith("#")]
    value, _ = _parse_block(lines, 0, lines[0][0] if lines else 0)
    return value


def _parse_block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    if i < len(lines) and lines[i][1].startswith("- "):
        items: list[Any] = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            rest = lines[i][1][2:]
            sub = [(indent + 2, rest)] + [ln for ln in lines[i + 1:]]
            val, used = _parse_block(sub, 0, indent + 2)
            items.append(val)
            i += used
        return items, i
    out: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
        key, _, rest = lines[i][1].partition(":")
        i += 1
        if rest.strip():
            out[key.strip()] = _scalar(rest)
        elif i < len(lines) and (lines[i][0] > indent or (lines[i][0] == indent and lines[i][1].startswith("- "))):
            out[key.strip()], i = _parse_block(lines, i, lines[i][0])
        else:
            out[key.strip()] = None
    return out, i


def kubeconfig_target(text: str) -> tuple[str, str, str]:
    """(server, token, namespace) of the current context of a kubeconfig."""
    cfg = parse_simple_yaml(text)
    ctx_name = cfg.get("current-context")
    ctx = next((c.get("context") or {} for c in cfg.get("contexts") or [] if c.get("name") == ctx_name), None)
    if ctx is None:
        raise ConfigError("k8s config: namespace not present in context")
    cluster = next((c.get("cluster") or {} for c in cfg.get("clusters") or [] if c.get("name") == ctx.get("cluster")), {})
    user = next((u.get("user") or {} for u in cfg.get("users") or [] if u.get("name") == ctx.get("user")), {})
    return str(cluster.get("server", "")), str(user.get("token", "") or ""), str(ctx.get("namespace") or "kube-system")
