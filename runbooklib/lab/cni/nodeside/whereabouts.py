"""The lab's `whereabouts` IPAM executable: upstream v0.9.1's CNI behaviour over the lab API.

ADD: load config (search order + merge, see wbconfig), read the kubeconfig the config names, then
allocate in the IPPool `<range normalised>` (namespace = the kubeconfig context's, else
kube-system) with optimistic concurrency (resourceVersion, retry on 409), reserve the address
cluster-wide with an OverlappingRangeIPReservation when `enable_overlapping_ranges` (default
true), print the IPAM result. DEL: free this container id + ifname, drop the reservation.
Not modelled: the leader-election Lease (the resourceVersion check is the lock), node slices,
`ipRanges` with several ranges (only the first range is used), the reconciler.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from runbooklib.lab.cni.nodeside import ipam as ip
from runbooklib.lab.cni.nodeside.cniproto import CniError, parse_cni_args
from runbooklib.lab.cni.nodeside.kubeclient import ApiStatusError, KubeClient, ippools_path, orip_path
from runbooklib.lab.cni.nodeside.wbconfig import ConfigError, kubeconfig_target, load_ipam

VERSION = "v0.9.1-lab"
SUPPORTED = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
RETRIES = 20


def _log(ipam: dict[str, Any], msg: str) -> None:
    path = ipam.get("log_file")
    if path:
        try:
            with open(path, "a") as f:
                f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} [lab] {msg}\n")
        except OSError:
            pass


def _client(ipam: dict[str, Any]) -> tuple[KubeClient, str]:
    path = str(ipam["kubernetes"]["kubeconfig"])
    try:
        text = open(path).read()
    except FileNotFoundError as e:
        raise CniError(f"failed to create Kubernetes IPAM manager: failed instantiating kubernetes client: "
                       f"stat {path}: no such file or directory") from e
    try:
        server, token, namespace = kubeconfig_target(text)
    except (ConfigError, ValueError, AttributeError) as e:
        raise CniError(f"failed to create Kubernetes IPAM manager: {e}") from e
    return KubeClient(server, token), namespace


def _pool(client: KubeClient, ns: str, name: str, cidr: str) -> dict[str, Any]:
    pool = client.get(ippools_path(ns, name))
    if pool is None:
        body = {"apiVersion": "whereabouts.cni.cncf.io/v1alpha1", "kind": "IPPool",
                "metadata": {"name": name, "namespace": ns}, "spec": {"range": cidr, "allocations": {}}}
        try:
            pool = client.create(ippools_path(ns), body)
        except ApiStatusError as e:
            if e.status != 409:
                raise
            pool = client.get(ippools_path(ns, name)) or body
    pool.setdefault("spec", {}).setdefault("allocations", {})
    return pool


def allocate(client: KubeClient, ns: str, cfg: dict[str, Any], container_id: str, podref: str,
             ifname: str) -> ip.Allocation:
    rng = ip.parse_range(cfg)
    network_name = str(cfg.get("network_name", "") or "")
    name = ip.pool_name(rng.cidr, network_name)
    overlap = cfg.get("enable_overlapping_ranges", True) is not False
    taken: set[str] = set()
    for _ in range(RETRIES):
        pool = _pool(client, ns, name, rng.cidr)
        state = ip.PoolState(dict(pool["spec"]["allocations"]))
        got = ip.assign(rng, state, container_id, podref, ifname, taken)
        if overlap and not got.reused:
            res = client.get(orip_path(ns, ip.normalize_ip(str(got.ip), network_name)))
            if res is not None and res.get("spec", {}).get("podref") != podref:
                taken.add(str(got.ip))
                continue
        pool["spec"]["allocations"] = state.allocations
        try:
            client.replace(ippools_path(ns, name), pool)
        except ApiStatusError as e:
            if e.status == 409:
                time.sleep(0.05)
                continue
            raise
        if overlap:
            _reserve(client, ns, str(got.ip), network_name, podref, ifname)
        return got
    raise CniError(f"error reserving IP in {name}: too many conflicting updates")


def _reserve(client: KubeClient, ns: str, addr: str, network_name: str, podref: str, ifname: str) -> None:
    name = ip.normalize_ip(addr, network_name)
    body = {"apiVersion": "whereabouts.cni.cncf.io/v1alpha1", "kind": "OverlappingRangeIPReservation",
            "metadata": {"name": name, "namespace": ns}, "spec": {"podref": podref, "ifname": ifname}}
    try:
        client.create(orip_path(ns), body)
    except ApiStatusError as e:
        if e.status != 409:
            raise


def deallocate(client: KubeClient, ns: str, cfg: dict[str, Any], container_id: str, ifname: str) -> list[str]:
    rng = ip.parse_range(cfg)
    network_name = str(cfg.get("network_name", "") or "")
    name = ip.pool_name(rng.cidr, network_name)
    for _ in range(RETRIES):
        pool = client.get(ippools_path(ns, name))
        if pool is None:
            return []
        state = ip.PoolState(dict(pool.get("spec", {}).get("allocations") or {}))
        freed = ip.release(state, container_id, ifname)
        if not freed:
            return []
        pool["spec"]["allocations"] = state.allocations
        try:
            client.replace(ippools_path(ns, name), pool)
        except ApiStatusError as e:
            if e.status == 409:
                continue
            raise
        addrs = [str(ip.ip_of(rng, off)) for off in freed]
        for a in addrs:
            client.delete(orip_path(ns, ip.normalize_ip(a, network_name)))
        return addrs
    raise CniError(f"error deallocating IP in {name}: too many conflicting updates")


def run(command: str, env: dict[str, str], stdin: str) -> dict[str, Any] | None:
    try:
        netconf = json.loads(stdin or "{}")
    except ValueError as e:
        raise CniError("error parsing network config", 6, str(e)) from e
    try:
        cfg = load_ipam(netconf)
    except ConfigError as e:
        raise CniError(str(e)) from e
    except ValueError as e:
        raise CniError(f"error parsing flat config: {e}") from e
    args = parse_cni_args(env.get("CNI_ARGS", ""))
    pod, ns_of_pod = args.get("K8S_POD_NAME", ""), args.get("K8S_POD_NAMESPACE", "")
    if not pod:
        raise CniError("IPAM client initialization error: no pod name")
    client, pool_ns = _client(cfg)
    container_id, ifname = env.get("CNI_CONTAINERID", ""), env.get("CNI_IFNAME", "")
    try:
        if command == "ADD":
            got = allocate(client, pool_ns, cfg, container_id, f"{ns_of_pod}/{pod}", ifname)
            _log(cfg, f"allocated {got.ip} (offset {got.offset}) to {ns_of_pod}/{pod} {ifname}")
            return ip.cni_result(str(netconf.get("cniVersion", "0.3.1")), ip.parse_range(cfg), got.ip, cfg)
        if command == "DEL":
            freed = deallocate(client, pool_ns, cfg, container_id, ifname)
            _log(cfg, f"released {freed} of {ns_of_pod}/{pod} {ifname}")
        return None
    except ip.IpamError as e:
        raise CniError(str(e)) from e
    except ApiStatusError as e:
        raise CniError(f"k8s IPAM: {e.message}") from e


def main() -> int:
    command = os.environ.get("CNI_COMMAND", "")
    if command == "VERSION":
        print(json.dumps({"cniVersion": "1.1.0", "supportedVersions": SUPPORTED}, separators=(",", ":")))
        return 0
    if not command:
        sys.stderr.write(f"CNI whereabouts plugin {VERSION}\nCNI protocol versions supported: {', '.join(SUPPORTED)}\n")
        return 0
    stdin = sys.stdin.read()
    version = "0.3.1"
    try:
        version = str(json.loads(stdin or "{}").get("cniVersion", version))
    except ValueError:
        pass
    need = ["CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"] + (["CNI_NETNS"] if command == "ADD" else [])
    missing = [v for v in need if not os.environ.get(v)]
    if missing:
        print(CniError(f"required env variables [{','.join(missing)}] missing", 4).to_json(version))
        return 1
    try:
        result = run(command, dict(os.environ), stdin)
    except CniError as e:
        print(e.to_json(version))
        return 1
    if result is not None:
        print(json.dumps(result))
    return 0
