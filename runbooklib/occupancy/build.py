"""The address table: one row per address that matters, each with a state, from every source.

Built with dicts keyed by integer address and column lists (no per-row DataFrame work), so a /16
pool with 50,000 allocations builds in well under a second (see bench/bench_occupancy.py).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runbooklib.nad.pools import IPNetwork
from runbooklib.occupancy.model import (
    USED_STATES,
    AddressState,
    Allocation,
    NodeState,
    OccupancyInputs,
    PodState,
    PoolSource,
    gc_paused,
    ip_texts,
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


# (state value, holder, pool, source, offset, container_id, ifname, pod_phase, node, detail): COLUMNS[2:]
RowValues = tuple[str, str, str, str, int | None, str, str, str, str, str]
_TEXT: dict[AddressState, str] = {st: st.value for st in AddressState}


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

    def values(self) -> RowValues:
        return (_TEXT[self.state], self.holder, self.pool, self.source, self.offset, self.container_id, self.ifname,
                self.pod_phase, self.node, self.detail)


PoolEntry = tuple[PoolSource, int, int, list[tuple[int, int]]]  # pool, first, last, excluded (lo, hi) spans


class _Index:
    """Holders by address (lists) plus pool lookup, built once."""

    def __init__(self, inputs: OccupancyInputs) -> None:
        self.inputs = inputs
        self.allocs = _group(inputs.allocations)
        self.resv = _group(inputs.reservations)
        self.statics = _group(inputs.statics)
        status: dict[int, list[PodState]] = defaultdict(list)
        self.pods_keyed_by_ref = True  # every pods[ref].ref == ref: a pod found by address is pods[its ref]
        for ref, pod in (inputs.pods or {}).items():
            if pod.ref != ref:
                self.pods_keyed_by_ref = False
            for addr in pod.status_ips:
                status[addr].append(pod)
        self.status = dict(status)
        self.live = {x.address: x for x in inputs.live or []}
        self.pools: list[PoolEntry] = [
            (p, p.pool.first_int, p.pool.last_int,
             [(int(e.network_address), int(e.broadcast_address)) for e in p.pool.excludes]) for p in inputs.pools]
        # `pool_at` is constant between consecutive pool/exclude boundaries: evaluate it once per span
        starts: set[int] = set()
        for _, lo, hi, ex in self.pools:
            starts.update((lo, hi + 1))
            for a, b in ex:
                starts.update((a, b + 1))
        self.span_starts = sorted(starts)
        self.span_hits = [self._pool_at_scan(x) for x in self.span_starts]

    def pool_at(self, addr: int) -> tuple[PoolSource | None, bool]:
        """(pool whose first..last holds addr, excluded there?) - a non-excluded match wins."""
        i = bisect_right(self.span_starts, addr) - 1
        return self.span_hits[i] if i >= 0 else (None, False)

    def _pool_at_scan(self, addr: int) -> tuple[PoolSource | None, bool]:
        hit: tuple[PoolSource | None, bool] = (None, False)
        for p, lo, hi, ex in self.pools:
            if lo <= addr <= hi:
                if not ex or not any(a <= addr <= b for a, b in ex):
                    return p, False
                hit = (p, True)
        return hit


def _group(items: Any) -> dict[int, list[Any]]:
    """Items by their `address`, in lists; one comprehension when addresses are unique (the usual case)."""
    items = items if isinstance(items, list) else list(items)
    out: dict[int, list[Any]] = {item.address: [item] for item in items}
    if len(out) == len(items):
        return out
    out = {}
    for item in items:
        lst = out.get(item.address)
        if lst is None:
            out[item.address] = [item]
        else:
            lst.append(item)
    return out


def _pod_state(alloc: Allocation, pod: PodState | None,
               nodes: dict[str, NodeState]) -> tuple[AddressState, str, str, str]:
    """(state, detail, pod_phase, node) of an allocation from its pod (pods known)."""
    if pod is None:
        return S.STALE, f"pod {alloc.podref} is gone: the allocation is an orphan", "", ""
    node = nodes.get(pod.node)
    if (node is not None and not node.reachable) or pod.evicted_by_taint_manager:
        why = "being deleted by the taint manager" if pod.deleting or pod.evicted_by_taint_manager else "node not ready"
        return (S.HELD_UNREACHABLE,
                f"held by pod on unreachable node {pod.node or '?'} ({why}); reclaimable once the pod is gone - do not "
                "hand-release while the node may come back", pod.phase, pod.node)
    if pod.has_network_status:
        if alloc.address in pod.status_ips:
            detail = f"pod {pod.phase}" + (f" on {pod.node}" if pod.node else "") + "; network-status agrees"
            return S.ALLOCATED, detail, pod.phase, pod.node
        return S.STALE, f"pod {alloc.podref} is present but its network-status does not list this IP", pod.phase, pod.node
    if pod.phase == "Pending":
        return S.PENDING, PENDING_TEXT, pod.phase, pod.node
    if pod.phase == "Running":
        return S.UNVERIFIED, UNVERIFIED_TEXT, pod.phase, pod.node
    return S.STALE, f"pod {alloc.podref} is {pod.phase}: the allocation is an orphan", pod.phase, pod.node


def _pod_row(alloc: Allocation, pod: PodState | None, inputs: OccupancyInputs, row: _Row) -> None:
    """State of an allocation from its pod (pods known)."""
    row.state, row.detail, phase, node = _pod_state(alloc, pod, inputs.nodes)
    if pod is not None:
        row.pod_phase, row.node = phase, node


def _single_allocation_rows(idx: _Index) -> tuple[dict[int, RowValues], list[int]]:
    """Rows of the common case - one allocation, nothing else at the address but its own pod's
    network-status, inside a pool (not excluded), pods known - in one pass without the general
    bookkeeping; and the allocated addresses left for `_classify`. Same rows as `_classify`."""
    pods = idx.inputs.pods
    if pods is None:
        return {}, list(idx.allocs)
    rows: dict[int, RowValues] = {}
    rest: list[int] = []
    others = idx.statics.keys() | idx.resv.keys() | idx.live.keys()
    nodes = idx.inputs.nodes
    unreachable = {name for name, n in nodes.items() if not n.reachable}
    status, span_starts, span_hits, text = idx.status, idx.span_starts, idx.span_hits, _TEXT
    allocated, keyed_by_ref = text[S.ALLOCATED], idx.pods_keyed_by_ref
    agrees: dict[tuple[str, str], str] = {}  # (phase, node) -> detail of an allocated row
    for addr, allocs in idx.allocs.items():
        if len(allocs) != 1 or (others and addr in others):
            rest.append(addr)
            continue
        a = allocs[0]
        status_pods = status.get(addr)
        if status_pods and (len(status_pods) != 1 or status_pods[0].ref != a.podref):
            rest.append(addr)
            continue
        i = bisect_right(span_starts, addr) - 1  # idx.pool_at, inlined
        pool, excluded = span_hits[i] if i >= 0 else (None, False)
        if pool is None or excluded:
            rest.append(addr)
            continue
        source = "ippool,network-status" if status_pods else "ippool"
        # the pod whose network-status lists addr is the allocation's pod: no second lookup
        pod = status_pods[0] if status_pods and keyed_by_ref else pods.get(a.podref)
        if (pod is not None and pod.has_network_status and addr in pod.status_ips and pod.node not in unreachable
                and not pod.evicted_by_taint_manager):  # allocated, network-status agrees: `_pod_state`, shortened
            key = (pod.phase, pod.node)
            detail = agrees.get(key)
            if detail is None:
                detail = agrees[key] = _pod_state(a, pod, nodes)[1]
            rows[addr] = (allocated, a.podref, pool.nad, source, a.offset, a.container_id, a.ifname, pod.phase, pod.node,
                          detail)
            continue
        state, detail, phase, node = _pod_state(a, pod, nodes)
        rows[addr] = (text[state], a.podref, pool.nad, source, a.offset, a.container_id, a.ifname, phase, node, detail)
    return rows, rest


def _classify(addr: int, idx: _Index) -> _Row:
    """The general case (the common one is `_single_allocation_rows`)."""
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
    with gc_paused():  # bulk creation of small objects: generational GC passes would dominate
        return _build(inputs, include_free)


def _pool_spans(lo: int, hi: int, excludes: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """first..last of a pool cut into (lo, hi, excluded?) spans by its excludes."""
    cuts = sorted((max(a, lo), min(b, hi)) for a, b in excludes if a <= hi and b >= lo)
    spans: list[tuple[int, int, bool]] = []
    at = lo
    for a, b in cuts:
        if b < at:
            continue
        if a > at:
            spans.append((at, a - 1, False))
        spans.append((max(a, at), b, True))
        at = b + 1
    if at <= hi:
        spans.append((at, hi, False))
    return spans


def _subnet_column(order: list[int], bounds: list[tuple[int, int, str]]) -> list[str]:
    """The subnet (text) of each sorted address; "" outside every subnet."""
    if all(bounds[i][1] < bounds[i + 1][0] for i in range(len(bounds) - 1)):  # sorted, disjoint: slice by bisection
        col = [""] * len(order)
        for lo, hi, name in bounds:
            i, j = bisect_left(order, lo), bisect_right(order, hi)
            col[i:j] = [name] * (j - i)
        return col
    col = []
    bi = 0
    for a in order:
        while bi < len(bounds) and a > bounds[bi][1]:
            bi += 1
        col.append(bounds[bi][2] if bi < len(bounds) and bounds[bi][0] <= a else "")
    return col


def _build(inputs: OccupancyInputs, include_free: bool) -> Occupancy:
    import pandas as pd

    from runbooklib.occupancy.findings import occupancy_findings

    idx = _Index(inputs)
    subnets = _subnets(inputs)
    bounds = [(int(s.network_address), int(s.broadcast_address), str(s)) for s in subnets]
    rows, general = _single_allocation_rows(idx)
    general += [a for a in idx.statics.keys() | idx.resv.keys() | idx.live.keys() if a not in rows]
    general += [a for a in idx.status
                if a not in rows and a not in idx.allocs and any(lo <= a <= hi for lo, hi, _ in bounds)]
    for addr in set(general):
        rows[addr] = _classify(addr, idx).values()
    free_counts: dict[str, int] = defaultdict(int)
    for p, lo, hi, ex in idx.pools:
        excluded_row: RowValues = (_TEXT[S.EXCLUDED], "", p.nad, "", None, "", "", "", "", f"in ipam.exclude of {p.nad}")
        free_row: RowValues = (_TEXT[S.FREE], "", p.nad, "", None, "", "", "", "", "")
        for span_lo, span_hi, excluded in _pool_spans(lo, hi, ex):
            todo = [a for a in range(span_lo, span_hi + 1) if a not in rows]
            if excluded or include_free:
                rows.update(dict.fromkeys(todo, excluded_row if excluded else free_row))
            elif todo:
                free_counts[p.nad] += len(todo)
    order = sorted(rows)
    columns = list(zip(*map(rows.__getitem__, order), strict=True)) if order else [()] * (len(COLUMNS) - 2)
    cols: dict[str, Any] = {"subnet": _subnet_column(order, bounds), "address": ip_texts(order, inputs.version)}
    cols.update((name, list(values)) for name, values in zip(COLUMNS[2:], columns, strict=True))
    counts = Counter(zip(cols["pool"], cols["state"], strict=True))
    frame = pd.DataFrame(cols, columns=COLUMNS)
    frame["offset"] = frame["offset"].astype("Int64")
    summary = _summary(inputs, counts, free_counts)
    occ = Occupancy(frame, summary, [], list(inputs.skipped), subnets)
    occ.findings = occupancy_findings(occ)
    return occ


def _summary(inputs: OccupancyInputs, counts: Counter[tuple[str, str]], free_counts: dict[str, int]) -> pd.DataFrame:
    """Per pool: size, used, free, ... from the (pool, state) row counts."""
    import pandas as pd

    records = []
    for p in inputs.pools:
        by_state = {state: n for (pool, state), n in counts.items() if pool == p.nad}
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
