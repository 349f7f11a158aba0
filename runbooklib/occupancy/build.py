"""The address table: one row per address that matters, each with a state, from every source.

Built with dicts keyed by integer address and column lists (no per-row DataFrame work), so a /16
pool with 50,000 allocations builds in well under a second (see bench/bench_occupancy.py).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runbooklib.nad.pools import IPNetwork
from runbooklib.occupancy.model import (
    USED_STATES,
    AddressState,
    Allocation,
    OccupancyInputs,
    PodState,
    PoolSource,
    ip_text,
)
from runbooklib.results import Finding

if TYPE_CHECKING:
    import pandas as pd

S = AddressState
COLUMNS = ["subnet", "address", "state", "holder", "pool", "source", "offset", "container_id", "ifname",
           "pod_phase", "node", "detail"]
_COUNTED_USED = {x.value for x in USED_STATES} - {AddressState.OUT_OF_POOL.value}
PENDING_TEXT = "in use (pod Pending, status not written yet) - not an orphan"
UNVERIFIED_TEXT = ("pod Running but network-status missing - check Multus can patch pod status; the reconciler "
                   "matches by network-status and may free this IP")


@dataclass
class Occupancy:
    """The table (`frame`), per-pool `summary`, `findings` and what was `skipped`."""

    frame: pd.DataFrame
    summary: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    subnets: list[IPNetwork] = field(default_factory=list)

    def addresses(self, state: AddressState | str, pool: str | None = None) -> list[str]:
        f = self.frame
        mask = f["state"] == str(state)
        if pool is not None:
            mask &= f["pool"] == pool
        return f.loc[mask, "address"].tolist()

    def in_subnet(self, subnet: str = "") -> pd.DataFrame:
        """The rows of one subnet (as written in the `subnet` column, e.g. "198.18.205.0/24");
        the whole frame when `subnet` is empty."""
        return self.frame if not subnet else self.frame[self.frame["subnet"] == subnet]

    def subnets_matching(self, subnet: str = "") -> list[IPNetwork]:
        """The subnets equal to `subnet` (as text); every subnet when it is empty."""
        return [s for s in self.subnets if not subnet or str(s) == subnet]

    def tables_by_subnet(self) -> dict[str, pd.DataFrame]:
        return {str(s): g.reset_index(drop=True) for s, g in self.frame.groupby("subnet", sort=False)}

    def to_dict(self) -> dict[str, Any]:
        from runbooklib.results import worst

        return {"severity": worst(self.findings).value, "skipped": self.skipped,
                "summary": self.summary.to_dict(orient="records"),
                "findings": [f.to_dict() for f in self.findings],
                "rows": self.frame.to_dict(orient="records")}


@dataclass(slots=True)
class _Row:
    state: AddressState
    holder: str = ""
    pool: str = ""
    source: str = ""
    offset: int | None = None
    container_id: str = ""
    ifname: str = ""
    pod_phase: str = ""
    node: str = ""
    detail: str = ""


class _Index:
    """Holders by address plus pool lookup, built once. Single holders are stored bare (the common
    case); a second holder at an address turns the entry into a list."""

    def __init__(self, inputs: OccupancyInputs) -> None:
        self.inputs = inputs
        self.allocs = _group(inputs.allocations)
        self.resv = _group(inputs.reservations)
        self.statics = _group(inputs.statics)
        status: dict[int, list[PodState]] = defaultdict(list)
        for pod in (inputs.pods or {}).values():
            for addr in pod.status_ips:
                status[addr].append(pod)
        self.status = dict(status)
        self.live = {x.address: x for x in inputs.live or []}
        self.pools = [(p, p.pool.first_int, p.pool.last_int,
                       [(int(e.network_address), int(e.broadcast_address)) for e in p.pool.excludes]) for p in inputs.pools]

    def pool_at(self, addr: int) -> tuple[PoolSource | None, bool]:
        """(pool whose first..last holds addr, excluded there?) - a non-excluded match wins."""
        hit: tuple[PoolSource | None, bool] = (None, False)
        for p, lo, hi, ex in self.pools:
            if lo <= addr <= hi:
                if not ex or not any(a <= addr <= b for a, b in ex):
                    return p, False
                hit = (p, True)
        return hit


def _group(items: Any) -> dict[int, list[Any]]:
    """Items by their `address` (lists, built without per-item list churn for unique addresses)."""
    out: dict[int, list[Any]] = {}
    for item in items:
        lst = out.get(item.address)
        if lst is None:
            out[item.address] = [item]
        else:
            lst.append(item)
    return out


def _pod_row(alloc: Allocation, pod: PodState | None, inputs: OccupancyInputs, row: _Row) -> None:
    """State of an allocation from its pod (pods known)."""
    if pod is None:
        row.state, row.detail = S.STALE, f"pod {alloc.podref} is gone: the allocation is an orphan"
        return
    row.pod_phase, row.node = pod.phase, pod.node
    node = inputs.nodes.get(pod.node)
    if (node is not None and not node.reachable) or pod.evicted_by_taint_manager:
        why = "being deleted by the taint manager" if pod.deleting or pod.evicted_by_taint_manager else "node not ready"
        row.state = S.HELD_UNREACHABLE
        row.detail = (f"held by pod on unreachable node {pod.node or '?'} ({why}); reclaimable once the pod is gone - do not "
                      "hand-release while the node may come back")
        return
    if pod.has_network_status:
        if alloc.address in pod.status_ips:
            row.state, row.detail = S.ALLOCATED, f"pod {pod.phase}" + (f" on {pod.node}" if pod.node else "") + "; network-status agrees"
        else:
            row.state, row.detail = S.STALE, f"pod {alloc.podref} is present but its network-status does not list this IP"
        return
    if pod.phase == "Pending":
        row.state, row.detail = S.PENDING, PENDING_TEXT
    elif pod.phase == "Running":
        row.state, row.detail = S.UNVERIFIED, UNVERIFIED_TEXT
    else:
        row.state, row.detail = S.STALE, f"pod {alloc.podref} is {pod.phase}: the allocation is an orphan"


def _classify_single_allocation(addr: int, idx: _Index) -> _Row | None:
    """The common case (one allocation, nothing else but its own pod's status) without the general
    bookkeeping; None when the general path is needed."""
    allocs = idx.allocs.get(addr)
    if not allocs or len(allocs) != 1 or addr in idx.statics or addr in idx.resv or addr in idx.live:
        return None
    a = allocs[0]
    status_pods = idx.status.get(addr)
    if status_pods and (len(status_pods) != 1 or status_pods[0].ref != a.podref):
        return None
    pool, excluded = idx.pool_at(addr)
    pods = idx.inputs.pods
    if pool is None or excluded or pods is None:
        return None
    row = _Row(S.FREE, a.podref, pool.nad, "ippool,network-status" if status_pods else "ippool", a.offset,
               a.container_id, a.ifname)
    _pod_row(a, pods.get(a.podref), idx.inputs, row)
    return row


def _classify(addr: int, idx: _Index) -> _Row:
    fast = _classify_single_allocation(addr, idx)
    if fast is not None:
        return fast
    inputs = idx.inputs
    pool, excluded = idx.pool_at(addr)
    pool_name = pool.nad if pool else ""
    allocs = idx.allocs.get(addr, [])
    statics = idx.statics.get(addr, [])
    resv = idx.resv.get(addr, [])
    status_pods = idx.status.get(addr, [])
    live = idx.live.get(addr)
    sources = [n for n, has in (("static", statics), ("ippool", allocs), ("reservation", resv),
                                ("network-status", status_pods), ("live", live)) if has]
    row = _Row(S.FREE, pool=pool_name, source=",".join(sources))

    holders: list[str] = [s.name for s in statics]
    podrefs = sorted({a.podref for a in allocs} | {r.podref for r in resv if r.podref}
                     | {p.ref for p in status_pods if not p.deleting})
    holders += podrefs
    if allocs:
        a = allocs[0]
        row.offset, row.container_id, row.ifname = a.offset, a.container_id, a.ifname
    row.holder = ", ".join(holders)

    if statics and (allocs or podrefs):
        row.state, row.detail = S.CONFLICT, f"static host {statics[0].name} and pod {', '.join(podrefs)} share the address"
        return row
    if len(holders) > 1:
        row.state, row.detail = S.DUPLICATE, "held by " + " and ".join(holders)
        return row
    if statics:
        if pool is not None and not excluded:
            row.state = S.CONFLICT
            row.detail = f"{statics[0].name} is a static host inside the pool of {pool_name}: whereabouts may hand it out"
        else:
            what = "node NIC" if statics[0].kind == "node" else "static host"
            row.state, row.detail = S.RESERVED, f"{what} from params" + (" (in ipam.exclude)" if excluded else ", outside every pool")
        return row
    if allocs:
        a = allocs[0]
        if pool is None or excluded:
            row.state = S.OUT_OF_POOL
            row.detail = (f"allocation in {a.pool_name} is inside ipam.exclude of {pool_name}" if excluded
                          else f"allocation in {a.pool_name} is outside every NAD pool's range_start..range_end")
            if inputs.pods is not None:
                row.pod_phase = inputs.pods[a.podref].phase if a.podref in inputs.pods else "(gone)"
            return row
        if inputs.pods is None:
            row.state, row.detail = S.ALLOCATED, "allocation (pods not checked)"
            return row
        _pod_row(a, inputs.pods.get(a.podref), inputs, row)
        return row
    if status_pods:
        pod = status_pods[0]
        row.pod_phase, row.node = pod.phase, pod.node
        if resv:
            row.state, row.detail = S.ALLOCATED, "held through an overlapping-range reservation; network-status agrees"
        else:
            row.state = S.MISSING
            row.detail = f"pod {pod.ref} has this IP in network-status ({pod.status_ips[addr]}) but no IPPool allocation exists"
        return row
    if resv:
        r = resv[0]
        pod = (inputs.pods or {}).get(r.podref)
        if inputs.pods is not None and pod is None:
            row.state, row.detail = S.STALE, f"overlapping-range reservation {r.name} for gone pod {r.podref}"
        else:
            row.state, row.detail = S.ALLOCATED, f"overlapping-range reservation {r.name} (another range or network)"
        return row
    if live is not None and pool is not None and not excluded:
        row.state = S.CONFLICT
        row.holder = f"unknown host {live.mac}".strip()
        row.detail = f"a host answers here (seen from {live.seen_from}) but nothing in params or whereabouts holds it"
        return row
    if live is not None:
        row.state, row.holder = S.RESERVED, f"unknown host {live.mac}".strip()
        row.detail = f"answers on the segment (seen from {live.seen_from}); not in params - add it to static_hosts"
        return row
    row.state = S.EXCLUDED if excluded else S.FREE
    if excluded:
        row.detail = f"in ipam.exclude of {pool_name}"
    return row


def _subnets(inputs: OccupancyInputs) -> list[IPNetwork]:
    from runbooklib.nad.pools import parse_net

    nets = list(inputs.subnets)
    for text in {a.pool_range for a in inputs.allocations}:
        n = parse_net(text)
        if n is not None and n not in nets:
            nets.append(n)
    nets = sorted(set(nets), key=lambda n: (n.version, n.prefixlen, int(n.network_address)))
    top: list[IPNetwork] = []
    for n in nets:
        if not any(n.version == t.version and n.subnet_of(t) for t in top):  # type: ignore[arg-type]
            top.append(n)
    return sorted(top, key=lambda n: (n.version, int(n.network_address)))


def build_occupancy(inputs: OccupancyInputs, *, include_free: bool = True) -> Occupancy:
    """The table, summary and findings. `include_free=False` leaves free pool addresses out of
    the rows (they are still counted in the summary)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # bulk creation of small objects: generational GC passes would dominate
    try:
        return _build(inputs, include_free)
    finally:
        if gc_was_enabled:
            gc.enable()


def _build(inputs: OccupancyInputs, include_free: bool) -> Occupancy:
    import pandas as pd

    from runbooklib.occupancy.findings import occupancy_findings

    idx = _Index(inputs)
    subnets = _subnets(inputs)
    bounds = [(int(s.network_address), int(s.broadcast_address), str(s)) for s in subnets]
    interesting = set(idx.allocs) | set(idx.statics) | set(idx.resv) | set(idx.live)
    interesting |= {a for a in idx.status if any(lo <= a <= hi for lo, hi, _ in bounds)}
    rows: dict[int, _Row] = {a: _classify(a, idx) for a in interesting}
    free_counts: dict[str, int] = defaultdict(int)
    for p, lo, hi, ex in idx.pools:
        for addr in range(lo, hi + 1):
            if addr in rows:
                continue
            if ex and any(a <= addr <= b for a, b in ex):
                rows[addr] = _Row(S.EXCLUDED, pool=p.nad, detail=f"in ipam.exclude of {p.nad}")
            elif include_free:
                rows[addr] = _Row(S.FREE, pool=p.nad)
            else:
                free_counts[p.nad] += 1
    order = sorted(rows)
    version = inputs.version
    subnet_col = []
    bi = 0
    for a in order:
        while bi < len(bounds) and a > bounds[bi][1]:
            bi += 1
        subnet_col.append(bounds[bi][2] if bi < len(bounds) and bounds[bi][0] <= a else "")
    cols: dict[str, list[Any]] = {"subnet": subnet_col, "address": [ip_text(a, version) for a in order]}
    ordered_rows = [rows[a] for a in order]
    for name in COLUMNS[2:]:
        cols[name] = [getattr(r, name) for r in ordered_rows]
    value_of = {st: st.value for st in AddressState}
    cols["state"] = [value_of[r.state] for r in ordered_rows]
    frame = pd.DataFrame(cols, columns=COLUMNS)
    frame["offset"] = frame["offset"].astype("Int64")
    summary = _summary(inputs, frame, free_counts)
    occ = Occupancy(frame, summary, [], list(inputs.skipped), subnets)
    occ.findings = occupancy_findings(occ)
    return occ


def _summary(inputs: OccupancyInputs, frame: pd.DataFrame, free_counts: dict[str, int]) -> pd.DataFrame:
    import pandas as pd

    counts = frame.groupby(["pool", "state"]).size() if len(frame) else pd.Series(dtype=int)
    records = []
    for p in inputs.pools:
        by_state = {str(k[1]): int(v) for k, v in counts.items() if k[0] == p.nad} if len(counts) else {}
        size = p.pool.size()
        free = by_state.get(S.FREE.value, 0) + free_counts.get(p.nad, 0)
        used = sum(n for s, n in by_state.items() if s in _COUNTED_USED)
        records.append({
            "pool": p.nad, "range": str(p.pool.network), "first": str(p.pool.first), "last": str(p.pool.last),
            "size": size, "used": used, "free": free, "stale": by_state.get(S.STALE.value, 0),
            "held_unreachable": by_state.get(S.HELD_UNREACHABLE.value, 0), "pending": by_state.get(S.PENDING.value, 0),
            "conflicts": by_state.get(S.CONFLICT.value, 0) + by_state.get(S.DUPLICATE.value, 0),
            "headroom_pct": round(100.0 * free / size, 1) if size else 0.0,
        })
    return pd.DataFrame(records, columns=["pool", "range", "first", "last", "size", "used", "free", "stale",
                                          "held_unreachable", "pending", "conflicts", "headroom_pct"])
