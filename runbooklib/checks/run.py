"""The checks as one call each: gather (cluster, then one probe per node) and judge.

    result = failed_to_find_plugin(params)             # or config_not_found / upgrade_check
    result.frame()                                     # findings as a table
    outcome = repair(params, result, repair=True)      # node prep on the nodes it can fix (plan first)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from runbooklib.checks.evidence import ClusterEvidence, NodeEvidence
from runbooklib.checks.gather import gather_cluster, gather_nodes, make_plan
from runbooklib.checks.model import CheckResult, Ctx, Nad, daemon_bin_dir, nads_for
from runbooklib.checks.plugins import check_failed_to_find_plugin
from runbooklib.checks.testpod import DEFAULT_IMAGE, attach_findings, run_test_pod
from runbooklib.checks.upgrade import CHECK as UPGRADE
from runbooklib.checks.upgrade import check_upgrade
from runbooklib.checks.whereabouts import check_config_not_found
from runbooklib.params import Params
from runbooklib.remote.journal import Journal
from runbooklib.results import Finding, Severity

if TYPE_CHECKING:
    from kubernetes import client as k8s

BASE_BINARIES = ("flannel", "bridge", "host-local", "portmap", "bandwidth", "loopback")


def gather(params: Params, *, nodes: Sequence[str] | None = None, api_client: k8s.ApiClient | None = None,
           plugin: str | None = None, journal: Journal | None = None,
           cluster: ClusterEvidence | None = None) -> tuple[ClusterEvidence, dict[str, NodeEvidence], list[Nad]]:
    """Cluster evidence first (it names the daemon's bin dir), then one probe per node."""
    cluster = cluster or gather_cluster(params, api_client)
    nads = nads_for(params, cluster)
    dbd = daemon_bin_dir(cluster, params.k3s)
    binaries = [*BASE_BINARIES, *(b for n in nads for b in (n.plugin_type, n.ipam_type) if b)]
    if plugin:
        binaries.append(plugin)
    plan = make_plan(params, bin_dir=dbd.bin_dir, binaries=binaries, nad_ipams=[n.ipam for n in nads])
    return cluster, gather_nodes(params, plan, nodes=nodes, journal=journal), nads


def failed_to_find_plugin(params: Params, *, plugin: str | None = None, nodes: Sequence[str] | None = None,
                          api_client: k8s.ApiClient | None = None, journal: Journal | None = None) -> CheckResult:
    cluster, evs, nads = gather(params, nodes=nodes, api_client=api_client, plugin=plugin, journal=journal)
    return check_failed_to_find_plugin(Ctx.of(params), evs, cluster, nads, plugin)


def config_not_found(params: Params, *, nad: str = "", nodes: Sequence[str] | None = None,
                     api_client: k8s.ApiClient | None = None, journal: Journal | None = None) -> CheckResult:
    """`nad`: only this NAD (`ns/name` or `name`; default every NAD that uses whereabouts)."""
    cluster, evs, nads = gather(params, nodes=nodes, api_client=api_client, journal=journal)
    chosen = [n for n in nads if nad in ("", n.ref, n.name)]
    result = check_config_not_found(Ctx.of(params), evs, cluster, chosen)
    if nad and not chosen:
        result.findings.insert(0, Finding("config-not-found", f"no NAD named {nad}", Severity.WARN, nad,
                                          f"known: {', '.join(n.ref for n in nads) or 'none'}", {}))
    return result


def test_pod_findings(params: Params, check: str, nads: Sequence[Nad], *, api_client: k8s.ApiClient | None = None,
                      nodes: Sequence[str] | None = None, image: str = DEFAULT_IMAGE, timeout_s: float = 120.0) -> list[Finding]:
    """One test pod per whereabouts NAD (pinned to each of `nodes` when given)."""
    targets = [n for n in nads if n.config is not None] or []
    if not targets:
        return [Finding(check, "no NAD to attach a test pod to", Severity.WARN, "cluster",
                        "add a NAD to the params (nads:) and apply it", {}, [f"runbook nad apply --params {params.source_path}"])]
    if api_client is None:
        from runbooklib.cluster import api_client_for_params

        api_client = api_client_for_params(params)
    out: list[Finding] = []
    for nad in targets:
        for node in (list(nodes) if nodes else [None]):
            outcome = run_test_pod(api_client, nad, node=node, image=image, timeout_s=timeout_s)
            for f in attach_findings(check, nad, outcome):
                out.append(f)
    return out


def upgrade_check(params: Params, *, nodes: Sequence[str] | None = None, api_client: k8s.ApiClient | None = None,
                  test_pod: bool = True, test_pod_image: str = DEFAULT_IMAGE, journal: Journal | None = None) -> CheckResult:
    cluster, evs, nads = gather(params, nodes=nodes, api_client=api_client, journal=journal)
    result = check_upgrade(Ctx.of(params), evs, cluster, nads)
    if test_pod and cluster.reachable:
        result.findings += test_pod_findings(params, UPGRADE, [n for n in nads if n.origin == "cluster"],
                                             api_client=api_client, image=test_pod_image)
    elif test_pod:
        result.notes.append("test pod not run: the cluster is unreachable")
    return result


CHECKS = {
    "failed-to-find-plugin": failed_to_find_plugin,
    "config-not-found": config_not_found,
    "upgrade-check": upgrade_check,
}
