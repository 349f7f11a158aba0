"""Rules across NADs and the segment: pools vs static occupants, pools vs other NADs' pools,
and the namespace each NAD lives in (pure: the caller supplies what it knows)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from runbooklib.nad.config_rules import ParsedNad
from runbooklib.nad.findings import RuleBook
from runbooklib.nad.pools import parse_ip, pool_overlap
from runbooklib.params import Params
from runbooklib.results import Finding


@dataclass(frozen=True)
class StaticOccupant:
    """An address on the segment that is not whereabouts' to hand out (NAS, a node's own NIC)."""

    address: str
    name: str
    kind: str = "static"  # "static" | "node"


def static_occupants(params: Params) -> list[StaticOccupant]:
    out = [StaticOccupant(n.storage_nic.address, f"node {n.name} {n.storage_nic.name}", "node") for n in params.nodes]
    out += [StaticOccupant(h.address, h.name + (f" ({h.note})" if h.note and h.note != h.name else ""), "static")
            for h in params.static_hosts]
    return out


def validate_pools(nads: list[ParsedNad], occupants: Iterable[StaticOccupant]) -> list[Finding]:
    """Pool vs static occupants, and pool vs every other NAD's pool on the same segment."""
    occupants = list(occupants)
    findings: list[Finding] = []
    for i, nad in enumerate(nads):
        pool = nad.pool
        if pool is None:
            continue
        book = RuleBook(nad.ref)
        book.ran("pools.static", f"pool {pool.describe()} holds no static occupant")
        for occ in occupants:
            addr = parse_ip(occ.address)
            if addr is not None and pool.contains(addr):
                book.fail("pools.static", "spec.config.ipam", f"pool {pool.describe()} contains {addr}, already used by {occ.name}; "
                          "whereabouts would hand it out", [f"add {addr}/{addr.max_prefixlen} to ipam.exclude",
                                                            "or move range_start/range_end so the pool avoids it"],
                          address=str(addr), occupant=occ.name, right_value={"exclude_add": f"{addr}/{addr.max_prefixlen}"})
        book.ran("pools.overlap", "pool overlaps no other NAD's pool")
        for j, other in enumerate(nads):
            if j == i or other.pool is None:
                continue
            span = pool_overlap(pool, other.pool)
            if span is None:
                continue
            _overlap_finding(book, nad, other, f"{span[0]}-{span[1]}")
        findings += book.finish()
    return findings


def _overlap_finding(book: RuleBook, nad: ParsedNad, other: ParsedNad, span: str) -> None:
    a, b = nad.pool, other.pool
    assert a is not None and b is not None
    same_l2 = nad.master is None or other.master is None or nad.master == other.master
    protected = a.overlapping_ranges and b.overlapping_ranges and a.network_name == b.network_name
    evidence = {"overlap": span, "other": other.ref, "same_master": same_l2}
    other_cluster = "whereabouts cannot see another cluster using the same VLAN and CIDR; keep ranges disjoint across clusters too"
    if protected:
        book.warn("pools.overlap", "spec.config.ipam.range",
                  f"pool overlaps {other.ref} at {span}; the cluster-wide overlapping-range reservation keeps them apart "
                  "in this cluster", ["give each NAD its own disjoint range", other_cluster], **evidence)
        return
    why = []
    if not a.overlapping_ranges:
        why.append(f"{nad.ref} sets enable_overlapping_ranges false")
    if not b.overlapping_ranges:
        why.append(f"{other.ref} sets enable_overlapping_ranges false")
    if a.network_name != b.network_name:
        why.append(f"network_name differs ({a.network_name or '(none)'} vs {b.network_name or '(none)'})")
    where = "on the same L2 (same master)" if same_l2 else f"(masters {nad.master} and {other.master}: same L2 if they share a VLAN)"
    severity_fail = same_l2
    message = (f"pool overlaps {other.ref} at {span} {where} and {'; '.join(why)}, so both can hand out the same address")
    fixes = ["disjoint ranges, or enable_overlapping_ranges true (default) on both and the same (or no) network_name",
             other_cluster]
    if severity_fail:
        book.fail("pools.overlap", "spec.config.ipam.range", message, fixes, **evidence)
    else:
        book.warn("pools.overlap", "spec.config.ipam.range", message, fixes, **evidence)


def validate_namespaces(nads: list[ParsedNad], namespaces: set[str]) -> list[Finding]:
    """Each NAD's namespace exists in the cluster."""
    findings: list[Finding] = []
    for nad in nads:
        book = RuleBook(nad.ref)
        book.ran("namespace.exists", f"namespace {nad.document.namespace} exists")
        if nad.document.namespace not in namespaces:
            book.fail("namespace.exists", "metadata.namespace", f"namespace {nad.document.namespace!r} does not exist",
                      [f"kubectl create namespace {nad.document.namespace}", "or fix metadata.namespace"])
        findings += book.finish()
    return findings
