"""Micro-benchmark of the lab API with the official client: creates, gets, lists, patches per second.

Usage: ``python bench/bench_api.py [N]`` (default 200 objects). Prints one line per operation.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kubernetes import client, config

from runbooklib.lab.api import LabApiServer


def timed(label: str, n: int, fn: Callable[[int], object]) -> None:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    elapsed = time.perf_counter() - start
    print(f"{label:<8} {n:>5} ops  {elapsed * 1000 / n:6.2f} ms/op  {n / elapsed:8.0f} ops/s")


def main(n: int = 200) -> None:
    with tempfile.TemporaryDirectory() as tmp, LabApiServer(Path(tmp) / "state", nodes=["n1", "n2"]) as api:
        cfg = client.Configuration()
        config.load_kube_config(config_file=str(api.write_kubeconfig(Path(tmp) / "kc")), client_configuration=cfg)
        core = client.CoreV1Api(client.ApiClient(cfg))
        timed("create", n, lambda i: core.create_namespaced_config_map("default", {"metadata": {"name": f"c{i}"}}))
        timed("get", n, lambda i: core.read_namespaced_config_map(f"c{i}", "default"))
        timed("patch", n, lambda i: core.patch_namespaced_config_map(f"c{i}", "default", {"data": {"k": str(i)}}))
        timed("list", 20, lambda i: core.list_namespaced_config_map("default"))
        timed("pod", n // 4, lambda i: core.create_namespaced_pod("default", {
            "metadata": {"name": f"p{i}"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
