"""Golden equality for the occupancy fast paths: a mid-size realistic case (a /20 with a few thousand
allocations and every state) must parse and build exactly as the reference implementation did.

The expected values in `occupancy_golden.json.gz` (gzip-compressed JSON) were recorded once from the implementation before
the performance work. To re-record (only when a behaviour change is intended):
`OCCUPANCY_GOLDEN_RECORD=1 python -m pytest tests/unit/test_occupancy_perf_equivalence.py`.
"""

from __future__ import annotations

import dataclasses
import gzip
import ipaddress
import json
import os
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from runbooklib.nad.pools import parse_net, pool_from_ipam
from runbooklib.occupancy import (
    LiveAddress,
    OccupancyInputs,
    PoolSource,
    StaticHolder,
    allocations_from_ippool,
    build_occupancy,
    nodes_from_objects,
    pods_from_objects,
    reservations_from_objects,
)
from runbooklib.occupancy.build import COLUMNS, Occupancy

GOLDEN = Path(__file__).with_name("occupancy_golden.json.gz")  # gzip-compressed JSON
RECORD = os.environ.get("OCCUPANCY_GOLDEN_RECORD") == "1"
NS_KEY = "k8s.v1.cni.cncf.io/network-status"
NET_A, NET_B = "apps/net-a", "apps/net-b"


def _ip(base: str, offset: int) -> str:
    return str(ipaddress.ip_address(base) + offset)


def _status(entries: list[dict[str, Any]]) -> str:
    return json.dumps(entries)


def _pod(ref: str, node: str, phase: str = "Running", status: str | None = None, **meta: Any) -> dict[str, Any]:
    ns, name = ref.split("/")
    ann = {} if status is None else {NS_KEY: status}
    return {"metadata": {"namespace": ns, "name": name, "annotations": ann, **meta},
            "spec": {"nodeName": node}, "status": {"phase": phase}}


def _entry(name: str, ips: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "interface": "net1", "ips": ips, "dns": {}, **extra}


def _objects() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(ippools, pods, nodes, reservations) of the mid-size case, deterministic."""
    rng = random.Random(20240607)
    base = "10.30.0.0"
    allocs_a: dict[str, Any] = {}
    pods: list[dict[str, Any]] = []
    nodes = [{"metadata": {"name": f"n{i}"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
             for i in range(8)]
    nodes.append({"metadata": {"name": "n-down"}, "spec": {"taints": [{"key": "node.kubernetes.io/unreachable"}]},
                  "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}})
    nodes.append({"metadata": {"name": "n-notready"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}})
    for off in range(1, 3000):
        roll = rng.random()
        ref = f"apps/p-{off}"
        node = f"n{off % 8}"
        cid = f"c{off:x}"
        if 1024 <= off < 1088 and off % 8 or off == 1285:  # keep most of pool A's excludes unallocated
            continue
        allocs_a[str(off)] = {"id": cid, "podref": ref, "ifname": "net1"}
        ip = _ip(base, off)
        if roll < 0.80:  # allocated (sometimes with a default entry and a second network)
            entries = [_entry(NET_A, [ip])]
            if off % 7 == 0:
                entries.insert(0, _entry("cbr0", ["10.42.0.7"], default=True))
            if off % 11 == 0:
                entries.append(_entry(NET_B, [f"{_ip('10.30.12.0', off % 1000)}/22"]))
            pods.append(_pod(ref, node, status=_status(entries)))
        elif roll < 0.84:  # stale: pod gone
            pass
        elif roll < 0.86:  # stale: status present, IP absent
            pods.append(_pod(ref, node, status=_status([_entry(NET_A, [])])))
        elif roll < 0.88:  # pending / unverified / failed
            phase = ["Pending", "Running", "Failed", "Succeeded"][off % 4]
            pods.append(_pod(ref, node, phase=phase))
        elif roll < 0.90:  # held-unreachable: tainted node, not-ready node, taint-manager eviction
            kind = off % 3
            if kind == 0:
                pods.append(_pod(ref, "n-down", status=_status([_entry(NET_A, [ip])]),
                                 deletionTimestamp="2024-01-01T00:00:00Z"))
            elif kind == 1:
                pods.append(_pod(ref, "n-notready", status=_status([_entry(NET_A, [ip])])))
            else:
                p = _pod(ref, node, status=_status([_entry(NET_A, [ip])]))
                p["status"]["conditions"] = [{"type": "DisruptionTarget", "status": "True",
                                              "reason": "DeletionByTaintManager"}]
                pods.append(p)
        elif roll < 0.92:  # duplicate: another pod claims it in network-status
            pods.append(_pod(ref, node, status=_status([_entry(NET_A, [ip])])))
            pods.append(_pod(f"other/dup-{off}", node, status=_status([_entry(NET_A, [ip])])))
        elif roll < 0.93:  # deleting duplicate claimer (not a holder) + pod Running
            pods.append(_pod(ref, node, status=_status([_entry(NET_A, [ip])])))
            pods.append(_pod(f"other/del-{off}", node, status=_status([_entry(NET_A, [ip])]),
                             deletionTimestamp="2024-01-01T00:00:00Z"))
        elif roll < 0.94:  # odd annotations
            odd = ["", "not json", '{"name": "x"}', "[1, 2]", json.dumps([_entry(NET_A, None)]),
                   json.dumps([_entry(NET_A, [f" {ip}", "999.1.1.1", "fd00::5", 17])]),
                   json.dumps([{"ips": [ip]}]), json.dumps([_entry(NET_A, [ip]), _entry("dup-name", [ip])])][off % 8]
            pods.append(_pod(ref, node, status=odd))
        else:  # allocated, pod in a different namespace default
            pods.append(_pod(ref, node, status=_status([_entry(NET_A, [ip])])))
    # missing: network-status without allocation
    for off in range(3700, 3760):
        pods.append(_pod(f"apps/m-{off}", "n1", status=_status([_entry(NET_A, [_ip(base, off)])])))
    # status IPs outside every subnet (ignored) and IPv6
    pods.append(_pod("apps/outside", "n1", status=_status([_entry(NET_A, ["172.16.0.5", "fd00::1/64"])])))
    # bad allocation keys / values
    allocs_a.update({"abc": {"podref": "apps/bad"}, " 3001": {"podref": "apps/space", "id": "x"}, "3002": None,
                     "3003": {"podref": None, "id": None, "ifname": None}, "1285": {"podref": "apps/p-1285"}})
    # pool B on 10.30.12.0/22 (inside the /20), with its own allocations
    allocs_b = {str(o): {"id": f"b{o}", "podref": f"apps/b-{o}", "ifname": "net2"} for o in range(5, 400, 3)}
    for o in range(5, 400, 6):
        pods.append(_pod(f"apps/b-{o}", "n2", status=_status([_entry(NET_B, [_ip("10.30.12.0", o)])])))
    # an old IPPool on another range: out-of-pool allocations and an extra subnet
    allocs_old = {str(o): {"id": f"o{o}", "podref": f"apps/old-{o}", "ifname": "net1"} for o in range(10, 30)}
    for o in range(10, 30, 2):
        pods.append(_pod(f"apps/old-{o}", "n3", status=_status([_entry(NET_A, [_ip("10.31.0.0", o)])])))
    # a duplicate allocation in two IPPools at the same address (pool B range overlaps the /20 pool A is in)
    allocs_dupe = {"100": {"id": "d100", "podref": "apps/p-3172", "ifname": "net1"}}
    ippools = [
        {"metadata": {"name": "10.30.0.0-20"}, "spec": {"range": "10.30.0.0/20", "allocations": allocs_a}},
        {"metadata": {"name": "10.30.12.0-22"}, "spec": {"range": "10.30.12.0/22", "allocations": allocs_b}},
        {"metadata": {"name": "10.31.0.0-24"}, "spec": {"range": "10.31.0.0/24", "allocations": allocs_old}},
        {"metadata": {"name": "10.30.12.0-24-dupe"}, "spec": {"range": "10.30.12.0/24", "allocations": allocs_dupe}},
        {"metadata": {"name": "broken"}, "spec": {"range": "nonsense", "allocations": {"1": {}}}},
    ]
    reservations = [
        {"metadata": {"name": _ip(base, 3800)}, "spec": {"podref": "apps/gone-r"}},
        {"metadata": {"name": f"net-a-{_ip(base, 3801)}"}, "spec": {"podref": "apps/m-3701"}},
        {"metadata": {"name": _ip(base, 3702)}, "spec": {"podref": "apps/m-3702"}},
        {"metadata": {"name": _ip(base, 50)}, "spec": {"podref": "apps/somebody-else"}},
    ]
    return ippools, pods, nodes, reservations


def _inputs(ippools: list[dict[str, Any]], pods: list[dict[str, Any]], nodes: list[dict[str, Any]],
            reservations: list[dict[str, Any]], *, with_pods: bool = True) -> OccupancyInputs:
    pool_a = pool_from_ipam({"type": "whereabouts", "range": "10.30.0.0/20", "range_start": "10.30.0.10",
                             "range_end": "10.30.11.250", "exclude": ["10.30.4.0/26", "10.30.5.5/32"]})
    pool_b = pool_from_ipam({"type": "whereabouts", "range": "10.30.12.0/22", "exclude": ["10.30.13.0/28"]})
    assert pool_a is not None and pool_b is not None
    allocations = [a for obj in ippools for a in allocations_from_ippool(obj)]
    statics = [StaticHolder(int(ipaddress.ip_address("10.30.0.2")), "router"),
               StaticHolder(int(ipaddress.ip_address("10.30.0.3")), "node n1 eth1", "node"),
               StaticHolder(int(ipaddress.ip_address("10.30.2.200")), "nas"),            # conflict: in pool
               StaticHolder(int(ipaddress.ip_address("10.30.4.3")), "printer"),          # reserved: in exclude
               StaticHolder(int(ipaddress.ip_address("10.30.0.20")), "clash"),           # conflict with allocation
               StaticHolder(int(ipaddress.ip_address("10.30.15.1")), "node n2 eth1", "node")]
    live = [LiveAddress(int(ipaddress.ip_address("10.30.3.0")), "02:aa:bb:cc:dd:01", "n1"),
            LiveAddress(int(ipaddress.ip_address("10.30.0.1")), "", "n2"),
            LiveAddress(int(ipaddress.ip_address("10.30.0.30")), "02:aa:bb:cc:dd:03", "n1"),
            LiveAddress(int(ipaddress.ip_address("10.30.15.250")), "02:aa:bb:cc:dd:04", "n1")]
    subnet = parse_net("10.30.0.0/20")
    assert subnet is not None
    return OccupancyInputs(subnets=[subnet], pools=[PoolSource(NET_A, pool_a), PoolSource(NET_B, pool_b)],
                           statics=statics, allocations=allocations,
                           reservations=reservations_from_objects(reservations),
                           pods=pods_from_objects(pods) if with_pods else None,
                           nodes=nodes_from_objects(nodes), live=live)


def _v6_inputs() -> OccupancyInputs:
    pool = pool_from_ipam({"type": "whereabouts", "range": "fd00:30::/120", "exclude": ["fd00:30::f0/124"]})
    assert pool is not None
    ippool = {"metadata": {"name": "fd00-30---120"},
              "spec": {"range": "fd00:30::/120", "allocations": {str(o): {"id": f"v{o}", "podref": f"apps/v-{o}"}
                                                                   for o in range(1, 250, 5)}}}
    pods = [_pod(f"apps/v-{o}", "n1", status=_status([_entry(NET_A, [f"fd00:30::{o:x}/120"])])) for o in range(1, 250, 10)]
    net = parse_net("fd00:30::/120")
    assert net is not None
    return OccupancyInputs(version=6, subnets=[net], pools=[PoolSource(NET_A, pool)],
                           allocations=allocations_from_ippool(ippool), pods=pods_from_objects(pods))


def _scenarios() -> dict[str, tuple[OccupancyInputs, bool]]:
    objs = _objects()
    return {"full": (_inputs(*objs), True), "no_free": (_inputs(*objs), False),
            "no_pods": (_inputs(*objs, with_pods=False), True), "v6": (_v6_inputs(), True)}


def _frame_record(frame: pd.DataFrame) -> dict[str, list[Any]]:
    out = {c: frame[c].tolist() for c in frame.columns}
    out["offset"] = [None if pd.isna(x) else int(x) for x in frame["offset"]]
    return out


def _frame_from_record(rec: dict[str, list[Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rec, columns=COLUMNS)
    frame["offset"] = frame["offset"].astype("Int64")
    return frame


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _record(occ: Occupancy) -> dict[str, Any]:
    return {"frame": _frame_record(occ.frame), "summary": _jsonable(occ.summary.to_dict(orient="list")),
            "findings": _jsonable([f.to_dict() for f in occ.findings]), "skipped": occ.skipped,
            "subnets": [str(s) for s in occ.subnets]}


def _parsed_record(inputs: OccupancyInputs) -> dict[str, Any]:
    return {"allocations": [list(a) for a in inputs.allocations],
            "pods": None if inputs.pods is None else
            {k: {**dataclasses.asdict(p), "status_ips": sorted(p.status_ips.items())} for k, p in inputs.pods.items()},
            "pod_order": None if inputs.pods is None else list(inputs.pods),
            "reservations": [list(r) for r in inputs.reservations]}


def _golden() -> dict[str, Any]:
    if RECORD:
        data = {name: {"parsed": _jsonable(_parsed_record(inputs)),
                       "occupancy": _record(build_occupancy(inputs, include_free=include_free))}
                for name, (inputs, include_free) in _scenarios().items()}
        GOLDEN.write_bytes(gzip.compress(json.dumps(data, separators=(",", ":")).encode(), mtime=0))
    return json.loads(gzip.decompress(GOLDEN.read_bytes()))


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return _golden()


@pytest.mark.parametrize("name", ["full", "no_free", "no_pods", "v6"])
def test_parse_and_build_match_the_reference(golden: dict[str, Any], name: str) -> None:
    inputs, include_free = _scenarios()[name]
    expected = golden[name]
    assert _jsonable(_parsed_record(inputs)) == expected["parsed"]
    occ = build_occupancy(inputs, include_free=include_free)
    want = expected["occupancy"]
    pd.testing.assert_frame_equal(occ.frame, _frame_from_record(want["frame"]))
    pd.testing.assert_frame_equal(occ.summary, pd.DataFrame(want["summary"], columns=list(occ.summary.columns)))
    assert _jsonable([f.to_dict() for f in occ.findings]) == want["findings"]
    assert occ.skipped == want["skipped"] and [str(s) for s in occ.subnets] == want["subnets"]


def test_the_case_covers_every_state(golden: dict[str, Any]) -> None:
    states = set(golden["full"]["occupancy"]["frame"]["state"])
    assert states == {"free", "excluded", "reserved", "allocated", "pending", "unverified", "held-unreachable", "stale",
                      "missing", "duplicate", "out-of-pool", "conflict"}
    assert len(golden["full"]["occupancy"]["frame"]["state"]) > 4000
