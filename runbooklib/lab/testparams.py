"""Generate lab params files (tests, bench): N nodes, own cluster name, state dir and mgmt CIDR."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import yaml


def lab_params(cluster: str, n_nodes: int, state_dir: str, mgmt_cidr: str,
               storage_cidr: str = "198.18.205.0/24", nas_host: int = 100) -> dict[str, Any]:
    mgmt = ipaddress.ip_network(mgmt_cidr)
    storage = ipaddress.ip_network(storage_cidr)
    gw = mgmt.network_address + 1
    key = f"{state_dir}/ssh/id_ed25519"
    nodes = []
    for i in range(n_nodes):
        nodes.append({
            "name": f"n{i + 1}",
            "ssh": {"host": str(mgmt.network_address + 11 + i), "user": "root", "key_file": key},
            "sudo": "root",
            "roles": ["server"] if i == 0 else ["agent"],
            "storage_nic": {"name": "ens2", "address": str(storage.network_address + 101 + i + (1 if 101 + i >= nas_host else 0))},
        })
    url = f"http://{gw}:18080/cni-plugins-linux-amd64-v1.6.2.tgz"
    return {
        "cluster": cluster,
        "kubeconfig": {"path": f"{state_dir}/kubeconfig"},
        "ssh": {"verify_host_keys": True, "known_hosts": f"{state_dir}/ssh/known_hosts", "parallel": 8},
        "lab": {"state_dir": state_dir, "mgmt_cidr": mgmt_cidr},
        "artifacts": {"cni_plugins": {"url": url, "sha256_url": url + ".sha256"}},
        "storage_network": {"cidr": storage_cidr, "mtu": 9000},
        "nodes": nodes,
        "static_hosts": [{"name": "nas", "address": str(storage.network_address + nas_host)}],
    }


def write_lab_params(path: Path, **kwargs: Any) -> Path:
    path.write_text(yaml.safe_dump(lab_params(**kwargs), sort_keys=False))
    return path
