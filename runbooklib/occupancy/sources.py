"""Turning params and Kubernetes objects (dict form) into `OccupancyInputs` parts."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from runbooklib.nad.annotations import NETWORK_STATUS_ANNOTATION, parse_network_status
from runbooklib.nad.config_rules import validate_config
from runbooklib.nad.document import NadDocument, documents_from_params
from runbooklib.nad.pools import IPNetwork, parse_ip, parse_net
from runbooklib.nad.set_rules import static_occupants
from runbooklib.occupancy.model import (
    Allocation,
    NodeState,
    OccupancyInputs,
    PodState,
    PoolSource,
    Reservation,
    StaticHolder,
    gc_paused,
    ip_int,
)
from runbooklib.params import Params

Obj = dict[str, Any]


def pools_from_documents(docs: Iterable[NadDocument]) -> list[PoolSource]:
    out = []
    for doc in docs:
        nad, _ = validate_config(doc)
        if nad.pool is not None:
            out.append(PoolSource(nad.ref, nad.pool))
    return out


def inputs_from_params(params: Params) -> OccupancyInputs:
    """Static occupants and NAD pools: the offline table."""
    pools = pools_from_documents(documents_from_params(params))
    statics = [StaticHolder(int(a), o.name, o.kind) for o in static_occupants(params) if (a := parse_ip(o.address)) is not None]
    subnets: list[IPNetwork] = []
    seg = parse_net(params.storage_network.cidr)
    if seg is not None:
        subnets.append(seg)
    subnets += [p.pool.network for p in pools]
    version = seg.version if seg is not None else (pools[0].pool.network.version if pools else 4)
    return OccupancyInputs(version=version, subnets=subnets, pools=pools, statics=statics)


def allocations_from_ippool(obj: Obj) -> list[Allocation]:
    """`spec.allocations` keys are decimal offsets from the network address of `spec.range`."""
    spec = obj.get("spec") or {}
    net = parse_net(spec.get("range"))
    if net is None:
        return []
    base = int(net.network_address)
    name = str((obj.get("metadata") or {}).get("name") or "")
    rng = str(net)
    out: list[Allocation] = []
    append = out.append
    with gc_paused():
        for key, value in (spec.get("allocations") or {}).items():
            try:
                offset = int(key)
            except (TypeError, ValueError):
                continue
            if not value:
                append(Allocation(base + offset, name, rng, offset, ""))
                continue
            get = value.get
            append(Allocation(base + offset, name, rng, offset, get("podref") or "", get("id") or "", get("ifname") or ""))
    return out


def address_from_reservation_name(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`192.168.205.10`, `<network_name>-192.168.205.10`, `fd00--5` (':' written as '-')."""
    candidates = [name] + [name[i + 1:] for i, c in enumerate(name) if c == "-"]
    for cand in candidates:
        addr = parse_ip(cand) or (parse_ip(cand.replace("-", ":")) if "." not in cand else None)
        if addr is not None:
            return addr
    return None


def reservations_from_objects(objs: Iterable[Obj]) -> list[Reservation]:
    out = []
    for obj in objs:
        name = str((obj.get("metadata") or {}).get("name") or "")
        addr = address_from_reservation_name(name)
        if addr is None:
            continue
        spec = obj.get("spec") or {}
        out.append(Reservation(int(addr), name, str(spec.get("podref") or ""), str(spec.get("ifname") or ""),
                               str(spec.get("containerid") or "")))
    return out


def pod_from_object(obj: Obj) -> PodState:
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    raw_status = (meta.get("annotations") or {}).get(NETWORK_STATUS_ANNOTATION)
    conditions = status.get("conditions")
    evicted = bool(conditions) and any(
        c.get("type") == "DisruptionTarget" and str(c.get("status")) == "True" and c.get("reason") == "DeletionByTaintManager"
        for c in conditions)
    return PodState(f"{meta.get('namespace', 'default')}/{meta.get('name', '')}",
                    str((obj.get("spec") or {}).get("nodeName") or ""), str(status.get("phase") or "Pending"),
                    bool(meta.get("deletionTimestamp")), evicted, raw_status is not None,
                    _status_ips(raw_status) if raw_status else {})


def _status_ips(raw_status: str) -> dict[int, str]:
    """Address -> network-status entry name, for every non-default entry (one JSON decode per pod)."""
    ips: dict[int, str] = {}
    for entry in parse_network_status(raw_status):
        if entry.get("default"):
            continue
        addresses = entry.get("ips")
        if not addresses:
            continue
        name = str(entry.get("name") or "")
        for ip in addresses:
            addr = ip_int(str(ip).partition("/")[0])
            if addr is not None:
                ips[addr] = name
    return ips


def pods_from_objects(objs: Iterable[Obj]) -> dict[str, PodState]:
    with gc_paused():
        return {p.ref: p for p in map(pod_from_object, objs)}


def node_from_object(obj: Obj) -> NodeState:
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    ready = any(c.get("type") == "Ready" and str(c.get("status")) == "True" for c in status.get("conditions") or [])
    taints = (obj.get("spec") or {}).get("taints") or []
    unreachable = any(str(t.get("key")) == "node.kubernetes.io/unreachable" for t in taints)
    return NodeState(str(meta.get("name") or ""), ready, unreachable)


def nodes_from_objects(objs: Iterable[Obj]) -> dict[str, NodeState]:
    return {n.name: n for n in map(node_from_object, objs)}
