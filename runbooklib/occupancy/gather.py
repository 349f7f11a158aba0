"""Occupancy for a params file: params (always), the cluster (unless offline), a live look (opt-in).

An unreachable cluster or node is a `fail` finding with status unreachable, and the table falls
back to what params alone say - it never passes silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbooklib.occupancy.build import Occupancy, build_occupancy
from runbooklib.occupancy.findings import CHECK
from runbooklib.occupancy.model import OccupancyInputs
from runbooklib.occupancy.sources import (
    allocations_from_ippool,
    inputs_from_params,
    nodes_from_objects,
    pods_from_objects,
    reservations_from_objects,
)
from runbooklib.params import Params
from runbooklib.results import Finding, Severity, Status

if TYPE_CHECKING:
    from kubernetes import client as k8s

SKIP_CLUSTER = "cluster sources (IPPool allocations, OverlappingRangeIPReservations, pods' network-status, node readiness)"
SKIP_LIVE = "live look from a node (addresses answering on the segment); use --live NODE"


def add_cluster_sources(inputs: OccupancyInputs, api_client: k8s.ApiClient) -> None:
    """IPPools, reservations, pods and nodes from the cluster into `inputs` (raises on API errors)."""
    from runbooklib.nad import cluster_read as cr

    pools = cr.list_ippools(api_client)
    inputs.allocations = [a for p in pools for a in allocations_from_ippool(p)]
    inputs.reservations = reservations_from_objects(cr.list_reservations(api_client))
    inputs.pods = pods_from_objects(cr.list_pods(api_client))
    inputs.nodes = nodes_from_objects(cr.list_nodes(api_client))


def _unreachable(what: str, reason: str) -> Finding:
    return Finding(CHECK, f"{what} unreachable: {reason}", Severity.FAIL, target=what,
                   detail=f"{what} could not be reached; the table shows params only (this is not a pass)",
                   evidence={"status": Status.UNREACHABLE.value, "reason": reason},
                   fix=["check the kubeconfig path/context and that the API server answers", "or run with --offline"])


def occupancy_for_params(params: Params, *, offline: bool = False, api_client: k8s.ApiClient | None = None,
                         live_node: str | None = None, include_free: bool = True) -> Occupancy:
    inputs = inputs_from_params(params)
    problems: list[Finding] = []
    if offline:
        inputs.skipped += [SKIP_CLUSTER, SKIP_LIVE]
    else:
        try:
            if api_client is None:
                from runbooklib.cluster import api_client_for_params

                api_client = api_client_for_params(params)
            add_cluster_sources(inputs, api_client)
        except Exception as e:  # noqa: BLE001 - reported as a finding, never raised past here
            first = str(e).splitlines()[0][:200] if str(e) else ""
            problems.append(_unreachable("cluster", f"{type(e).__name__}: {first}"))
            inputs.skipped.append(SKIP_CLUSTER + " - cluster unreachable")
        if live_node:
            _add_live(params, inputs, live_node, problems)
        else:
            inputs.skipped.append(SKIP_LIVE)
    occ = build_occupancy(inputs, include_free=include_free)
    if problems:
        occ.findings = [f for f in occ.findings if f.title != "no occupancy problem found"]
    occ.findings = problems + occ.findings
    return occ


def _add_live(params: Params, inputs: OccupancyInputs, node_name: str, problems: list[Finding]) -> None:
    from runbooklib.errors import UnreachableError
    from runbooklib.occupancy.live import live_look
    from runbooklib.remote import SshHost

    node = params.node(node_name)
    candidates: set[int] = set()
    for p in inputs.pools:
        candidates |= set(range(p.pool.first_int, min(p.pool.last_int, p.pool.first_int + 1023) + 1))
    candidates |= {s.address for s in inputs.statics}
    host = SshHost.from_params(params, node)
    try:
        inputs.live = live_look(host, node.storage_nic.name, sorted(candidates), inputs.version)
    except UnreachableError as e:
        problems.append(_unreachable(f"node {node_name}", e.reason))
        inputs.skipped.append(f"live look from {node_name} - node unreachable")
    finally:
        host.close()
