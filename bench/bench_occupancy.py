"""Benchmark: a /16 whereabouts pool with 50,000 allocations (and their pods) builds in well under a second.

Run: python bench/bench_occupancy.py
"""

from __future__ import annotations

import ipaddress
import json
import os
import time

import pandas  # noqa: F401 - imported up front: its ~0.7 s import is not part of building the table

from runbooklib.nad.pools import pool_from_ipam
from runbooklib.occupancy import (
    OccupancyInputs,
    PoolSource,
    allocations_from_ippool,
    build_occupancy,
    pods_from_objects,
)

N = 50_000


def main() -> None:
    pool = pool_from_ipam({"type": "whereabouts", "range": "10.20.0.0/16"})
    assert pool is not None
    ippool = {"metadata": {"name": "10.20.0.0-16"},
              "spec": {"range": "10.20.0.0/16",
                       "allocations": {str(i): {"id": f"c{i:064x}"[-64:], "podref": f"apps/web-{i}", "ifname": "net1"}
                                       for i in range(1, N + 1)}}}
    base = int(ipaddress.ip_address("10.20.0.0"))
    pods = [{"metadata": {"namespace": "apps", "name": f"web-{i}", "annotations": {
        "k8s.v1.cni.cncf.io/network-status": json.dumps([{"name": "apps/data-net", "interface": "net1",
                                                          "ips": [str(ipaddress.ip_address(base + i))], "dns": {}}])}},
             "spec": {"nodeName": f"n{i % 50}"}, "status": {"phase": "Running"}} for i in range(1, N + 1) if i % 100]

    t0, c0 = time.perf_counter(), time.process_time()
    allocations = allocations_from_ippool(ippool)
    pod_states = pods_from_objects(pods)
    t1, c1 = time.perf_counter(), time.process_time()
    inputs = OccupancyInputs(subnets=[pool.network], pools=[PoolSource("apps/data-net", pool)],
                             allocations=allocations, pods=pod_states)
    occ = build_occupancy(inputs)
    t2, c2 = time.perf_counter(), time.process_time()
    [summary] = occ.summary.to_dict(orient="records")
    print(f"parse {N} IPPool allocations + {len(pods)} pods' network-status: {t1 - t0:.3f}s wall, {c1 - c0:.3f}s cpu")
    print(f"build table ({len(occ.frame)} rows, pool size {summary['size']}, used {summary['used']}, "
          f"stale {summary['stale']}, free {summary['free']}): {t2 - t1:.3f}s wall, {c2 - c1:.3f}s cpu")
    print(f"total: {t2 - t0:.3f}s wall, {c2 - c0:.3f}s cpu (os.getloadavg: {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
