"""Shared pieces of the checks: the result type, the NADs a check considers, the daemon's bin dir
layout (A / B / mixed, from the live DaemonSet), and finding helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runbooklib.checks.evidence import ClusterEvidence, NodeEvidence
from runbooklib.manifests.checks_multus import BinLayout, detect_layout
from runbooklib.params import K3sPaths, Params
from runbooklib.results import Finding, HasFindings, Severity, Status, findings_to_frame

if TYPE_CHECKING:
    import pandas as pd

REPAIR_KEY = "repair"  # evidence[REPAIR_KEY] = "node-prep" marks a finding node prep fixes
NODE_PREP = "node-prep"


@dataclass
class CheckResult(HasFindings):
    """One check run: its findings plus the evidence behind them."""

    check: str
    findings: list[Finding]
    nodes: dict[str, NodeEvidence] = field(default_factory=dict)
    cluster: ClusterEvidence | None = None
    notes: list[str] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def repairable_nodes(self) -> list[str]:
        """Nodes with a problem that node prep fixes."""
        return sorted({str(f.evidence.get("node")) for f in self.problems
                       if f.evidence.get(REPAIR_KEY) == NODE_PREP and f.evidence.get("node")})

    def pod_restarts(self) -> list[tuple[str, str]]:
        """(DaemonSet, node) pairs whose pod must be restarted to copy a binary again."""
        return sorted({(str(f.evidence["daemonset"]), str(f.evidence.get("node"))) for f in self.problems
                       if f.evidence.get(REPAIR_KEY) in (RESTART_POD, NODE_PREP) and f.evidence.get("daemonset")})

    def frame(self) -> pd.DataFrame:
        return findings_to_frame(self.findings)

    def to_dict(self, *, evidence: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {"check": self.check, "severity": self.severity.value, "notes": self.notes,
                             "findings": [f.to_dict() for f in self.findings],
                             "repairable_nodes": self.repairable_nodes(),
                             "pod_restarts": [list(p) for p in self.pod_restarts()], "tables": self.tables}
        if evidence:
            d["nodes"] = {n: e.to_dict() for n, e in self.nodes.items()}
            d["cluster"] = self.cluster.to_dict() if self.cluster else None
        return d


@dataclass(frozen=True)
class Nad:
    """A NAD as the checks see it: parsed config (None when it is not valid JSON)."""

    namespace: str
    name: str
    config: dict[str, Any] | None
    origin: str

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def plugin_type(self) -> str | None:
        c = self.config or {}
        plugins = c.get("plugins")
        if isinstance(plugins, list) and plugins and isinstance(plugins[0], dict):
            return plugins[0].get("type")
        return c.get("type")

    @property
    def ipam(self) -> dict[str, Any]:
        c = self.config or {}
        plugins = c.get("plugins")
        if isinstance(plugins, list) and plugins and isinstance(plugins[0], dict):
            c = plugins[0]
        ipam = c.get("ipam")
        return ipam if isinstance(ipam, dict) else {}

    @property
    def ipam_type(self) -> str | None:
        return self.ipam.get("type")

    @property
    def cni_version(self) -> str | None:
        return (self.config or {}).get("cniVersion")


def _parse(raw: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        return None
    return obj if isinstance(obj, dict) else None


def nads_for(params: Params | None, cluster: ClusterEvidence | None) -> list[Nad]:
    """The cluster's NADs, plus the params' NADs not (yet) in the cluster."""
    out: dict[str, Nad] = {}
    for n in (cluster.nads if cluster and cluster.reachable else []):
        nad = Nad(n["namespace"], n["name"], _parse(n.get("config") or ""), "cluster")
        out[nad.ref] = nad
    if params is not None:
        from runbooklib.nad.document import nad_config

        for p in params.nads:
            out.setdefault(f"{p.namespace}/{p.name}", Nad(p.namespace, p.name, nad_config(p), "params"))
    return list(out.values())


@dataclass(frozen=True)
class DaemonBinDir:
    """Where the Multus daemon looks delegates up (and executes them, chrooted, on the host)."""

    layout: BinLayout | None  # None: unknown (cluster unreadable or no DaemonSet)
    bin_dir: str
    paths: dict[str, Any]

    @property
    def label(self) -> str:
        return "unknown (assumed layout A)" if self.layout is None else f"layout {self.layout.value}"


def daemon_bin_dir(cluster: ClusterEvidence | None, k3s: K3sPaths) -> DaemonBinDir:
    if cluster is None or not cluster.reachable or cluster.multus_ds is None:
        return DaemonBinDir(None, k3s.opt_cni_bin.rstrip("/"), {})
    layout, paths = detect_layout(cluster.docs(), k3s)
    bin_dir = paths.get("binDir") or k3s.opt_cni_bin
    return DaemonBinDir(layout, str(bin_dir).rstrip("/"), dict(paths))


def unreachable_node(check: str, ev: NodeEvidence) -> Finding:
    return Finding(check, f"node {ev.node} unreachable: its checks did not run", Severity.FAIL, ev.node,
                   f"{ev.error} (this is not a pass)",
                   {"node": ev.node, "status": Status.UNREACHABLE.value, "reason": ev.error},
                   [f"fix SSH access to {ev.node} (runbook params check; ssh to the address in the params)"])


def unreachable_cluster(check: str, cluster: ClusterEvidence, skipped: str) -> Finding:
    return Finding(check, "cluster unreachable: " + skipped + " not checked", Severity.FAIL, "cluster",
                   f"{cluster.error} (this is not a pass)",
                   {"status": Status.UNREACHABLE.value, "reason": cluster.error},
                   ["check kubeconfig.path/context in the params and that the API server answers "
                    "(kubectl --kubeconfig <path> get nodes)"])


def log_matches(cluster: ClusterEvidence | None, needle: str, limit: int = 5) -> list[str]:
    if cluster is None:
        return []
    return [line for line in cluster.log_lines() if needle in line][-limit:]


def version_tuple(v: str | None) -> tuple[int, ...]:
    out: list[int] = []
    for part in str(v or "").lstrip("v").split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)


REFERENCE_PLUGINS = ("bandwidth", "bridge", "dhcp", "dummy", "firewall", "host-device", "host-local", "ipvlan",
                     "loopback", "macvlan", "portmap", "ptp", "sbr", "static", "tap", "tuning", "vlan", "vrf")
"""containernetworking/plugins v1.6.2's linux tarball (upstream-facts §6.3): node prep installs these."""
FROM_DAEMONSETS = {"whereabouts": "whereabouts", "multus-shim": "kube-multus-ds", "passthru": "kube-multus-ds"}
"""Binaries the DaemonSets copy onto the node (not node prep): name -> DaemonSet."""


@dataclass(frozen=True)
class Ctx:
    """What the pure checks need besides evidence: the k3s paths and how to name the params file."""

    k3s: K3sPaths = field(default_factory=K3sPaths)
    params_file: str = "params.yaml"

    @classmethod
    def of(cls, params: Params) -> Ctx:
        return cls(params.k3s, params.source_path or "params.yaml")

    def prep_fix(self, node: str, check: str) -> list[str]:
        return [f"runbook check {check} --params {self.params_file} --nodes {node} --repair   # node prep, plan first",
                f"runbook prep --params {self.params_file} --nodes {node} --plan   # the exact commands it runs"]


def daemonset_fix(binary: str) -> list[str]:
    ds = FROM_DAEMONSETS[binary]
    return [f"kubectl -n kube-system rollout restart daemonset/{ds}   # its pods copy {binary} onto each node",
            f"kubectl -n kube-system rollout status daemonset/{ds}"]


RESTART_POD = "restart-pod"


def node_finding(check: str, node: str, title: str, severity: Severity, detail: str, evidence: dict[str, Any],
                 fix: list[str], *, repair: bool | str = False) -> Finding:
    """A finding about one node. `repair`: True = node prep fixes it; a DaemonSet name = restarting
    that DaemonSet's pod on the node fixes it (its pod copies the binary again)."""
    ev = {"node": node.split(":", 1)[0], **evidence}
    if repair and severity is not Severity.OK:
        ev[REPAIR_KEY] = NODE_PREP if repair is True else RESTART_POD
        if isinstance(repair, str):
            ev["daemonset"] = repair
    return Finding(check, title, severity, node, detail, ev, fix)
