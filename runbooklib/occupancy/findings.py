"""Findings from an occupancy table: one per problem kind (not per address), addresses in evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbooklib.occupancy.model import AddressState
from runbooklib.results import Finding, Severity

if TYPE_CHECKING:
    from runbooklib.occupancy.build import Occupancy

CHECK = "ip-occupancy"
S = AddressState
LOW_HEADROOM_PCT = 10.0

# state -> (severity, title, fix)
STATE_FINDINGS: dict[AddressState, tuple[Severity, str, list[str]]] = {
    S.CONFLICT: (Severity.FAIL, "static or live host inside a whereabouts pool",
                 ["add the address to ipam.exclude or move range_start/range_end", "or move the host out of the pool"]),
    S.DUPLICATE: (Severity.FAIL, "address held by two holders",
                  ["find which pod really uses it (network-status), restart the other one",
                   "whereabouts >= v0.5.3 fixes the orphan race that causes this"]),
    S.MISSING: (Severity.FAIL, "pod uses an address that has no IPPool allocation",
                ["whereabouts may hand the address out again: restart the pod so it allocates properly"]),
    S.OUT_OF_POOL: (Severity.WARN, "allocation outside the NAD's range_start..range_end or inside exclude",
                    ["the pool changed after the pod got the address; restart the pod to move it into the pool"]),
    S.STALE: (Severity.WARN, "stale allocations (pod gone, or its network-status lacks the IP)",
              ["the whereabouts reconciler frees them on its next run",
               "or remove the entries from the IPPool's spec.allocations by hand once the pods are surely gone"]),
    S.HELD_UNREACHABLE: (Severity.WARN, "IPs held by pods on an unreachable node",
                         ["the addresses are reclaimable once the pods are gone; whereabouts >= v0.8.0 reconciler skips "
                          "pods marked DeletionByTaintManager",
                          "upgrade whereabouts or force-delete the terminating pods; do not hand-release IPs of pods whose "
                          "node may come back"]),
}


def occupancy_findings(occ: Occupancy) -> list[Finding]:
    frame = occ.frame
    out: list[Finding] = []
    notable = [s.value for s in STATE_FINDINGS] + [S.PENDING.value, S.UNVERIFIED.value]
    sub = frame.loc[frame["state"].isin(notable), ["state", "address"]] if len(frame) else frame
    grouped: dict[str, list[str]] = {}
    for state, address in zip(sub["state"].tolist(), sub["address"].tolist(), strict=True):
        grouped.setdefault(state, []).append(address)
    for state, (severity, title, fix) in STATE_FINDINGS.items():
        addrs = grouped.get(state.value) or []
        if addrs:
            if state is S.HELD_UNREACHABLE:
                n = len(addrs)
                fix = [f"the {_count_words(n)} {'addresses are' if n > 1 else 'address is'}{fix[0][len('the addresses are'):]}",
                       *fix[1:]]
            out.append(_finding(severity, f"{title}: {len(addrs)}", addrs, fix, state))
    pending, unverified = grouped.get(S.PENDING.value) or [], grouped.get(S.UNVERIFIED.value) or []
    if pending or unverified:
        sub = frame[frame["state"].isin([S.PENDING.value, S.UNVERIFIED.value])].head(200)
        per = dict(zip(sub["address"], sub["detail"], strict=True))
        out.append(Finding(CHECK, "allocations exist for pods without a network-status annotation",
                           Severity.WARN if unverified else Severity.OK, target="pods",
                           detail="an allocation is stale only if its pod is gone (or its IP is absent from a present "
                                  "network-status); Pending pods are in use, not orphans",
                           evidence={"state": "pending/unverified", "pending": pending, "unverified": unverified,
                                     "per_allocation": per},
                           fix=["whereabouts >= v0.5.3 (Pending pods skipped, race fixed); make sure network-status is written"]))
    for rec in occ.summary.to_dict(orient="records"):
        if rec["size"] and rec["free"] == 0:
            out.append(Finding(CHECK, f"pool {rec['pool']} is full ({rec['used']}/{rec['size']} used)", Severity.WARN,
                               target=rec["pool"], detail="new pods get 'Could not allocate IP in range'",
                               evidence={"summary": rec}, fix=["free stale addresses", "or widen range_start..range_end"]))
        elif rec["size"] >= 20 and rec["headroom_pct"] < LOW_HEADROOM_PCT:
            out.append(Finding(CHECK, f"pool {rec['pool']} is nearly full ({rec['free']} free)", Severity.WARN,
                               target=rec["pool"], evidence={"summary": rec}, fix=["widen range_start..range_end"]))
    if not out:
        out.append(Finding(CHECK, "no occupancy problem found", Severity.OK, target="pools"))
    for reason in occ.skipped:
        out.append(Finding(CHECK, f"skipped: {reason}", Severity.OK, target="occupancy", evidence={"skipped": reason}))
    return out


def _finding(severity: Severity, title: str, addrs: list[str], fix: list[str], state: AddressState) -> Finding:
    shown = ", ".join(addrs[:20]) + (f" ... (+{len(addrs) - 20} more)" if len(addrs) > 20 else "")
    return Finding(CHECK, title, severity, target="pools", detail=shown, evidence={"state": state.value, "addresses": addrs},
                   fix=list(fix))


def _count_words(n: int) -> str:
    words = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    return words[n] if n < len(words) else str(n)
