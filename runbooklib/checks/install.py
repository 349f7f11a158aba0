"""The install runbook, step by step (each step one call, so a notebook cell stays thin):

1. `node_prep`  - node prep on every node (plan only with dry_run),
2. `manifests`  - patch the upstream manifests, consistency checks, create-or-update (dry-run reads only),
3. `rollout`    - wait for kube-multus-ds and whereabouts (skipped in dry run),
4. `nads`       - validate the params' NADs (nodes + cluster) and apply them,
5. `test_pod`   - a pod per NAD with `k8s.v1.cni.cncf.io/networks`, `ip -br addr` via exec, net1 in the pool,
then `verify_install`: the whole chain from node files to the test pod, as findings.

A step whose prerequisite failed is skipped and says so (never reported as a pass).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runbooklib.checks.model import CheckResult, Ctx, nads_for
from runbooklib.params import Params
from runbooklib.results import Finding, NodeRecap, Severity, worst

if TYPE_CHECKING:
    from kubernetes import client as k8s

CHECK = "install"


@dataclass
class StepResult:
    step: str
    status: Severity
    summary: str
    findings: list[Finding] = field(default_factory=list)
    recaps: list[NodeRecap] = field(default_factory=list)
    table: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is not Severity.FAIL

    def row(self) -> dict[str, str]:
        return {"step": self.step, "status": self.status.value, "summary": self.summary}


def skipped(step: str, why: str) -> StepResult:
    return StepResult(step, Severity.FAIL, f"skipped: {why}",
                      [Finding(CHECK, f"{step} skipped: {why}", Severity.FAIL, step, "an earlier step failed; not a pass")])


def node_prep(params: Params, *, dry_run: bool = False, nodes: Sequence[str] | None = None, **kwargs: Any) -> StepResult:
    from runbooklib.errors import ArtifactError
    from runbooklib.nodes.prep import prep_nodes

    try:
        res = prep_nodes(params, plan_only=dry_run, nodes=nodes, **kwargs)
    except ArtifactError as e:
        return StepResult("node prep", Severity.FAIL, str(e), [Finding(CHECK, "plugin release not usable", Severity.FAIL,
                                                                       "artifacts.cni_plugins", str(e))])
    verb = "would change" if dry_run else "changed"
    status = Severity.OK if res.ok else Severity.FAIL
    findings = [Finding(CHECK, f"node prep on {r.node}: {r.status.value}", Severity.OK if r.status.value in ("ok", "changed")
                        else Severity.FAIL, r.node, r.message, {"node": r.node, "status": r.status.value})
                for r in res.recaps]
    return StepResult("node prep" + (" (plan)" if dry_run else ""), status, f"{len(res.recaps)} node(s), {res.changed} step(s) {verb}",
                      findings, res.recaps, res.frame().to_dict("records"), {"prep": res.to_dict()})


def manifests(params: Params, api_client: k8s.ApiClient, *, dry_run: bool = False, pin_images: bool = False) -> StepResult:
    from runbooklib.cluster import apply_manifests, summarize_apply
    from runbooklib.manifests import ManifestPatchError, prepare_manifests

    try:
        pm = prepare_manifests(params, pin_images=pin_images)
    except ManifestPatchError as e:
        return StepResult("manifests", Severity.FAIL, f"patch refused: {e}",
                          [Finding(CHECK, "manifest patch refused", Severity.FAIL, "manifests", str(e))])
    findings = list(pm.findings)
    if pm.failed:
        return StepResult("manifests", Severity.FAIL, "consistency checks failed: nothing applied", findings,
                          data={"diffs": pm.diffs()})
    results = apply_manifests(api_client, pm.docs(), dry_run=dry_run)
    failed = [r for r in results if r.failed]
    findings += [Finding(CHECK, f"{r.target}: {r.reason}", Severity.FAIL, r.target, r.reason) for r in failed]
    table = [{"object": r.target, "action": str(r.evidence.get("action")), "status": r.status.value} for r in results]
    summary = ", ".join(f"{k} {v}" for k, v in summarize_apply(results).items())
    return StepResult("manifests" + (" (dry run)" if dry_run else ""), worst(findings) if not failed else Severity.FAIL,
                      summary, findings, table=table, data={"diffs": pm.diffs()})


def rollout(api_client: k8s.ApiClient, *, timeout_s: float = 300.0) -> StepResult:
    from runbooklib.cluster import wait_for_rollout

    report = wait_for_rollout(api_client, timeout_s=timeout_s)
    findings = report.findings()
    return StepResult("rollout", Severity.OK if report.ready else Severity.FAIL,
                      ("ready" if report.ready else "NOT ready") + f" after {report.elapsed_s:.0f}s", findings,
                      data={"rollout": report.to_dict(), "text": report.render()})


def nads(params: Params, api_client: k8s.ApiClient, *, dry_run: bool = False) -> StepResult:
    from runbooklib.cluster import apply_manifests
    from runbooklib.nad import validate_nads
    from runbooklib.nad.apply import apply_nads

    created: list[str] = []
    if not dry_run:  # the install runbook creates the NADs' namespaces (kubectl create namespace ...)
        ns_docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                   for ns in sorted({n.namespace for n in params.nads})]
        created = [r.target for r in apply_manifests(api_client, ns_docs) if r.evidence.get("action") == "created"]
    validation = validate_nads(params, api_client=api_client)
    ops = apply_nads(params, api_client, dry_run=dry_run, validation=validation)
    findings = list(validation.findings)
    findings += [Finding(CHECK, f"{o.target}: {o.reason}", Severity.FAIL, o.target, o.reason) for o in ops if o.failed]
    table = [{"nad": o.target, "action": str(o.evidence.get("action")), "status": o.status.value} for o in ops]
    table += [{"nad": t, "action": "created", "status": "changed"} for t in created]
    status = Severity.FAIL if (not validation.ok or any(o.failed for o in ops)) else worst(findings)
    if dry_run:  # nothing installed yet: what node prep and the rollout will provide cannot be there
        for f in findings:
            if f.severity is Severity.FAIL:
                f.severity, f.detail = Severity.WARN, f"{f.detail} (dry run: expected before node prep and the rollout)"
        status = worst(findings)
    return StepResult("NADs" + (" (dry run)" if dry_run else ""), status,
                      f"{len(ops)} NAD(s): " + ", ".join(f"{r['nad']} {r['action']}" for r in table), findings, table=table)


def test_pod(params: Params, api_client: k8s.ApiClient, *, image: str | None = None, timeout_s: float = 120.0,
             nodes: Sequence[str] | None = None, nad: str = "") -> StepResult:
    from runbooklib.checks.gather import gather_cluster
    from runbooklib.checks.run import test_pod_findings
    from runbooklib.checks.testpod import DEFAULT_IMAGE

    cluster = gather_cluster(params, api_client, logs=False)
    targets = [n for n in nads_for(params, cluster) if (n.origin == "cluster" or not cluster.reachable)
               and nad in ("", n.ref, n.name)]
    findings = test_pod_findings(params, CHECK, targets, api_client=api_client, image=image or DEFAULT_IMAGE,
                                 timeout_s=timeout_s, nodes=nodes)
    table = [{"nad": f.evidence.get("nad", ""), "node": f.evidence.get("node", ""), "net1": ", ".join(f.evidence.get("in_pool") or []),
              "status": f.severity.value} for f in findings]
    return StepResult("test pod", worst(findings), "; ".join(f.title for f in findings), findings, table=table)


def verify_install(params: Params, *, api_client: k8s.ApiClient | None = None, nodes: Sequence[str] | None = None,
                   test_pod: bool = True, test_pod_image: str | None = None) -> CheckResult:
    """The whole chain as one check: node files (failed-to-find-plugin), whereabouts config
    (config-not-found), DaemonSets ready and a test pod with net1 from each NAD."""
    from runbooklib.checks.plugins import check_failed_to_find_plugin
    from runbooklib.checks.run import gather, test_pod_findings
    from runbooklib.checks.testpod import DEFAULT_IMAGE
    from runbooklib.checks.upgrade import check_daemonsets
    from runbooklib.checks.whereabouts import check_config_not_found

    cluster, evs, all_nads = gather(params, nodes=nodes, api_client=api_client)
    ctx = Ctx.of(params)
    parts = [check_failed_to_find_plugin(ctx, evs, cluster, all_nads), check_config_not_found(ctx, evs, cluster, all_nads)]
    findings = [f for p in parts for f in p.findings]
    tables = {k: v for p in parts for k, v in p.tables.items()}
    if cluster.reachable:
        findings += check_daemonsets(cluster)
        if test_pod:
            findings += test_pod_findings(params, CHECK, [n for n in all_nads if n.origin == "cluster"],
                                          api_client=api_client, image=test_pod_image or DEFAULT_IMAGE)
    for f in findings:
        f.evidence = {**f.evidence, "from": f.check}
        f.check = CHECK
    return CheckResult(CHECK, findings, evs, cluster, [n for p in parts for n in p.notes], tables)


def install(params: Params, *, dry_run: bool = False, api_client: k8s.ApiClient | None = None,
            rollout_timeout_s: float = 300.0, test_pod_image: str | None = None) -> list[StepResult]:
    """All steps in order; a failed step skips the ones that need it."""
    steps = [node_prep(params, dry_run=dry_run)]
    if api_client is None:
        from runbooklib.cluster import api_client_for_params

        api_client = api_client_for_params(params)
    steps.append(manifests(params, api_client, dry_run=dry_run) if steps[-1].ok else skipped("manifests", "node prep failed"))
    if dry_run:
        steps.append(nads(params, api_client, dry_run=True))
        return steps
    steps.append(rollout(api_client, timeout_s=rollout_timeout_s) if steps[-1].ok else skipped("rollout", "manifests failed"))
    steps.append(nads(params, api_client) if steps[-1].ok else skipped("NADs", "rollout failed"))
    steps.append(test_pod(params, api_client, image=test_pod_image) if steps[-1].ok else skipped("test pod", "NADs failed"))
    return steps
