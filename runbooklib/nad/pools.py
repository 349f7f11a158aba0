"""Whereabouts range maths (v0.9.1): what a NAD's `ipam` really hands out.

Mirrors whereabouts: host bits of `range` are dropped; usable = network+1 .. broadcast-1;
`range_start`/`range_end` are inclusive and *silently ignored* when outside the usable range
(the validator flags that, this module only reproduces it); `range` may be `A-B/prefix`;
`exclude` entries are CIDRs or bare IPs and the whole entry is skipped.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(value: Any) -> IPAddress | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def parse_net(value: Any) -> IPNetwork | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


@dataclass(frozen=True)
class RangeSpec:
    """`range` split into its CIDR and the optional `A-B` start/end of the dash syntax."""

    network: IPNetwork
    dash_start: IPAddress | None = None
    dash_end: IPAddress | None = None


def parse_range(value: Any) -> RangeSpec | None:
    """`192.168.2.0/24` or `192.168.2.225-192.168.2.230/28`; None if neither."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if "-" in text and "/" in text:
        span, _, prefix = text.rpartition("/")
        a, _, b = span.partition("-")
        start, end = parse_ip(a), parse_ip(b)
        net = parse_net(f"{a}/{prefix}")
        if start is None or end is None or net is None:
            return None
        return RangeSpec(net, start, end)
    net = parse_net(text)
    return None if net is None else RangeSpec(net)


@dataclass(frozen=True)
class Pool:
    """The addresses a whereabouts `ipam` section hands out: first..last minus `excludes`."""

    network: IPNetwork
    first: IPAddress
    last: IPAddress
    excludes: tuple[IPNetwork, ...] = field(default_factory=tuple)
    network_name: str = ""
    overlapping_ranges: bool = True

    def contains(self, addr: IPAddress) -> bool:
        return addr.version == self.first.version and self.first <= addr <= self.last and not self.excluded(addr)

    def excluded(self, addr: IPAddress) -> bool:
        return any(addr in ex for ex in self.excludes)

    @property
    def first_int(self) -> int:
        return int(self.first)

    @property
    def last_int(self) -> int:
        return int(self.last)

    def size(self) -> int:
        """Addresses handed out: the span minus excluded addresses inside it."""
        span = self.last_int - self.first_int + 1
        taken = 0
        for ex in _merged(self.excludes):
            lo = max(int(ex.network_address), self.first_int)
            hi = min(int(ex.broadcast_address), self.last_int)
            if lo <= hi:
                taken += hi - lo + 1
        return span - taken

    def describe(self) -> str:
        text = f"{self.first}-{self.last}"
        if self.excludes:
            text += " excluding " + ", ".join(str(e) for e in self.excludes)
        return text


def _merged(nets: tuple[IPNetwork, ...]) -> list[IPNetwork]:
    by_version: dict[int, list[IPNetwork]] = {}
    for n in nets:
        by_version.setdefault(n.version, []).append(n)
    out: list[IPNetwork] = []
    for group in by_version.values():
        out.extend(ipaddress.collapse_addresses(group))  # type: ignore[arg-type]
    return out


def usable_bounds(network: IPNetwork) -> tuple[IPAddress, IPAddress] | None:
    """network+1 .. broadcast-1, or None for /31, /32 (and v6 /127, /128)."""
    if network.num_addresses < 4:
        return None
    return network.network_address + 1, network.broadcast_address - 1


def pool_from_ipam(ipam: dict[str, Any]) -> Pool | None:
    """The pool whereabouts would really use for this `ipam` section (None: no usable range)."""
    spec = parse_range(ipam.get("range"))
    if spec is None:
        return None
    bounds = usable_bounds(spec.network)
    if bounds is None:
        return None
    first, last = bounds
    start = parse_ip(ipam.get("range_start")) or spec.dash_start
    end = parse_ip(ipam.get("range_end")) or spec.dash_end
    if start is not None and start.version == first.version and first <= start <= last:
        first = start
    if end is not None and end.version == first.version and first <= end <= last:
        last = end
    excludes = tuple(n for e in (ipam.get("exclude") or []) if (n := parse_net(e)) is not None)
    return Pool(spec.network, first, last, excludes, str(ipam.get("network_name") or ""),
                ipam.get("enable_overlapping_ranges", True) is not False)


def pool_overlap(a: Pool, b: Pool) -> tuple[IPAddress, IPAddress] | None:
    """The inclusive span both pools cover (ignoring excludes), or None."""
    if a.first.version != b.first.version:
        return None
    lo, hi = max(a.first, b.first), min(a.last, b.last)
    return (lo, hi) if lo <= hi else None


def ippool_name(network: IPNetwork, network_name: str = "") -> str:
    """The IPPool object name whereabouts uses: `192.168.205.0-24`, `<network_name>-...` if named."""
    text = str(network)
    if text.endswith(":"):
        text += "0"
    text = text.replace(":", "-").replace("/", "-")
    return f"{network_name}-{text}" if network_name else text
