"""The CNI protocol as libcni (containernetworking/cni v1.x) runs it: find, exec, conflists, errors.

Messages are libcni's format strings (pkg/invoke/find.go, pkg/invoke/raw_exec.go, libcni/api.go):
- `failed to find plugin %q in path %s`  (paths printed like Go's `[a b]`)
- `netplugin failed with no error message: %v` / `netplugin failed: %q`
- `plugin type="<type>" name="<name>" failed (add): <err>` for each plugin of a list.
"""

from __future__ import annotations

import json
import os
import subprocess  # noqa: S404
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

# skel error codes (SPEC.md)
ERR_INCOMPATIBLE = 1
ERR_INVALID_ENV = 4
ERR_DECODING = 6
ERR_INVALID_CONFIG = 7
ERR_INTERNAL = 999


class CniError(Exception):
    """A CNI error object `{"cniVersion","code","msg","details"}` (types.Error)."""

    def __init__(self, msg: str, code: int = ERR_INTERNAL, details: str = "") -> None:
        super().__init__(msg)
        self.msg, self.code, self.details = msg, code, details

    def __str__(self) -> str:
        return f"{self.msg}; {self.details}" if self.details else self.msg

    def to_json(self, cni_version: str = "0.3.1") -> str:
        out: Obj = {"cniVersion": cni_version, "code": self.code, "msg": self.msg}
        if self.details:
            out["details"] = self.details
        return json.dumps(out)


def go_list(items: list[str]) -> str:
    """Go's `%s` / `%v` of a []string: `[a b c]`."""
    return "[" + " ".join(items) + "]"


def go_quote(s: str) -> str:
    """Go's `%q` for ordinary text (json escaping is the same for the characters that occur here)."""
    return json.dumps(s, ensure_ascii=False)


def find_in_path(plugin: str, paths: list[str]) -> str:
    """invoke.FindInPath: the first `<dir>/<plugin>` that stat()s (following symlinks) as a regular file."""
    if not plugin:
        raise CniError("no plugin name provided")
    if "/" in plugin:
        raise CniError(f"invalid plugin name: {plugin}")
    if not paths:
        raise CniError("no paths provided")
    for d in paths:
        full = os.path.join(d, plugin)
        try:
            st = os.stat(full)
        except OSError:
            continue
        if (st.st_mode & 0o170000) == 0o100000:
            return full
    raise CniError(f"failed to find plugin {go_quote(plugin)} in path {go_list(paths)}")


@dataclass
class CniArgs:
    """The per-call parameters (CNI_* environment) of one ADD/DEL/CHECK."""

    command: str
    container_id: str
    netns: str
    ifname: str
    path: list[str]
    args: str = ""           # CNI_ARGS, e.g. IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=x
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
        env.update(self.extra_env)
        env.update(CNI_COMMAND=self.command, CNI_CONTAINERID=self.container_id, CNI_NETNS=self.netns,
                   CNI_IFNAME=self.ifname, CNI_PATH=":".join(self.path))
        if self.args:
            env["CNI_ARGS"] = self.args
        return env


def k8s_cni_args(namespace: str, name: str, uid: str, container_id: str) -> str:
    """The CNI_ARGS string the kubelet/containerd pass (go-cni WithLabels + K8S_* args)."""
    return (f"K8S_POD_INFRA_CONTAINER_ID={container_id};K8S_POD_UID={uid};IgnoreUnknown=1;"
            f"K8S_POD_NAMESPACE={namespace};K8S_POD_NAME={name}")


def parse_cni_args(s: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (s or "").split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def plugin_error(rc: int, stdout: bytes, stderr: bytes) -> CniError:
    """invoke's pluginErr: the plugin's JSON error, or its stderr, or the exit status."""
    if not stdout.strip():
        if not stderr.strip():
            return CniError(f"netplugin failed with no error message: exit status {rc}")
        return CniError(f"netplugin failed: {go_quote(stderr.decode(errors='replace'))}")
    try:
        obj = json.loads(stdout)
        return CniError(str(obj.get("msg", "")), int(obj.get("code", 0) or 0), str(obj.get("details", "")))
    except (ValueError, AttributeError) as e:
        return CniError(f"netplugin failed but error parsing its diagnostic message "
                        f"{go_quote(stdout.decode(errors='replace'))}: {e}")


def exec_plugin(path: str, conf: Obj, args: CniArgs, *, timeout: float = 60.0) -> Obj | None:
    """Run one plugin binary with the CNI protocol; return its parsed result (None for DEL)."""
    proc = subprocess.run([path], input=json.dumps(conf).encode(), env=args.env(),  # noqa: S603
                          capture_output=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise plugin_error(proc.returncode, proc.stdout, proc.stderr)
    if args.command in ("ADD",) or (args.command == "VERSION"):
        try:
            return json.loads(proc.stdout or b"{}")
        except ValueError as e:
            raise CniError(f"decoding result of {path}: {e}", ERR_DECODING) from e
    return None


def plugin_description(conf: Obj, with_name: bool = True) -> str:
    out = f"type={go_quote(str(conf.get('type', '')))}"
    if with_name and conf.get("name"):
        out += f" name={go_quote(str(conf['name']))}"
    return out


def as_conflist(conf: Obj) -> Obj:
    """libcni ConfListFromConf: a single .conf becomes a one-plugin list."""
    if "plugins" in conf:
        return conf
    return {"cniVersion": conf.get("cniVersion", ""), "name": conf.get("name", ""), "plugins": [conf]}


def _plugin_conf(conflist: Obj, plugin: Obj, prev: Obj | None, runtime_config: Obj | None) -> Obj:
    conf = dict(plugin)
    conf["name"] = conflist.get("name", "")
    conf["cniVersion"] = conflist.get("cniVersion", plugin.get("cniVersion", ""))
    if prev is not None:
        conf["prevResult"] = prev
    caps = plugin.get("capabilities") or {}
    rc = {k: v for k, v in (runtime_config or {}).items() if caps.get(k)}
    if rc:
        conf["runtimeConfig"] = rc
    return conf


def conflist_add(conflist: Obj, args: CniArgs, *, describe_with_name: bool = True,
                 runtime_config: Obj | None = None) -> Obj:
    """libcni AddNetworkList: each plugin in order, the previous result handed on as prevResult."""
    prev: Obj | None = None
    for plugin in conflist.get("plugins", []):
        desc = plugin_description({**plugin, "name": conflist.get("name", "")}, describe_with_name)
        try:
            path = find_in_path(str(plugin.get("type", "")), args.path)
            prev = exec_plugin(path, _plugin_conf(conflist, plugin, prev, runtime_config), args)
        except CniError as e:
            raise CniError(f"plugin {desc} failed (add): {e}", e.code) from e
    return prev or {"cniVersion": conflist.get("cniVersion", "")}


def conflist_del(conflist: Obj, args: CniArgs, *, describe_with_name: bool = True,
                 prev: Obj | None = None) -> None:
    """libcni DelNetworkList: plugins in reverse order."""
    for plugin in reversed(conflist.get("plugins", [])):
        desc = plugin_description({**plugin, "name": conflist.get("name", "")}, describe_with_name)
        try:
            path = find_in_path(str(plugin.get("type", "")), args.path)
            exec_plugin(path, _plugin_conf(conflist, plugin, prev if _has_prev(conflist) else None, None), args)
        except CniError as e:
            raise CniError(f"plugin {desc} failed (delete): {e}", e.code) from e


def _has_prev(conflist: Obj) -> bool:
    v = str(conflist.get("cniVersion", "0.3.1"))
    return v not in ("", "0.1.0", "0.2.0", "0.3.0", "0.3.1")


def result_interfaces(result: Obj) -> list[Obj]:
    return list(result.get("interfaces") or [])


def sandbox_interface(result: Obj, ifname: str) -> tuple[int, Obj] | None:
    """The result's interface inside the sandbox named `ifname` (index, entry)."""
    for i, itf in enumerate(result_interfaces(result)):
        if itf.get("sandbox") and itf.get("name") == ifname:
            return i, itf
    return None


def result_ips(result: Obj, if_index: int | None = None) -> list[str]:
    """Bare IPs of the result (optionally only those bound to interface `if_index`)."""
    out = []
    for ip in result.get("ips") or []:
        if if_index is not None and ip.get("interface") is not None and ip.get("interface") != if_index:
            continue
        out.append(str(ip.get("address", "")).split("/")[0])
    return out
