"""Recorded check evidence (tests/unit/check_probes/): probe outputs of lab nodes and the cluster."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from runbooklib.checks.evidence import ClusterEvidence, NodeEvidence
from runbooklib.checks.model import Ctx, Nad, nads_for
from runbooklib.checks.probe import ProbePlan, parse_probe, probe_plan
from runbooklib.params import Params, params_from_dict

HERE = Path(__file__).resolve().parent / "check_probes"
BINARIES = ("flannel", "bridge", "host-local", "portmap", "bandwidth", "loopback", "macvlan", "whereabouts")


def params() -> Params:
    return params_from_dict({
        "cluster": "chk", "storage_network": {"cidr": "198.18.207.0/24"},
        "nodes": [{"name": n, "ssh": {"host": f"198.19.128.{11 + i}"}, "sudo": "root",
                   "storage_nic": {"name": "ens2", "address": f"198.18.207.{101 + i}"}} for i, n in enumerate(("n1", "n2", "n3"))],
        "nads": [{"name": "storage-207", "namespace": "default", "master": "ens2", "mtu": 9000,
                  "ipam": {"range": "198.18.207.0/24", "range_start": "198.18.207.240", "range_end": "198.18.207.254"}}],
    }, require_files=False)


def plan() -> ProbePlan:
    return probe_plan(params(), bin_dir="/opt/cni/bin", binaries=BINARIES)


def node(name: str, recorded: str) -> NodeEvidence:
    return parse_probe(name, (HERE / f"{recorded}.txt").read_text(), params(), plan(), used_sudo=True)


def cluster() -> ClusterEvidence:
    return ClusterEvidence(**json.loads((HERE / "cluster.json").read_text()))


def nads(cl: ClusterEvidence | None = None) -> list[Nad]:
    return nads_for(params(), cl or cluster())


def ctx() -> Ctx:
    return Ctx(params().k3s, "params/lab.yaml")


def copy_node(ev: NodeEvidence, name: str | None = None) -> NodeEvidence:
    out = copy.deepcopy(ev)
    if name:
        out.node = name
    return out
