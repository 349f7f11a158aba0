"""NAD validation end to end: the pure core (`validate_documents`) and the gathering wrapper
(`validate_nads`) that probes nodes and reads the cluster unless `offline`.

Unreachable nodes and an unreachable cluster become `fail` findings (status unreachable) - never a
silent pass. `offline=True` runs only what needs neither, and says what it skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runbooklib.nad.annotations import NETWORKS_ANNOTATION, validate_workload
from runbooklib.nad.config_rules import ParsedNad, validate_config
from runbooklib.nad.document import NadDocument, documents_from_params
from runbooklib.nad.findings import CHECK
from runbooklib.nad.node_facts import NodeCniFacts
from runbooklib.nad.node_rules import validate_on_nodes
from runbooklib.nad.set_rules import StaticOccupant, static_occupants, validate_namespaces, validate_pools
from runbooklib.params import Params
from runbooklib.results import Finding, HasFindings, Severity, Status, findings_to_frame

if TYPE_CHECKING:
    import pandas as pd
    from kubernetes import client as k8s

SKIP_NODES = "node checks (master present/up, mtu <= master MTU, plugin binaries and cniVersion support)"
SKIP_CLUSTER = "cluster checks (namespace exists, overlap with NADs already in the cluster, pod annotations)"


@dataclass
class NadValidation(HasFindings):
    """Everything one validation run found. `ok` means no `fail` finding."""

    nads: list[ParsedNad]
    findings: list[Finding]
    skipped: list[str] = field(default_factory=list)
    node_facts: dict[str, NodeCniFacts] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        return findings_to_frame(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity.value, "nads": [n.ref for n in self.nads], "skipped": self.skipped,
                "findings": [f.to_dict() for f in self.findings]}


def validate_documents(docs: Sequence[NadDocument], *, occupants: Iterable[StaticOccupant] = (),
                       node_facts: dict[str, NodeCniFacts] | None = None, namespaces: set[str] | None = None,
                       other_nads: Sequence[NadDocument] = (), workloads: Sequence[dict[str, Any]] = ()) -> NadValidation:
    """Pure validation of NAD documents from any origin.

    `node_facts`: per-node facts (None: node rules skipped). `namespaces`: existing namespaces
    (None: skipped). `other_nads`: NADs already elsewhere (e.g. in the cluster) that share the
    segment - used for pool overlap only. `workloads`: pods/Deployments/... whose networks
    annotations are checked against the NADs known (docs + other_nads).
    """
    findings: list[Finding] = []
    parsed: list[ParsedNad] = []
    for doc in docs:
        nad, config_findings = validate_config(doc)
        parsed.append(nad)
        findings += config_findings
    mine = {n.ref for n in parsed}
    others = [validate_config(d)[0] for d in other_nads if d.ref not in mine]
    findings += [f for f in validate_pools(parsed + others, occupants) if f.target in mine]
    skipped: list[str] = []
    if namespaces is not None:
        findings += validate_namespaces(parsed, namespaces)
    if node_facts is not None:
        for nad in parsed:
            findings += validate_on_nodes(nad, node_facts)
    known = mine | {n.ref for n in others}
    for obj in workloads:
        findings += validate_workload(obj, known)
    return NadValidation(parsed, findings, skipped, dict(node_facts or {}))


def _unreachable(target: str, what: str, reason: str) -> Finding:
    return Finding(check=CHECK, title=f"{what} unreachable: {reason}", severity=Severity.FAIL, target=target,
                   detail=f"{what} could not be reached, so its checks did not run (this is not a pass)",
                   evidence={"rule": "cluster.reachable" if what == "cluster" else "node.reachable",
                             "status": Status.UNREACHABLE.value, "reason": reason},
                   fix=["check the kubeconfig path/context and that the API server answers", "or run with --offline"])


def _with_networks_annotation(objs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for o in objs:
        meta = o.get("metadata") or {}
        tmpl = ((o.get("spec") or {}).get("template") or {}).get("metadata") or {}
        if NETWORKS_ANNOTATION in (meta.get("annotations") or {}) or NETWORKS_ANNOTATION in (tmpl.get("annotations") or {}):
            o.setdefault("kind", "Pod")
            out.append(o)
    return out


def validate_nads(params: Params, *, docs: Sequence[NadDocument] | None = None, offline: bool = False,
                  api_client: k8s.ApiClient | None = None, node_facts: dict[str, NodeCniFacts] | None = None,
                  bin_dir: str | None = None) -> NadValidation:
    """Validate the params' NADs (or `docs`, e.g. from a YAML file) with everything reachable.

    Without `offline`: probes every node over SSH (unless `node_facts` is given) and reads the
    cluster (unless it cannot: then a `fail` finding says so).
    """
    docs = list(docs) if docs is not None else documents_from_params(params)
    occupants = static_occupants(params)
    skipped: list[str] = []
    extra: list[Finding] = []
    namespaces: set[str] | None = None
    cluster_nads: list[NadDocument] = []
    workloads: list[dict[str, Any]] = []
    if offline:
        skipped += [SKIP_NODES, SKIP_CLUSTER]
        node_facts = None
    else:
        if node_facts is None:
            from runbooklib.nad.probe import probe_nodes

            binaries = sorted({b for d in docs for b in _binaries_of(d)}) or ["macvlan", "whereabouts"]
            node_facts = probe_nodes(params, binaries, bin_dir=bin_dir)
        try:
            from runbooklib.nad import cluster_read as cr

            if api_client is None:
                from runbooklib.cluster import api_client_for_params

                api_client = api_client_for_params(params)
            namespaces = cr.list_namespaces(api_client)
            cluster_nads = cr.list_nad_documents(api_client)
            workloads = _with_networks_annotation(cr.list_pods(api_client) + cr.list_workloads(api_client))
        except Exception as e:  # noqa: BLE001 - any failure to read the cluster is reported, not raised
            extra.append(_unreachable("cluster", "cluster", f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"))
            skipped.append(SKIP_CLUSTER + " - cluster unreachable")
    result = validate_documents(docs, occupants=occupants, node_facts=node_facts, namespaces=namespaces,
                                other_nads=cluster_nads, workloads=workloads)
    result.findings = extra + result.findings
    result.skipped = skipped + result.skipped
    return result


def _binaries_of(doc: NadDocument) -> list[str]:
    nad, _ = validate_config(doc)
    return [b for b in (nad.plugin_type, nad.ipam_type) if b]
