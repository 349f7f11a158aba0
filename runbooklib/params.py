"""Typed model of a params file (one cluster) and `load_params()`, with all validation of the file.

Structural problems (unknown keys, wrong types) come from pydantic; semantic problems (ranges,
overlaps, duplicates, shell-unsafe names, missing files) from `_semantic_issues`. Every problem is
reported at once as a `ParamsError` whose `issues` name the field path (`nads[0].ipam.range_end`).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runbooklib.errors import ParamIssue, ParamsError

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
# interface names: never "." / "..", never starting with "-" (would read as an option to ip/ping)
IFNAME = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9_.][A-Za-z0-9_.\-]{0,14}$")
# hostnames, user names and ssh aliases: no shell metacharacters at all, no leading "-" (an option)
SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_.@:][A-Za-z0-9_.@:\-]*$")
SAFE_PATH = re.compile(r"^/[A-Za-z0-9_./+\-]*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# the lab may only ever use addresses of the network-testing block (RFC 2544), never a real network's
LAB_NETWORK = ipaddress.ip_network("198.18.0.0/15")
# directories node prep must never replace, move or fill (a k3s path set to one of them is refused)
SYSTEM_DIRS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin",
    "/srv", "/sys", "/tmp", "/usr", "/var", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64", "/usr/local",
    "/usr/local/bin", "/usr/local/sbin", "/usr/share", "/var/lib", "/var/log", "/var/run", "/var/tmp",
    "/etc/ssh", "/etc/systemd", "/etc/default", "/var/lib/rancher", "/var/lib/rancher/k3s",
    "/var/lib/rancher/k3s/data", "/var/lib/rancher/k3s/agent",
})
SHA256 = re.compile(r"^[0-9a-f]{64}$")
VERSION = re.compile(r"^v\d+\.\d+\.\d+$")
CNI_VERSIONS = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
MACVLAN_MODES = ("bridge", "private", "vepa", "passthru")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class SshTarget(_Model):
    """How to reach a node. Either `host` (+ user/port/key_file) or an `alias` from ~/.ssh/config."""

    host: str | None = Field(None, description="address or DNS name of the node")
    user: str | None = Field(None, description="login user; default from ssh config / current user")
    port: int = Field(22, ge=1, le=65535)
    key_file: str | None = Field(None, description="private key file (never its contents)")
    alias: str | None = Field(None, description="Host alias in ~/.ssh/config")


class StorageNic(_Model):
    name: str = Field(description="interface name of the storage NIC on the node, e.g. ens2")
    address: str = Field(description="the node's own address on the storage segment")
    mtu: int = Field(9000, description="MTU the NIC is expected to have")


class NodeParams(_Model):
    name: str
    ssh: SshTarget
    sudo: Literal["root", "sudo", "sudo-password"] = Field(
        "sudo", description="root: log in as root; sudo: passwordless sudo; sudo-password: password from env")
    storage_nic: StorageNic
    roles: list[Literal["server", "agent"]] = Field(default_factory=lambda: ["agent"])


class K3sPaths(_Model):
    """Where k3s keeps things. Defaults are the reference runbook's (k3s >= v1.28.15/v1.29.10/v1.30.6/v1.31.2)."""

    conf_dir: str = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
    cni_bin_dir: str = "/var/lib/rancher/k3s/data/cni"
    data_dir: str = "/var/lib/rancher/k3s/data"
    multicall_binary: str = "/var/lib/rancher/k3s/data/current/bin/cni"
    opt_cni_bin: str = "/opt/cni/bin"
    whereabouts_link: str = "/etc/cni/net.d/whereabouts.d"

    @property
    def whereabouts_target(self) -> str:
        return f"{self.conf_dir.rstrip('/')}/whereabouts.d"

    @property
    def multus_conf_dir(self) -> str:
        """The k3s-side Multus conf dir that the reference sed points `multus-conf-dir` at."""
        return f"{self.conf_dir.rsplit('/net.d', 1)[0]}/multus/net.d"


class Artifact(_Model):
    """An upstream artifact: fetched from `url` and checked against `sha256` (or the published
    checksum at `sha256_url`), or taken from a local file/dir with `local`."""

    url: str | None = None
    sha256: str | None = None
    sha256_url: str | None = None
    local: str | None = None


class Versions(_Model):
    multus: str = "v4.2.2"
    whereabouts: str = "v0.9.1"
    cni_plugins: str = "v1.6.2"


MULTUS_URL = "https://raw.githubusercontent.com/k8snetworkplumbingwg/multus-cni/{v}/deployments/multus-daemonset-thick.yml"
WHEREABOUTS_URL = "https://raw.githubusercontent.com/k8snetworkplumbingwg/whereabouts/{v}/doc/crds/{f}"
PLUGINS_URL = "https://github.com/containernetworking/plugins/releases/download/{v}/cni-plugins-linux-{arch}-{v}.tgz"


class Artifacts(_Model):
    cni_plugins: Artifact = Field(default_factory=lambda: Artifact(
        url=PLUGINS_URL.format(v="v1.6.2", arch="amd64"),
        sha256_url=PLUGINS_URL.format(v="v1.6.2", arch="amd64") + ".sha256"))
    multus_manifest: Artifact = Field(default_factory=lambda: Artifact(
        url=MULTUS_URL.format(v="v4.2.2"),
        sha256="5ae5d2b0d63e0f058ab42dcd0a611479a271d850899c1e8369999901943f56cc"))
    whereabouts_manifest: Artifact = Field(default_factory=lambda: Artifact(
        url=WHEREABOUTS_URL.format(v="v0.9.1", f="daemonset-install.yaml"),
        sha256="c0d0a429eff59b7ca7620b5f0fe77f5821c569156bd2f56a64d1d2c38ae9a01e"))
    whereabouts_crds: list[Artifact] = Field(default_factory=lambda: [
        Artifact(url=WHEREABOUTS_URL.format(v="v0.9.1", f="whereabouts.cni.cncf.io_ippools.yaml"),
                 sha256="8957e53f260e5ee0ad6560743d02c609ff21e15f6c3b23851971522b3bf6027a"),
        Artifact(url=WHEREABOUTS_URL.format(v="v0.9.1", f="whereabouts.cni.cncf.io_overlappingrangeipreservations.yaml"),
                 sha256="59ff31b1cbe8ff7732160f3f533a71884c4bb03b18d2aa48c97b0a2aadcc4cb0"),
    ])


class IpamParams(_Model):
    type: Literal["whereabouts"] = "whereabouts"
    range: str = Field(description="CIDR the pool lives in, e.g. 192.168.205.0/24")
    range_start: str | None = Field(None, description="first address handed out (inclusive)")
    range_end: str | None = Field(None, description="last address handed out (inclusive)")
    exclude: list[str] = Field(default_factory=list, description="CIDRs or bare IPs never handed out")
    network_name: str | None = None
    enable_overlapping_ranges: bool = True
    configuration_path: str | None = None


class NadParams(_Model):
    name: str
    namespace: str
    type: Literal["macvlan"] = "macvlan"
    master: str
    mode: str = "bridge"
    mtu: int | None = None
    cni_version: str = "0.3.1"
    ipam: IpamParams


class StaticHost(_Model):
    name: str
    address: str
    note: str = ""


class StorageNetwork(_Model):
    cidr: str = Field(description="the storage segment, e.g. 192.168.205.0/24")
    mtu: int = 9000


class KubeconfigParams(_Model):
    path: str = Field("~/.kube/config", description="path to a kubeconfig file (never its contents)")
    context: str | None = None


class SshSettings(_Model):
    verify_host_keys: bool = Field(True, description="false is an explicit opt-out of host-key checking")
    known_hosts: str | None = Field(None, description="known_hosts file; default ~/.ssh/known_hosts")
    connect_timeout_s: float = Field(10.0, gt=0)
    command_timeout_s: float = Field(300.0, gt=0)
    parallel: int = Field(8, ge=1, le=64, description="nodes worked on at once")
    sudo_password_env: str = Field("RUNBOOK_SUDO_PASSWORD", description="env var holding the sudo password")


class LabSettings(_Model):
    """Only for the local lab (`runbook lab ...`)."""

    state_dir: str = "/var/tmp/runbooklib-lab"
    mgmt_cidr: str = "198.19.0.0/24"


class Params(_Model):
    cluster: str
    kubeconfig: KubeconfigParams = Field(default_factory=KubeconfigParams)
    ssh: SshSettings = Field(default_factory=SshSettings)
    k3s: K3sPaths = Field(default_factory=K3sPaths)
    versions: Versions = Field(default_factory=Versions)
    artifacts: Artifacts = Field(default_factory=Artifacts)
    storage_network: StorageNetwork
    nodes: list[NodeParams]
    nads: list[NadParams] = Field(default_factory=list)
    static_hosts: list[StaticHost] = Field(default_factory=list)
    lab: LabSettings | None = None

    # where the file was loaded from (not part of the file)
    source_path: str | None = Field(None, exclude=True)

    def resolve(self, path: str) -> Path:
        """A path from the file: `~` expanded, relative paths taken from the params file's folder."""
        return resolve_path(path, Path(self.source_path).parent if self.source_path else None)

    def node(self, name: str) -> NodeParams:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node named {name!r} in params (have: {', '.join(n.name for n in self.nodes)})")

    def nad(self, namespace: str, name: str) -> NadParams:
        for n in self.nads:
            if n.namespace == namespace and n.name == name:
                return n
        raise KeyError(f"no NAD {namespace}/{name} in params")

    def dump_yaml(self) -> str:
        data = self.model_dump(mode="json", exclude_none=True, exclude={"source_path"})
        return yaml.safe_dump(data, sort_keys=False)


# ---------------------------------------------------------------------------------------------
# loading


def load_params(path: str | os.PathLike[str], *, require_files: bool = True) -> Params:
    """Load and validate a params file. Raises `ParamsError` listing every problem at once.

    `require_files=False` skips the checks that files named in the params (SSH keys, local
    artifacts) exist: used to inspect a lab params file before `runbook lab up` made its keys.
    """
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text())
    except FileNotFoundError:
        raise ParamsError(str(p), [ParamIssue("(file)", "file not found", "give the path of a params YAML file")]) from None
    except yaml.YAMLError as e:
        raise ParamsError(str(p), [ParamIssue("(file)", f"not valid YAML: {e}", "fix the YAML syntax")]) from None
    return params_from_dict(raw, source=str(p), require_files=require_files)


def params_from_dict(raw: Any, *, source: str = "<dict>", require_files: bool = True) -> Params:
    if not isinstance(raw, dict):
        raise ParamsError(source, [ParamIssue("(root)", "expected a mapping at the top level", "see params/homelab.yaml")])
    base_dir = Path(source).parent if source != "<dict>" else None
    try:
        params = Params.model_validate(raw)
    except ValidationError as e:
        structural = [_issue_from_pydantic(err) for err in e.errors()]
        raise ParamsError(source, structural + _semantic_issues_despite(raw, e, require_files, base_dir)) from None
    issues = _semantic_issues(params, require_files=require_files, base_dir=base_dir)
    if issues:
        raise ParamsError(source, issues)
    params.source_path = source
    return params


def _semantic_issues_despite(raw: dict[str, Any], error: ValidationError, require_files: bool,
                             base_dir: Path | None) -> list[ParamIssue]:
    """The semantic problems of a file that also has structural ones, so that every problem is
    reported in one run: the keys pydantic rejected are dropped (defaults take their place) and the
    rest is checked; problems under a dropped key are left out (they would be about the default)."""
    import copy

    trimmed = copy.deepcopy(raw)
    dropped: list[str] = []
    for _ in range(5):
        for err in error.errors():
            loc = tuple(err.get("loc", ()))
            if err.get("type") == "missing" or not loc:
                return []  # a required key is missing: nothing sensible to check against
            parent: Any = trimmed
            for part in loc[:-1]:
                try:
                    parent = parent[part]
                except (KeyError, IndexError, TypeError):
                    return []
            if isinstance(parent, dict) and loc[-1] in parent:
                del parent[loc[-1]]
                dropped.append(_field_path(loc))
        try:
            params = Params.model_validate(trimmed)
        except ValidationError as again:
            error = again
            continue
        return [i for i in _semantic_issues(params, require_files=require_files, base_dir=base_dir)
                if not any(i.field == d or i.field.startswith((d + ".", d + "[")) for d in dropped)]
    return []


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(root)"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The params model class that holds the key at `loc` (for spelling suggestions)."""
    model: type[BaseModel] | None = Params
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        ann: Any = model.model_fields[part].annotation
        model = None
        stack = [ann]
        while stack:  # unwrap list[X], X | None
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                model = t
                break
            stack.extend(getattr(t, "__args__", ()) or ())
    return model


# pydantic error type -> what to write instead
_TYPE_HINTS = {
    "int_parsing": "a whole number, e.g. 9000", "int_type": "a whole number, e.g. 9000",
    "int_from_float": "a whole number, e.g. 9000", "float_parsing": "a number, e.g. 10",
    "float_type": "a number, e.g. 10", "bool_parsing": "true or false", "bool_type": "true or false",
    "string_type": "a string (quote it if YAML reads it as a number or a boolean)",
    "list_type": "a YAML list (- item lines or [a, b])", "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)", "model_attributes_type": "a mapping (key: value lines)",
}


def _issue_from_pydantic(err: Any) -> ParamIssue:
    import difflib

    loc = tuple(err.get("loc", ()))
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        model = _model_at(loc)
        known = [f for f in model.model_fields if f != "source_path"] if model else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1) if loc else []
        hint = f"did you mean {close[0]!r}?" if close else "remove it or check its spelling"
        if known:
            hint += f"; allowed here: {', '.join(known)}"
        return ParamIssue(_field_path(loc), "unknown key", hint)
    if kind == "missing":
        return ParamIssue(_field_path(loc), "required key is missing", "add it")
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return ParamIssue(_field_path(loc), f"invalid value {err.get('input')!r}", f"use one of {expected}")
    msg = err.get("msg", "invalid")
    if "input" in err and not isinstance(err["input"], dict | list):
        got = repr(err["input"])
        msg = f"{msg} (got {got[:40] + '...' if len(got) > 40 else got})"
    want = _TYPE_HINTS.get(kind)
    return ParamIssue(_field_path(loc), msg, f"write {want}" if want else "see params/homelab.yaml for a valid example")


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _net(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def resolve_path(path: str, base_dir: Path | None) -> Path:
    p = Path(os.path.expanduser(path))
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    return p


def pool_bounds(ipam: IpamParams) -> tuple[ipaddress._BaseAddress, ipaddress._BaseAddress] | None:
    """Inclusive first/last address whereabouts hands out (network/broadcast excluded)."""
    net = _net(ipam.range)
    if net is None or net.num_addresses < 4:
        return None
    first, last = net.network_address + 1, net.broadcast_address - 1
    if ipam.range_start and (s := _ip(ipam.range_start)) is not None and first <= s <= last:
        first = s
    if ipam.range_end and (e := _ip(ipam.range_end)) is not None and first <= e <= last:
        last = e
    return first, last


def _semantic_issues(p: Params, *, require_files: bool, base_dir: Path | None) -> list[ParamIssue]:
    issues: list[ParamIssue] = []
    add = issues.append

    if not DNS1123_LABEL.match(p.cluster):
        add(ParamIssue("cluster", f"{p.cluster!r} is not a DNS-1123 label", "lowercase letters, digits and '-'"))

    seg = _net(p.storage_network.cidr)
    if seg is None:
        add(ParamIssue("storage_network.cidr", f"{p.storage_network.cidr!r} is not a CIDR", "e.g. 192.168.205.0/24"))
    if not 68 <= p.storage_network.mtu <= 65535:
        add(ParamIssue("storage_network.mtu", f"MTU {p.storage_network.mtu} outside 68..65535", "e.g. 1500 or 9000"))

    for fname in ("conf_dir", "cni_bin_dir", "data_dir", "multicall_binary", "opt_cni_bin", "whereabouts_link"):
        val = getattr(p.k3s, fname)
        if not SAFE_PATH.match(val):
            add(ParamIssue(f"k3s.{fname}", f"{val!r} is not a plain absolute path",
                           "absolute path of letters, digits, '/', '.', '_', '-', '+' only"))
        elif (problem := _path_problem(val, allow=("/var/lib/rancher/k3s/data",) if fname == "data_dir" else ())):
            add(ParamIssue(f"k3s.{fname}", f"{val!r} {problem}", "give the exact directory, e.g. the default "
                           f"{K3sPaths.model_fields[fname].default}"))

    for vname in ("multus", "whereabouts", "cni_plugins"):
        if not VERSION.match(getattr(p.versions, vname)):
            add(ParamIssue(f"versions.{vname}", f"{getattr(p.versions, vname)!r} is not a release tag", "e.g. v1.6.2"))

    _artifact_issues(p, require_files, base_dir, add)
    if not ENV_NAME.match(p.ssh.sudo_password_env):
        add(ParamIssue("ssh.sudo_password_env", f"{p.ssh.sudo_password_env!r} is not an environment variable name",
                       "letters, digits and '_', e.g. RUNBOOK_SUDO_PASSWORD"))
    if p.lab is not None:
        _lab_issues(p, add)

    if not p.nodes:
        add(ParamIssue("nodes", "no nodes", "list at least one node"))
    seen_names: dict[str, int] = {}
    seen_addr: dict[str, str] = {}
    for i, node in enumerate(p.nodes):
        f = f"nodes[{i}]"
        if not DNS1123_LABEL.match(node.name):
            add(ParamIssue(f"{f}.name", f"{node.name!r} is not a DNS-1123 label", "lowercase letters, digits and '-'"))
        if node.name in seen_names:
            add(ParamIssue(f"{f}.name", f"duplicate node name {node.name!r} (also nodes[{seen_names[node.name]}])", "node names must be unique"))
        seen_names.setdefault(node.name, i)
        ssh = node.ssh
        if not ssh.host and not ssh.alias:
            add(ParamIssue(f"{f}.ssh", "neither host nor alias given", "set ssh.host (address) or ssh.alias (~/.ssh/config Host)"))
        for key in ("host", "user", "alias"):
            val = getattr(ssh, key)
            if val is not None and not SAFE_TOKEN.match(val):
                add(ParamIssue(f"{f}.ssh.{key}", f"{val!r} contains characters that are not allowed",
                               "letters, digits and . _ - @ : only, not starting with '-' (no spaces or shell characters)"))
        if ssh.key_file is not None:
            if require_files and not resolve_path(ssh.key_file, base_dir).is_file():
                add(ParamIssue(f"{f}.ssh.key_file", f"key file {ssh.key_file} does not exist",
                               "point at an existing private key (for the lab: run `runbook lab up` first)"))
        nic = node.storage_nic
        if not IFNAME.match(nic.name):
            add(ParamIssue(f"{f}.storage_nic.name", f"{nic.name!r} is not a valid interface name",
                           "1-15 characters of letters, digits, '_', '.', '-', not starting with '-'"))
        if not 68 <= nic.mtu <= 65535:
            add(ParamIssue(f"{f}.storage_nic.mtu", f"MTU {nic.mtu} outside 68..65535", "e.g. 9000"))
        addr = _ip(nic.address)
        if addr is None:
            add(ParamIssue(f"{f}.storage_nic.address", f"{nic.address!r} is not an IP address", "e.g. 192.168.205.214"))
        else:
            if seg is not None and addr not in seg:
                add(ParamIssue(f"{f}.storage_nic.address", f"{addr} is outside storage_network.cidr {seg}", "use an address in the segment"))
            elif seg is not None and seg.num_addresses >= 4 and addr in (seg.network_address, seg.broadcast_address):
                add(ParamIssue(f"{f}.storage_nic.address", f"{addr} is the network or broadcast address of {seg}",
                               "use a host address of the segment"))
            if str(addr) in seen_addr:
                add(ParamIssue(f"{f}.storage_nic.address", f"duplicate address {addr} (also {seen_addr[str(addr)]})", "addresses must be unique"))
            seen_addr.setdefault(str(addr), f"nodes[{i}]")
        if ssh.host and (sa := _ip(ssh.host)) is not None:
            key = f"ssh:{sa}:{ssh.port}"
            if key in seen_addr:
                add(ParamIssue(f"{f}.ssh.host", f"duplicate SSH target {sa}:{ssh.port} (also {seen_addr[key]})", "each node needs its own address"))
            seen_addr.setdefault(key, f"nodes[{i}]")

    for i, host in enumerate(p.static_hosts):
        f = f"static_hosts[{i}]"
        addr = _ip(host.address)
        if addr is None:
            add(ParamIssue(f"{f}.address", f"{host.address!r} is not an IP address", "e.g. 192.168.205.100"))
            continue
        if seg is not None and addr not in seg:
            add(ParamIssue(f"{f}.address", f"{addr} is outside storage_network.cidr {seg}", "use an address in the segment"))
        elif seg is not None and seg.num_addresses >= 4 and addr in (seg.network_address, seg.broadcast_address):
            add(ParamIssue(f"{f}.address", f"{addr} is the network or broadcast address of {seg}", "use a host address of the segment"))
        if str(addr) in seen_addr:
            add(ParamIssue(f"{f}.address", f"duplicate address {addr} (also {seen_addr[str(addr)]})", "addresses must be unique"))
        seen_addr.setdefault(str(addr), f)

    occupants = {str(a): who for a, who in seen_addr.items() if not a.startswith("ssh:")}
    pools: list[tuple[int, Any, Any, str]] = []
    seen_nads: set[tuple[str, str]] = set()
    for i, nad in enumerate(p.nads):
        f = f"nads[{i}]"
        for key, val in (("name", nad.name), ("namespace", nad.namespace)):
            if not DNS1123_LABEL.match(val):
                add(ParamIssue(f"{f}.{key}", f"{val!r} is not a DNS-1123 label", "lowercase letters, digits and '-', at most 63"))
        if (nad.namespace, nad.name) in seen_nads:
            add(ParamIssue(f"{f}.name", f"duplicate NAD {nad.namespace}/{nad.name}", "NAD names must be unique per namespace"))
        seen_nads.add((nad.namespace, nad.name))
        if not IFNAME.match(nad.master):
            add(ParamIssue(f"{f}.master", f"{nad.master!r} is not a valid interface name",
                           "1-15 characters of letters, digits, '_', '.', '-', not starting with '-'"))
        if nad.mode not in MACVLAN_MODES:
            add(ParamIssue(f"{f}.mode", f"unknown macvlan mode {nad.mode!r}", f"use one of {', '.join(MACVLAN_MODES)}"))
        if nad.mtu is not None and not 68 <= nad.mtu <= 65535:
            add(ParamIssue(f"{f}.mtu", f"MTU {nad.mtu} outside 68..65535", "e.g. 9000, or leave it out to inherit the master's MTU"))
        elif nad.mtu is not None:
            # C15: macvlan refuses an MTU above the master's ("invalid MTU %d, must be [0, master MTU(%d)]")
            low = [(node.name, node.storage_nic.mtu) for node in p.nodes
                   if node.storage_nic.name == nad.master and node.storage_nic.mtu < nad.mtu]
            if low:
                add(ParamIssue(f"{f}.mtu", f"MTU {nad.mtu} is above the MTU of master {nad.master} on "
                               + ", ".join(f"{n} ({m})" for n, m in low) + "; macvlan refuses it (invalid MTU)",
                               f"use at most {min(m for _, m in low)}, or leave mtu out to inherit the master's MTU"))
        if nad.cni_version not in CNI_VERSIONS:
            add(ParamIssue(f"{f}.cni_version", f"unknown cniVersion {nad.cni_version!r}", f"use one of {', '.join(CNI_VERSIONS)}"))
        ipam = nad.ipam
        if ipam.configuration_path is not None and (not SAFE_PATH.match(ipam.configuration_path)
                                                    or _path_problem(ipam.configuration_path)):
            add(ParamIssue(f"{f}.ipam.configuration_path", f"{ipam.configuration_path!r} is not a plain absolute path",
                           "e.g. /var/lib/rancher/k3s/agent/etc/cni/net.d/whereabouts.d/whereabouts.conf"))
        if ipam.network_name is not None and not DNS1123_LABEL.match(ipam.network_name):
            add(ParamIssue(f"{f}.ipam.network_name", f"{ipam.network_name!r} is not a DNS-1123 label",
                           "lowercase letters, digits and '-' (it becomes part of the IPPool's name)"))
        net = _net(ipam.range)
        if net is None:
            add(ParamIssue(f"{f}.ipam.range", f"{ipam.range!r} is not a CIDR", "e.g. 192.168.205.0/24"))
            continue
        if net.num_addresses < 4:
            add(ParamIssue(f"{f}.ipam.range", f"{net} has no usable addresses for whereabouts (/31 and /32 are unusable)", "use a /30 or larger"))
            continue
        usable_first, usable_last = net.network_address + 1, net.broadcast_address - 1
        bounds_ok = True
        for key in ("range_start", "range_end"):
            val = getattr(ipam, key)
            if val is None:
                continue
            a = _ip(val)
            if a is None or a.version != net.version:
                add(ParamIssue(f"{f}.ipam.{key}", f"{val!r} is not an IPv{net.version} address", f"an address inside {net}"))
                bounds_ok = False
            elif not usable_first <= a <= usable_last:
                add(ParamIssue(f"{f}.ipam.{key}", f"{a} is outside the usable range {usable_first}-{usable_last} of {net}",
                               "whereabouts silently ignores it and would hand out the whole subnet; use an address inside the range"))
                bounds_ok = False
        if bounds_ok and ipam.range_start and ipam.range_end and _ip(ipam.range_start) > _ip(ipam.range_end):  # type: ignore[operator]
            add(ParamIssue(f"{f}.ipam.range_end", f"range_end {ipam.range_end} is before range_start {ipam.range_start}",
                           "swap them; both bounds are inclusive"))
            bounds_ok = False
        for j, ex in enumerate(ipam.exclude):
            en = _net(ex)
            if en is None:
                add(ParamIssue(f"{f}.ipam.exclude[{j}]", f"{ex!r} is not a CIDR or IP", "e.g. 192.168.205.250/32"))
            elif en.version != net.version or not en.subnet_of(net):  # type: ignore[arg-type]
                add(ParamIssue(f"{f}.ipam.exclude[{j}]", f"{en} is not inside range {net}", "exclude only addresses of the range"))
        if seg is not None and not (net.version == seg.version and (net.subnet_of(seg) or seg.subnet_of(net))):  # type: ignore[arg-type]
            add(ParamIssue(f"{f}.ipam.range", f"{net} is not on storage_network.cidr {seg}", "the pool must be on the storage segment"))
        if not bounds_ok:
            continue
        bounds = pool_bounds(ipam)
        assert bounds is not None
        first, last = bounds
        excluded = [en for ex in ipam.exclude if (en := _net(ex)) is not None]
        for addr_s, who in occupants.items():
            a = ipaddress.ip_address(addr_s)
            if a.version == first.version and first <= a <= last and not any(a in en for en in excluded):
                add(ParamIssue(f"{f}.ipam", f"pool {first}-{last} contains {a}, already used by {who}",
                               "move range_start/range_end or add the address to exclude"))
        for (j, pf, pl, pnet) in pools:
            if pf.version == first.version and pf <= last and first <= pl:
                add(ParamIssue(f"{f}.ipam", f"pool {first}-{last} overlaps the pool {pf}-{pl} of nads[{j}] ({pnet})",
                               "give each NAD on a segment its own disjoint range"))
        pools.append((i, first, last, str(net)))
    return issues


def _artifact_issues(p: Params, require_files: bool, base_dir: Path | None, add: Any) -> None:
    arts: list[tuple[str, Artifact]] = [
        ("artifacts.cni_plugins", p.artifacts.cni_plugins),
        ("artifacts.multus_manifest", p.artifacts.multus_manifest),
        ("artifacts.whereabouts_manifest", p.artifacts.whereabouts_manifest),
    ] + [(f"artifacts.whereabouts_crds[{i}]", a) for i, a in enumerate(p.artifacts.whereabouts_crds)]
    for f, art in arts:
        if not art.url and not art.local:
            add(ParamIssue(f, "neither url nor local given", "set url (+ sha256 or sha256_url) or local"))
        if art.url and not (art.sha256 or art.sha256_url or art.local):
            add(ParamIssue(f, "url without a checksum", "set sha256 (64 hex digits) or sha256_url (the published .sha256)"))
        if art.url and not art.url.startswith(("https://", "http://", "file://")):
            add(ParamIssue(f"{f}.url", f"{art.url!r} is not an http(s) or file URL", "e.g. https://github.com/..."))
        if art.sha256_url and not art.sha256_url.startswith(("https://", "http://", "file://")):
            add(ParamIssue(f"{f}.sha256_url", f"{art.sha256_url!r} is not an http(s) or file URL", "the release's .sha256 URL"))
        if art.sha256 is not None and not SHA256.match(art.sha256):
            add(ParamIssue(f"{f}.sha256", "not a sha256 (64 lowercase hex digits)", "copy it from the release's .sha256 file"))
        if art.local and require_files and not resolve_path(art.local, base_dir).exists():
            add(ParamIssue(f"{f}.local", f"{art.local} does not exist", "point at an existing file or directory, or remove local"))


def _path_problem(path: str, allow: tuple[str, ...] = ()) -> str:
    """Why an absolute path from the params is unsafe for node prep to act on ("" when it is fine)."""
    import posixpath

    if posixpath.normpath(path) != path or "//" in path:
        return "is not a normalised path (no '.', '..', '//' or trailing '/')"
    if path in SYSTEM_DIRS and path not in allow:
        return "is a system directory; node prep would replace or fill it"
    return ""


def _lab_issues(p: Params, add: Any) -> None:
    """The `lab:` section: the lab only ever uses addresses of 198.18.0.0/15, and a state dir of its own."""
    assert p.lab is not None
    mgmt = _net(p.lab.mgmt_cidr)
    if mgmt is None or mgmt.version != 4:
        add(ParamIssue("lab.mgmt_cidr", f"{p.lab.mgmt_cidr!r} is not an IPv4 CIDR", "e.g. 198.19.0.0/24"))
    elif not mgmt.subnet_of(LAB_NETWORK):  # type: ignore[arg-type]
        add(ParamIssue("lab.mgmt_cidr", f"{mgmt} is outside {LAB_NETWORK}; the lab never uses a real network's addresses",
                       "use a /24 of 198.18.0.0/15, e.g. 198.19.0.0/24"))
    sd = p.lab.state_dir
    if not sd.startswith("/") or not SAFE_PATH.match(sd) or _path_problem(sd) or sd.count("/") < 2:
        add(ParamIssue("lab.state_dir", f"{sd!r} is not a directory of the lab's own",
                       "an absolute, normalised path used by this lab only, e.g. /var/tmp/runbooklib-lab"))


def redacted_json(params: Params) -> str:
    """Params as JSON for reports: only paths, never contents, never passwords (none are stored)."""
    return json.dumps(params.model_dump(mode="json", exclude_none=True, exclude={"source_path"}), indent=2)
