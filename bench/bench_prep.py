"""Bench node prep (issue 5): facts + plan for 1, 4 and 16 lab nodes, SSH round trips per node, and
the same steps as an ansible-core playbook against the same nodes (ratio ours/ansible).

Run as root:  python bench/bench_prep.py [--nodes 16] [--keep]
Brings up its own lab (own cluster name, state dir and management CIDR) with runbooklib.lab and
tears it down afterwards. ansible-core is a bench-only dependency (pip install ansible-core).
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runbooklib.lab.lab import Lab
from runbooklib.lab.testparams import write_lab_params
from runbooklib.nodes import plan_nodes, prep_nodes
from runbooklib.nodes.bundle import load_plugin_bundle
from runbooklib.params import Params, load_params, params_from_dict

HERE = Path(__file__).resolve().parent
BACKUPS = "/var/lib/rancher/runbooklib-backups"


def free_cidr() -> str:
    out = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True, check=True).stdout  # noqa: S603,S607
    used = {a.get("local") for link in json.loads(out) for a in link.get("addr_info", [])}
    for third in range(60, 100):
        cidr = f"198.19.{third}.0/24"
        if str(ipaddress.ip_network(cidr).network_address + 1) not in used:
            return cidr
    raise RuntimeError("no free 198.19.x.0/24")


def subset(params: Params, n: int) -> Params:
    raw = params.model_dump(mode="json", exclude={"source_path"})
    raw["nodes"] = raw["nodes"][:n]
    raw["ssh"]["parallel"] = max(n, 1)
    return params_from_dict(raw, source=params.source_path or "<dict>")


def timed(fn, repeat: int = 3) -> tuple[float, object]:  # noqa: ANN001
    times, last = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        last = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), last


def ansible_run(params: Params, workdir: Path, forks: int) -> float:
    exe = Path(sys.executable).parent / "ansible-playbook"
    if not exe.exists():
        raise SystemExit("ansible-core not installed in this venv: pip install ansible-core (bench-only)")
    bundle = load_plugin_bundle(params)
    inv = workdir / "inventory.ini"
    key = params.resolve(params.nodes[0].ssh.key_file or "")
    lines = ["[nodes]"] + [f"{n.name} ansible_host={n.ssh.host} ansible_user=root" for n in params.nodes]
    inv.write_text("\n".join(lines) + "\n")
    sha1 = hashlib.sha1(bundle.tarball.read_bytes()).hexdigest()  # noqa: S324 - ansible's copy checksum is sha1
    env = {**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_FORKS": str(forks),
           "ANSIBLE_PRIVATE_KEY_FILE": str(key), "ANSIBLE_STDOUT_CALLBACK": "default",
           "ANSIBLE_SSH_ARGS": f"-o UserKnownHostsFile={params.resolve(params.ssh.known_hosts or '')} "
                               "-o ControlMaster=auto -o ControlPersist=60s",
           "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3", "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp")}
    cmd = [str(exe), "-i", str(inv), str(HERE / "ansible" / "prep.yml"),
           "-e", f"plugins_tgz={bundle.tarball}", "-e", f"plugins_sha1={sha1}"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-2000:], file=sys.stderr)
        raise SystemExit("ansible-playbook failed")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--keep", action="store_true", help="leave the bench lab up")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-prep-"))
    state_dir = f"/var/tmp/runbooklib-bench-{os.getpid()}"
    pfile = write_lab_params(tmp / "bench.yaml", cluster=f"b{os.getpid()}", n_nodes=args.nodes,
                             state_dir=state_dir, mgmt_cidr=free_cidr())
    lab = Lab.from_params(load_params(pfile, require_files=False))
    t0 = time.perf_counter()
    lab.up()
    print(f"lab up: {args.nodes} nodes in {time.perf_counter() - t0:.1f}s")
    try:
        params = subset(load_params(pfile), args.nodes)  # parallel = node count, like ansible's forks below
        load_plugin_bundle(params)  # warm the artifact cache: the bench measures the nodes, not the download
        print("\n== facts + plan (fresh nodes, no sudo, nothing changed); median of 3")
        rows = {}
        for n in sorted({1, 4, args.nodes}):
            p = subset(params, n)
            dt, res = timed(lambda p=p: plan_nodes(p, backup_root=BACKUPS))
            trips = {r.round_trips for r in res.runs.values()}  # type: ignore[attr-defined]
            rows[n] = dt
            print(f"  {n:3d} node(s): {dt * 1000:7.0f} ms   SSH round trips per node: {sorted(trips)}")
        print(f"  {args.nodes} nodes / 1 node: {rows[args.nodes] / rows[1]:.2f}x  (goal <= 2x)")

        print("\n== apply on fresh nodes (runbooklib) then converged re-run")
        t0 = time.perf_counter()
        res = prep_nodes(params, backup_root=BACKUPS)
        first = time.perf_counter() - t0
        trips = sorted({r.round_trips for r in res.runs.values()})
        print(f"  first apply: {first:.2f}s, ok={res.ok}, changed steps={res.changed}, round trips per node {trips}")
        ours, res2 = timed(lambda: prep_nodes(params, backup_root=BACKUPS))
        print(f"  converged apply (facts + plan + verify, 0 changes={res2.changed == 0}): {ours:.2f}s")  # type: ignore[attr-defined]

        print("\n== ansible-core playbook, same steps, same nodes (converged: every task ok)")
        forks = max(args.nodes, 5)
        ansible_run(params, tmp, forks)  # first run on our converged nodes, warms ControlPersist
        ans, _ = timed(lambda: ansible_run(params, tmp, forks), repeat=2)
        print(f"  ansible-playbook ({forks} forks): {ans:.2f}s")
        print(f"\nratio ours/ansible on {args.nodes} nodes (converged run): {ours / ans:.3f}  "
              f"(ansible is {ans / ours:.1f}x slower; goal >= 5x)")
        print(f"ratio ours-plan/ansible on {args.nodes} nodes: {rows[args.nodes] / ans:.3f}")
    finally:
        if not args.keep:
            lab.down()
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
