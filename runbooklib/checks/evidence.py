"""What the checks look at: per-node evidence (one SSH round trip each, see `probe`) and cluster
evidence (read from the API), as plain typed data so recorded evidence makes unit tests.

A node's file system is kept in the handed cases' `node_fs` form (path -> `dir` / `file` /
`file (exec)` / `missing` / `symlink -> target`, see `runbooklib.manifests.nodefs.NodeFs`), so the
same checks run over probed nodes and over the cases. Only the files the checks need are read, and
of those only the keys they need are kept (never a kubeconfig, never a token).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from runbooklib.manifests.nodefs import NodeFs
from runbooklib.nad.node_facts import BinaryFacts

WB_DEFAULT_SEARCH = (
    "/etc/kubernetes/cni/net.d/whereabouts.d/whereabouts.conf",
    "/etc/cni/net.d/whereabouts.d/whereabouts.conf",
    "/host/etc/cni/net.d/whereabouts.d/whereabouts.conf",
)
WB_KEYS = ("datastore", "configuration_path", "reconciler_cron_expression", "log_file", "log_level")
_HASH_DIR = re.compile(r"^[0-9a-f]{16,}$")


@dataclass
class ConfFile:
    """A small JSON config file read on a node: `state` ok | invalid | unreadable | missing.

    `data` holds only the keys the checks need (see `summarize_wb_conf`, `summarize_cni_conf`)."""

    path: str
    state: str
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass
class ContainerdConf:
    """k3s's generated containerd config: only its CNI `bin_dir`/`conf_dir` lines are read."""

    path: str
    state: str = "missing"  # ok | missing | unreadable
    bin_dirs: list[str] = field(default_factory=list)
    conf_dir: str = ""
    template_exists: bool = False
    flannel_version: str | None = None  # `CNI_COMMAND=VERSION` answer of <bin_dir>/flannel
    flannel_version_rc: int | None = None


@dataclass
class NodeEvidence:
    """Everything the checks know about one node. `error` set: unreachable, nothing else known."""

    node: str
    error: str | None = None
    fs: dict[str, str] = field(default_factory=dict)  # node_fs form
    sha256: dict[str, str] = field(default_factory=dict)  # path -> sha256 (flannel copy, multicall)
    binaries: dict[str, BinaryFacts] | None = None  # VERSION answers in the daemon bin dir (NAD probe)
    bin_dir: str = "/opt/cni/bin"  # the dir `binaries` describes
    wb_confs: dict[str, ConfFile] = field(default_factory=dict)  # by path read
    cni_confs: dict[str, ConfFile] = field(default_factory=dict)  # by file name in the k3s conf dir
    containerd: ContainerdConf | None = None
    used_sudo: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def reachable(self) -> bool:
        return self.error is None

    @property
    def view(self) -> NodeFs:
        return NodeFs(self.fs)

    def kind(self, path: str) -> str:
        """file | dir | missing | unknown, after following links."""
        return self.view.resolve(path).kind

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeEvidence:
        d = dict(data)
        if d.get("binaries") is not None:
            d["binaries"] = {k: BinaryFacts(**v) for k, v in d["binaries"].items()}
        d["wb_confs"] = {k: ConfFile(**v) for k, v in (d.get("wb_confs") or {}).items()}
        d["cni_confs"] = {k: ConfFile(**v) for k, v in (d.get("cni_confs") or {}).items()}
        if d.get("containerd") is not None:
            d["containerd"] = ContainerdConf(**d["containerd"])
        return cls(**d)


@dataclass
class ClusterEvidence:
    """The live Multus/Whereabouts objects and NADs. `error` set: the cluster was not readable."""

    error: str | None = None
    multus_ds: dict[str, Any] | None = None
    multus_cm: dict[str, Any] | None = None
    whereabouts_ds: dict[str, Any] | None = None
    daemonsets: list[dict[str, Any]] = field(default_factory=list)  # DaemonSetState as dicts
    nads: list[dict[str, Any]] = field(default_factory=list)  # {namespace, name, config (raw str)}
    multus_logs: dict[str, list[str]] = field(default_factory=dict)  # "pod (node)" -> last lines

    @property
    def reachable(self) -> bool:
        return self.error is None

    def docs(self) -> list[dict[str, Any]]:
        """The live objects in manifest form (for `runbooklib.manifests` checks)."""
        return [d for d in (self.multus_ds, self.multus_cm, self.whereabouts_ds) if d]

    def log_lines(self) -> list[str]:
        return [line for lines in self.multus_logs.values() for line in lines]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# summaries of config files (keep only what the checks need)


def _json_object(path: str, text: str) -> dict[str, Any] | ConfFile:
    """The file's JSON object, or an `invalid` ConfFile saying why it is not one."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        return ConfFile(path, "invalid", error=f"{e.msg} at line {e.lineno} column {e.colno}")
    if not isinstance(obj, dict):
        return ConfFile(path, "invalid", error="not a JSON object")
    return obj


def summarize_wb_conf(path: str, text: str) -> ConfFile:
    """whereabouts.conf: only datastore, kubernetes.kubeconfig, configuration_path, cron, log keys."""
    obj = _json_object(path, text)
    if isinstance(obj, ConfFile):
        return obj
    data: dict[str, Any] = {k: obj[k] for k in WB_KEYS if k in obj}
    kube = obj.get("kubernetes")
    if isinstance(kube, dict) and "kubeconfig" in kube:
        data["kubeconfig"] = kube.get("kubeconfig")
    return ConfFile(path, "ok", data)


def _plugins_of(conf: dict[str, Any]) -> list[dict[str, Any]]:
    plugins = conf.get("plugins")
    if isinstance(plugins, list):
        return [p for p in plugins if isinstance(p, dict)]
    return [conf] if conf.get("type") else []


def summarize_cni_conf(path: str, text: str) -> ConfFile:
    """A .conf/.conflist: name, cniVersion, plugin types, clusterNetwork/binDir/delegates' versions."""
    obj = _json_object(path, text)
    if isinstance(obj, ConfFile):
        return obj
    data: dict[str, Any] = {"name": obj.get("name"), "cniVersion": obj.get("cniVersion"),
                            "types": [str(p.get("type")) for p in _plugins_of(obj)]}
    for key in ("clusterNetwork", "binDir", "type"):
        if key in obj:
            data[key] = obj[key]
    delegates = obj.get("delegates")
    if isinstance(delegates, list):
        data["delegates"] = [{"name": d.get("name"), "cniVersion": d.get("cniVersion"),
                              "types": [str(p.get("type")) for p in _plugins_of(d)]} for d in delegates if isinstance(d, dict)]
    return ConfFile(path, "ok", data)


def primary_conf(ev: NodeEvidence) -> ConfFile | None:
    """The cluster network's conf the Multus daemon picks (first non-00-multus file, sorted)."""
    for name in sorted(ev.cni_confs):
        if not name.startswith("00-multus") and name.endswith((".conf", ".conflist")):
            return ev.cni_confs[name]
    return None


def hash_dirs(ev: NodeEvidence, data_dir: str) -> list[str]:
    """`data/<hash>` directories on the node."""
    base = posixpath.normpath(data_dir)
    return sorted(p for p, d in ev.fs.items() if posixpath.dirname(p) == base and _HASH_DIR.match(posixpath.basename(p))
                  and d.startswith("dir"))


def current_hash_dir(ev: NodeEvidence, data_dir: str) -> str | None:
    r = ev.view.resolve(posixpath.join(data_dir, "current"))
    return r.final if r.kind == "dir" else None
