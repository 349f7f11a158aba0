"""longhorn-storage-network: does Longhorn really use the storage NAD, or did it fall back?

Longhorn's `storage-network` setting (a `settings.longhorn.io` object, `longhorn.io/v1beta2`,
namespace `longhorn-system`, name `storage-network`, top-level `value`) names the NAD as
`<namespace>/<name>`; empty means "use the cluster network". Longhorn then puts the NAD on its
instance-manager pods (label `longhorn.io/component=instance-manager`) with interface `lhnet1`,
reads the pod's network-status annotation and uses the storage address. When the wiring is
wrong nothing fails: Longhorn logs `Missing k8s.v1.cni.cncf.io/networks-status annotation, use
instance-manager-<hash> pod IP <ip>` and replicates over the pod network.

Sources (public threads, read through the project's search tool):
- setting type `Setting{Value string json:"value"}` in longhorn-manager `k8s/pkg/apis/longhorn/v1beta2/setting.go`;
  form `<NAMESPACE>/<NETWORK-ATTACHMENT-DEFINITION-NAME>`, default "" (LEP, longhorn/longhorn PR #3277);
- instance-manager labels and a network-status with `"interface": "lhnet1"` and the networks
  annotation in JSON form (longhorn/longhorn #5048, #7640, #11478);
- the fallback log line (longhorn/longhorn #4937, Longhorn v1.4.3); Longhorn then read the
  deprecated plural `networks-status`, which Multus v4 no longer writes (#6953); longhorn-manager
  PR #2247 switched to the singular (merged 2023-10, backports to v1.5.x and v1.4.x requested).
Not confirmed: the exact Longhorn releases carrying PR #2247 (v1.6.0 is verified in #5048 with
Multus v4 thick; the v1.5.x/v1.4.x patch numbers are not), whether pre-v1.5 instance-manager
pods (`instance-manager-e-`/`-r-`) carry the same component label, and the exact text of the
fallback log line in releases after the fix.

This module is pure: `LonghornEvidence` (recorded or gathered by `longhorn_gather`) in,
`CheckResult` out. `label_longhorn_holders` marks Longhorn-held rows of the occupancy table.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from runbooklib.checks.model import CheckResult, node_finding
from runbooklib.nad.annotations import (
    DNS1123,
    NETWORK_STATUS_ANNOTATION,
    NETWORKS_ANNOTATION,
    parse_network_status,
    parse_networks_annotation,
)
from runbooklib.nad.pools import Pool, pool_from_ipam
from runbooklib.results import Finding, Severity, Status

if TYPE_CHECKING:
    import pandas as pd

CHECK = "longhorn-storage-network"
LONGHORN_NS = "longhorn-system"
SETTING_GROUP, SETTING_VERSION, SETTING_PLURAL, SETTING_KIND = "longhorn.io", "v1beta2", "settings", "Setting"
SETTING_NAME = "storage-network"
IM_COMPONENT_LABEL = "longhorn.io/component"
IM_SELECTOR = f"{IM_COMPONENT_LABEL}=instance-manager"
IM_LABELS = {IM_COMPONENT_LABEL: "instance-manager", "longhorn.io/data-engine": "v1",
             "longhorn.io/instance-manager-type": "aio", "longhorn.io/managed-by": "longhorn-manager"}
NODE_LABEL = "longhorn.io/node"
LONGHORN_IFNAME = "lhnet1"
DEPRECATED_STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/networks-status"
FALLBACK_LOG = "Missing k8s.v1.cni.cncf.io/networks-status annotation"
HOLDER_KIND = "holder_kind"
LONGHORN_HOLDER = "longhorn instance-manager"

Obj = dict[str, Any]


@dataclass
class LonghornEvidence:
    """What the check looks at. `setting` None: the setting object is absent (`crd_installed`
    says whether Longhorn's CRD is); `nads` maps "ns/name" -> raw `spec.config`;
    `pods` are instance-manager pod objects; `links` node -> {ifname: mtu} (None: not probed)."""

    setting: str | None = None
    crd_installed: bool = True
    nads: dict[str, str] = field(default_factory=dict)
    pods: list[Obj] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    events: dict[str, list[str]] = field(default_factory=dict)  # "ns/pod" -> Warning event messages
    links: dict[str, dict[str, int]] | None = None
    link_errors: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # the cluster could not be read

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Attachment:
    """One instance-manager pod: is it on the storage network, with what, and why not."""

    node: str
    pod: str
    phase: str
    attached: bool
    interface: str = ""
    address: str = ""
    in_pool: bool | None = None
    status_annotation: str = "missing"  # network-status | networks-status (deprecated only) | missing
    nic: str = ""
    nic_mtu: int | None = None
    nad_mtu: int | None = None
    severity: Severity = Severity.OK
    reason: str = ""

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d


ROW_COLUMNS = list(Attachment.__dataclass_fields__)


# ---------------------------------------------------------------------------------------------
# the setting


def parse_setting(value: str | None) -> tuple[str, str] | None:
    """`<namespace>/<name>` -> (namespace, name); None for empty or malformed values."""
    text = (value or "").strip()
    ns, sep, name = text.partition("/")
    if not sep or "/" in name or not DNS1123.match(ns) or not DNS1123.match(name):
        return None
    return ns, name


def patch_command(value: str) -> str:
    body = json.dumps({"value": value})
    return f"kubectl -n {LONGHORN_NS} patch settings.longhorn.io {SETTING_NAME} --type merge -p '{body}'"


def _setting_fix(expected: str | None) -> list[str]:
    if not expected:
        return ["set the storage NAD in the params (nads:) and apply it (runbook nad apply), then "
                + patch_command("<namespace>/<nad>")]
    return ["# Longhorn refuses the change while volumes are attached: detach them (scale workloads down) first",
            patch_command(expected),
            f"kubectl -n {LONGHORN_NS} get pods -l {IM_SELECTOR} -w   # Longhorn recreates its instance-manager pods"]


def check_setting(ev: LonghornEvidence, expected: str | None) -> tuple[Finding, str | None]:
    """The setting finding and the NAD ref the pods should carry (None: the storage network is off)."""
    target = f"{LONGHORN_NS}/{SETTING_NAME}"
    base: dict[str, Any] = {"setting": ev.setting, "expected": expected}
    if not ev.crd_installed:
        return Finding(CHECK, "Longhorn's settings CRD (settings.longhorn.io) is not installed", Severity.FAIL, target,
                       "Longhorn is not installed in this cluster (or not readable with this kubeconfig)", base,
                       ["install Longhorn, or check the kubeconfig in the params"]), None
    if ev.setting is None:
        return Finding(CHECK, f"setting {SETTING_NAME} not found", Severity.FAIL, target,
                       "longhorn-manager creates every setting at start; it is missing or not running", base,
                       [f"kubectl -n {LONGHORN_NS} get settings.longhorn.io", *_setting_fix(expected)]), None
    if not ev.setting.strip():
        return Finding(CHECK, "storage network off: the setting is empty", Severity.FAIL, target,
                       "Longhorn uses the pod network (cluster CNI) for replication; the storage NAD is unused",
                       {**base, "right_value": expected}, _setting_fix(expected)), None
    parsed = parse_setting(ev.setting)
    if parsed is None:
        return Finding(CHECK, f"setting value {ev.setting!r} is not <namespace>/<nad>", Severity.FAIL, target,
                       "Longhorn expects <NAMESPACE>/<NETWORK-ATTACHMENT-DEFINITION-NAME>",
                       {**base, "right_value": expected}, _setting_fix(expected)), None
    ref = f"{parsed[0]}/{parsed[1]}"
    if ref not in ev.nads:
        same_name = sorted(r for r in ev.nads if r.split("/", 1)[1] == parsed[1])
        right = expected if expected in ev.nads else (same_name[0] if len(same_name) == 1 else expected)
        why = (f"no NAD {parsed[1]} in namespace {parsed[0]}; it exists in {', '.join(same_name)} (wrong namespace)"
               if same_name else f"no NAD named {ref}" + (f" (the NADs: {', '.join(sorted(ev.nads))})" if ev.nads else ""))
        return Finding(CHECK, f"the setting names a NAD that does not exist: {ref}", Severity.FAIL, target,
                       why + "; instance-manager pods cannot start with it (Multus: cannot find a "
                       "network-attachment-definition)", {**base, "right_value": right}, _setting_fix(right)), ref
    if expected and ref != expected:
        return Finding(CHECK, f"the setting names {ref}, the params' storage NAD is {expected}", Severity.WARN, target,
                       "Longhorn uses an existing NAD, but not the one the params describe", {**base, "right_value": expected},
                       _setting_fix(expected)), ref
    return Finding(CHECK, f"storage network set: {ref}", Severity.OK, target, "the NAD exists", base, []), ref


# ---------------------------------------------------------------------------------------------
# the pods


def _nad_config(raw: str | None) -> dict[str, Any]:
    try:
        obj = json.loads(raw or "")
    except (TypeError, ValueError):
        return {}
    if not isinstance(obj, dict):
        return {}
    plugins = obj.get("plugins")
    if isinstance(plugins, list) and plugins and isinstance(plugins[0], dict):
        return {**plugins[0], **{k: v for k, v in obj.items() if k != "plugins"}}
    return obj


def nad_pool(raw: str | None) -> Pool | None:
    ipam = _nad_config(raw).get("ipam")
    return pool_from_ipam(ipam) if isinstance(ipam, dict) else None


def status_entries(pod: Obj) -> tuple[list[Obj], str]:
    """(entries, which annotation): the singular current one; the deprecated plural only as a fallback."""
    ann = (pod.get("metadata") or {}).get("annotations") or {}
    if NETWORK_STATUS_ANNOTATION in ann:
        return parse_network_status(ann.get(NETWORK_STATUS_ANNOTATION)), "network-status"
    if DEPRECATED_STATUS_ANNOTATION in ann:
        return parse_network_status(ann.get(DEPRECATED_STATUS_ANNOTATION)), "networks-status (deprecated only)"
    return [], "missing"


def storage_entry(entries: Sequence[Obj], nad_ref: str) -> Obj | None:
    """The entry of `nad_ref` ("ns/name"); multus before v4 wrote the bare name (upstream-facts §4.4)."""
    name = nad_ref.split("/", 1)[-1]
    for e in entries:
        if not e.get("default") and e.get("name") == nad_ref:
            return e
    for e in entries:
        if not e.get("default") and e.get("name") == name:
            return e
    return None


def _requested(pod: Obj) -> list[str]:
    meta = pod.get("metadata") or {}
    value = (meta.get("annotations") or {}).get(NETWORKS_ANNOTATION)
    if not value:
        return []
    sels, _ = parse_networks_annotation(value, str(meta.get("namespace") or LONGHORN_NS))
    return [s.ref for s in sels]


def pod_node(pod: Obj) -> str:
    spec, labels = pod.get("spec") or {}, (pod.get("metadata") or {}).get("labels") or {}
    return str(spec.get("nodeName") or labels.get(NODE_LABEL) or "")


def _in_pool(address: str, pool: Pool | None) -> bool | None:
    if pool is None:
        return None
    try:
        return pool.contains(ipaddress.ip_address(address))
    except ValueError:
        return False


def attachment(pod: Obj, nad_ref: str | None, pool: Pool | None, events: Sequence[str] = ()) -> Attachment:
    """Judge one instance-manager pod against the NAD the setting names (None: setting off)."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    ref = f"{meta.get('namespace', LONGHORN_NS)}/{meta.get('name', '')}"
    phase = str(status.get("phase") or "Pending")
    entries, source = status_entries(pod)
    a = Attachment(pod_node(pod), ref, phase, False, status_annotation=source)
    entry = storage_entry(entries, nad_ref) if nad_ref else None
    if entry is not None:
        ips = [str(ip).split("/")[0] for ip in entry.get("ips") or []]
        a.attached, a.interface, a.address = True, str(entry.get("interface") or ""), ips[0] if ips else ""
        a.in_pool = _in_pool(a.address, pool) if a.address else None
    if nad_ref is None:
        a.severity, a.reason = Severity.WARN, "storage network off: the pod uses the pod network"
        return a
    requested = _requested(pod)
    if phase != "Running" and not events:
        a.severity, a.reason = Severity.WARN, f"pod {phase}, still starting (no error event yet): re-run the check"
    elif phase != "Running":
        a.severity, a.reason = Severity.FAIL, f"pod {phase}, not running: {events[-1]}"
    elif source == "missing":
        a.severity = Severity.FAIL
        a.reason = ("no network-status annotation: Multus could not write the pod status (pods/status RBAC of "
                    "multus, or the thick daemon); Longhorn falls back to the pod IP, and the whereabouts "
                    "reconciler may free the storage address (C26)")
    elif not a.attached:
        a.severity = Severity.FAIL
        if not requested:
            a.reason = (f"the pod does not ask for {nad_ref} (no {NETWORKS_ANNOTATION} annotation): it was created "
                        "before the setting was applied; Longhorn uses the pod network")
        elif nad_ref not in requested:
            a.reason = f"the pod asks for {', '.join(requested)}, the setting says {nad_ref}: the pod is from an older setting"
        else:
            a.reason = f"the pod asks for {nad_ref} but its network-status has no entry for it"
    elif source != "network-status":
        a.severity = Severity.FAIL
        a.reason = ("only the deprecated networks-status annotation lists the storage network: Multus v4 writes "
                    "network-status; Longhorn releases with longhorn-manager PR #2247 and the whereabouts "
                    "reconciler read the singular one")
    elif not a.address:
        a.severity, a.reason = Severity.FAIL, "the storage entry has no address"
    elif a.in_pool is False:
        a.severity, a.reason = Severity.FAIL, f"{a.address} is outside the pool of {nad_ref}"
    elif a.interface and a.interface != LONGHORN_IFNAME:
        a.severity, a.reason = Severity.OK, f"attached as {a.interface} (Longhorn >= v1.6 names it {LONGHORN_IFNAME})"
    else:
        a.reason = "on the storage network"
    return a


def _mtu(a: Attachment, ev: LonghornEvidence, nic: str, nad_mtu: int | None, want_mtu: int | None) -> None:
    a.nic, a.nad_mtu = nic, nad_mtu
    if ev.links is None or not a.node:
        return
    links = ev.links.get(a.node)
    if links is None:
        if a.node in ev.link_errors:
            a.reason += f"; NIC MTU unknown ({ev.link_errors[a.node]})"
        return
    a.nic_mtu = links.get(nic)
    if a.nic_mtu is None:
        if a.severity is not Severity.FAIL:
            a.severity = Severity.FAIL
        a.reason += f"; the NAD's master {nic} does not exist on {a.node}"
        return
    floor = max(x for x in (nad_mtu, want_mtu, 0) if x is not None)
    if a.nic_mtu < floor:
        if a.severity is Severity.OK:
            a.severity = Severity.WARN
        a.reason += f"; {nic} MTU {a.nic_mtu} < {floor}"


# ---------------------------------------------------------------------------------------------
# the check


def unreachable(ev: LonghornEvidence) -> Finding:
    return Finding(CHECK, "cluster unreachable: Longhorn's storage network not checked", Severity.FAIL, "cluster",
                   f"{ev.error} (this is not a pass)", {"status": Status.UNREACHABLE.value, "reason": ev.error},
                   ["check kubeconfig.path/context in the params and that the API server answers"])


def check_longhorn_storage_network(ev: LonghornEvidence, *, expected_nad: str | None = None,
                                   storage_nic: str = "", storage_mtu: int | None = None) -> CheckResult:
    """Setting + one row (and one finding) per instance-manager pod + nodes without one."""
    if ev.error is not None:
        return CheckResult(CHECK, [unreachable(ev)])
    setting_finding, nad_ref = check_setting(ev, expected_nad)
    findings = [setting_finding]
    raw = ev.nads.get(nad_ref or "") if nad_ref else (ev.nads.get(expected_nad or "") if expected_nad else None)
    pool = nad_pool(raw)
    cfg = _nad_config(raw)
    nic = str(cfg.get("master") or storage_nic)
    nad_mtu = cfg.get("mtu") if isinstance(cfg.get("mtu"), int) else None
    rows: list[Attachment] = []
    for pod in sorted(ev.pods, key=lambda p: (pod_node(p), (p.get("metadata") or {}).get("name", ""))):
        meta = pod.get("metadata") or {}
        a = attachment(pod, nad_ref, pool, ev.events.get(f"{meta.get('namespace')}/{meta.get('name')}", ()))
        _mtu(a, ev, nic, nad_mtu, storage_mtu)
        rows.append(a)
        findings.append(_pod_finding(a, nad_ref, pool))
    findings += _coverage(ev, rows)
    findings += _duplicates(rows)
    result = CheckResult(CHECK, findings)
    result.tables["nodes"] = [a.row() for a in rows]
    if pool is not None:
        result.notes.append(f"pool of {nad_ref or expected_nad}: {pool.describe()}")
    if ev.links is None:
        result.notes.append("node NICs not probed: MTU column empty")
    return result


def _pod_finding(a: Attachment, nad_ref: str | None, pool: Pool | None) -> Finding:
    if a.attached:
        title = f"{a.pod}: {a.interface or '?'} {a.address or '?'}" + (" in the pool" if a.in_pool else "")
    else:
        title = f"{a.pod}: not on the storage network"
    fix: list[str] = []
    if a.severity is Severity.FAIL:
        fix = _pod_fix(a, nad_ref)
    ev = {"pod": a.pod, "attached": a.attached, "interface": a.interface, "address": a.address, "in_pool": a.in_pool,
          "status_annotation": a.status_annotation, "nic": a.nic, "nic_mtu": a.nic_mtu,
          "pool": pool.describe() if pool else None}
    return node_finding(CHECK, a.node or "?", title, a.severity, a.reason, ev, fix)


def _pod_fix(a: Attachment, nad_ref: str | None) -> list[str]:
    ns, name = a.pod.split("/", 1)
    restart = f"kubectl -n {ns} delete pod {name}   # longhorn-manager recreates it (detach its volumes first)"
    if a.phase != "Running" and "cannot find a network-attachment-definition" in a.reason:
        return [f"# the NAD {nad_ref} does not exist: fix the setting (see the setting finding) or apply the NAD",
                "runbook nad apply --params <params>"]
    if a.phase != "Running":
        return [f"kubectl -n {ns} describe pod {name}   # the sandbox error names the cause",
                "runbook check failed-to-find-plugin --params <params>   # if the event says a plugin is missing"]
    if a.status_annotation == "missing":
        return ["kubectl auth can-i update pods/status --as=system:serviceaccount:kube-system:multus -n " + ns,
                "kubectl -n kube-system logs -l app=multus --tail=100   # the thick daemon's status update errors",
                restart]
    if a.status_annotation.startswith("networks-status"):
        return ["upgrade Multus to v4 (writes network-status) and Longhorn to a release with longhorn-manager PR #2247",
                restart]
    if a.attached and a.in_pool is False:
        return ["kubectl get ippools.whereabouts.cni.cncf.io -A   # who handed out this address", restart]
    return [restart] if nad_ref else []


def _coverage(ev: LonghornEvidence, rows: list[Attachment]) -> list[Finding]:
    if not rows:
        return [Finding(CHECK, "no Longhorn instance-manager pod found", Severity.FAIL, LONGHORN_NS,
                        f"no pod with label {IM_SELECTOR} in {LONGHORN_NS}: Longhorn is not running",
                        {}, [f"kubectl -n {LONGHORN_NS} get pods", f"kubectl -n {LONGHORN_NS} logs -l app=longhorn-manager --tail=50"])]
    have = {a.node for a in rows}
    return [node_finding(CHECK, n, f"no instance-manager pod on {n}", Severity.WARN,
                         "Longhorn runs one per storage node; this node holds no replicas or engines", {}, [])
            for n in ev.nodes if n not in have]


def _duplicates(rows: list[Attachment]) -> list[Finding]:
    by_addr: dict[str, list[str]] = {}
    for a in rows:
        if a.attached and a.address:
            by_addr.setdefault(a.address, []).append(a.pod)
    return [Finding(CHECK, f"{addr} held by {len(pods)} instance-manager pods", Severity.FAIL, addr,
                    ", ".join(pods), {"pods": pods}, ["runbook occupancy --params <params>   # see who holds it"])
            for addr, pods in by_addr.items() if len(pods) > 1]


# ---------------------------------------------------------------------------------------------
# occupancy


def is_longhorn_pod(pod: Obj) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return labels.get(IM_COMPONENT_LABEL) == "instance-manager" or labels.get("longhorn.io/managed-by") == "longhorn-manager"


def longhorn_refs(pods: Iterable[Obj]) -> set[str]:
    return {f"{(p.get('metadata') or {}).get('namespace')}/{(p.get('metadata') or {}).get('name')}"
            for p in pods if is_longhorn_pod(p)}


def holder_kind(holder: str, longhorn: set[str]) -> str:
    """What kind of holder an occupancy `holder` cell names (it may list several, comma-separated)."""
    parts = [h.strip() for h in holder.split(",") if h.strip()]
    if any(h in longhorn for h in parts):
        return LONGHORN_HOLDER
    if not parts:
        return ""
    if parts[0].startswith("unknown host"):
        return "unknown"
    if parts[0].startswith("node "):
        return "node"
    return "pod" if "/" in parts[0] else "static"


def label_longhorn_holders(frame: pd.DataFrame, pods: Iterable[Obj]) -> pd.DataFrame:
    """The occupancy table (`Occupancy.frame`) with a `holder_kind` column after `holder`:
    "longhorn instance-manager" where a holder is a Longhorn pod, else pod / node / static / unknown / ""."""
    refs = longhorn_refs(pods)
    out = frame.copy()
    kinds = [holder_kind(str(h or ""), refs) for h in out["holder"]]
    out.insert(list(out.columns).index("holder") + 1, HOLDER_KIND, kinds)
    return out
