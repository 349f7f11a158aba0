"""Time `lab up` / `lab down` for 4 and 16 nodes (root). Usage: python bench/bench_lab.py [--sizes 4 16] [--runs 1]

Params are generated into a temp dir (own cluster name, state dir /var/tmp/runbooklib-bench-<n>,
mgmt CIDR 198.19.6x.0/24), so a demo lab (params/lab.yaml) keeps running undisturbed. Times are
measured in-process around Lab.up()/Lab.down() (the CLI adds its own import time on top).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from runbooklib.lab.lab import Lab
from runbooklib.lab.testparams import write_lab_params
from runbooklib.params import load_params


def bench(n: int, runs: int, tmp: Path) -> list[tuple[float, float]]:
    pfile = write_lab_params(tmp / f"bench{n}.yaml", cluster=f"bench{n}", n_nodes=n,
                             state_dir=f"/var/tmp/runbooklib-bench-{n}", mgmt_cidr=f"198.19.{60 + n % 40}.0/24")
    lab = Lab.from_params(load_params(pfile, require_files=False))
    lab.down()                                      # leftovers of an interrupted bench
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        lab.up()
        t1 = time.perf_counter()
        assert lab.health() == [], lab.health()
        t2 = time.perf_counter()
        lab.down()
        t3 = time.perf_counter()
        out.append((t1 - t0, t3 - t2))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_lab needs root", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'nodes':>5} {'run':>3} {'up s':>7} {'down s':>7}")
        for n in args.sizes:
            for i, (up, down) in enumerate(bench(n, args.runs, Path(tmp)), 1):
                print(f"{n:>5} {i:>3} {up:7.2f} {down:7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
