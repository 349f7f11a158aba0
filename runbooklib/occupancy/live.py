"""Optional live look from one node: which addresses answer on the segment right now.

One script: ping each candidate address once in parallel batches (fills the neighbour table),
then `ip -j neigh show dev <nic>`. Entries with a MAC in state REACHABLE/STALE/DELAY/PROBE/PERMANENT
answered. `parse_neighbours` is pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from runbooklib.nad.pools import parse_ip
from runbooklib.occupancy.model import LiveAddress, ip_text
from runbooklib.remote import Host
from runbooklib.remote.shell import q

ANSWERED = {"REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT", "NOARP"}
MAX_SWEEP = 1024


def live_script(nic: str, addresses: Iterable[str], batch: int = 64) -> str:
    addrs = list(addresses)[:MAX_SWEEP]
    words = " ".join(q(a) for a in addrs)
    return (f"n=0; for a in {words}; do ping -c1 -W1 -I {q(nic)} \"$a\" >/dev/null 2>&1 & n=$((n+1)); "
            f"[ $((n % {batch})) -eq 0 ] && wait; done; wait; echo '@@neigh'; ip -j neigh show dev {q(nic)}")


def parse_neighbours(text: str, seen_from: str = "") -> list[LiveAddress]:
    body = text.split("@@neigh", 1)[-1].strip()
    try:
        data: Any = json.loads(body or "[]")
    except ValueError:
        return []
    out = []
    for e in data if isinstance(data, list) else []:
        states = set(e.get("state") or [])
        addr = parse_ip(e.get("dst"))
        if addr is None or not e.get("lladdr") or not (states & ANSWERED):
            continue
        out.append(LiveAddress(int(addr), str(e.get("lladdr")), seen_from))
    return out


def live_look(host: Host, nic: str, candidates: Iterable[int], version: int = 4) -> list[LiveAddress]:
    """Ping the candidate addresses from `host` over `nic` and return those that answered."""
    out = host.run(live_script(nic, (ip_text(a, version) for a in candidates)), timeout=120)
    return parse_neighbours(out.stdout, host.name)
