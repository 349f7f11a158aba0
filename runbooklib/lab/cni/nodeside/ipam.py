"""Whereabouts v0.9.1 range maths and IPPool allocation, pure (pkg/config, pkg/allocate, pkg/iphelpers).

- `range` is a CIDR (host bits dropped) or `A-B/prefix` (A -> range_start, B -> range_end);
- usable = network+1 .. broadcast-1; /31, /32 (and v6 /127, /128) have none;
- range_start / range_end are inclusive and honoured only inside the usable range, else ignored;
- `exclude` entries are CIDRs or bare IPs; the whole excluded subnet is skipped;
- allocation keys are decimal offsets from the network address; lowest free address first; the
  same podref + ifname gets its old address back (container id updated);
- exhausted: `Could not allocate IP in range: ip: <first> / - <last> / range: <cidr> / excludeRanges: [..]`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network


class IpamError(Exception):
    pass


@dataclass(frozen=True)
class IpRange:
    """One effective range: the normalised network plus the first/last addresses to hand out."""

    network: IPNet
    first: IPAddr
    last: IPAddr
    exclude: tuple[str, ...] = ()

    @property
    def cidr(self) -> str:
        return str(self.network)


def normalize_range(cidr: str) -> str:
    """IPPool name part: `:` and `/` -> `-` (a trailing `:` first gets a `0`)."""
    if cidr.endswith(":"):
        cidr += "0"
    return cidr.replace(":", "-").replace("/", "-")


def pool_name(cidr: str, network_name: str = "") -> str:
    base = normalize_range(cidr)
    return f"{network_name}-{base}" if network_name else base


def normalize_ip(ip: str, network_name: str = "") -> str:
    """OverlappingRangeIPReservation name of an address."""
    s = ip + "0" if ip.endswith(":") else ip
    s = s.replace(":", "-")
    return f"{network_name}-{s}" if network_name else s


def _parse_ip(s: str, what: str) -> IPAddr:
    try:
        return ipaddress.ip_address(s.strip())
    except ValueError as e:
        raise IpamError(f"{what}: {s}") from e


def parse_range(ipam: dict[str, Any]) -> IpRange:
    """The effective range of a whereabouts `ipam` block (raises IpamError with upstream's texts)."""
    rng = str(ipam.get("range", ""))
    start_s = str(ipam.get("range_start", "") or "")
    end_s = str(ipam.get("range_end", "") or "")
    if "-" in rng:                      # "A-B/prefix"
        first_part, rest = rng.split("-", 1)
        end_part, _, prefix = rest.partition("/")
        _parse_ip(first_part, "invalid range start IP")
        start_s, end_s, rng = first_part, end_part, f"{first_part}/{prefix}"
    try:
        network = ipaddress.ip_network(rng, strict=False)
    except ValueError as e:
        raise IpamError(f"invalid CIDR (do you have the 'range' parameter set for Whereabouts?) '{rng}': "
                        f"invalid CIDR address: {rng}") from e
    host_bits = network.max_prefixlen - network.prefixlen
    if host_bits <= 1:
        raise IpamError(f"net mask is too short, subnet {network} has no usable IP addresses, it is too small")
    usable_first = network.network_address + 1
    usable_last = network.broadcast_address - 1
    first, last = usable_first, usable_last
    if start_s:
        s = _parse_ip(start_s, "invalid range start IP")
        if usable_first <= s <= usable_last:
            first = s
    if end_s:
        e = _parse_ip(end_s, "invalid range end IP")
        if first <= e <= usable_last:
            last = e
    excl = tuple(str(x) for x in (ipam.get("exclude") or []))
    return IpRange(network, first, last, excl)


def _exclude_nets(exclude: tuple[str, ...]) -> list[IPNet]:
    nets: list[IPNet] = []
    for e in exclude:
        try:
            nets.append(ipaddress.ip_network(e, strict=False))
        except ValueError as err:
            raise IpamError(f"could not parse exclude range, err: {str(err)!r}") from err
    return nets


def offset_of(rng: IpRange, ip: IPAddr) -> int:
    return int(ip) - int(rng.network.network_address)


def ip_of(rng: IpRange, offset: int | str) -> IPAddr:
    return ipaddress.ip_address(int(rng.network.network_address) + int(offset))


def exhausted_message(rng: IpRange) -> str:
    excl = "[" + " ".join(rng.exclude) + "]"
    return (f"Could not allocate IP in range: ip: {rng.first} / - {rng.last} / range: {rng.cidr} / "
            f"excludeRanges: {excl}")


@dataclass
class Allocation:
    ip: IPAddr
    offset: int
    reused: bool = False


@dataclass
class PoolState:
    """`spec.allocations` of an IPPool: offset string -> {id, podref, ifname}."""

    allocations: dict[str, dict[str, str]] = field(default_factory=dict)

    def find(self, podref: str, ifname: str) -> str | None:
        for off, a in self.allocations.items():
            if a.get("podref") == podref and a.get("ifname", "") == ifname:
                return off
        return None


def assign(rng: IpRange, pool: PoolState, container_id: str, podref: str, ifname: str,
           taken_elsewhere: set[str] | None = None) -> Allocation:
    """Lowest free address (mutates `pool`); the same podref+ifname gets its address back."""
    old = pool.find(podref, ifname)
    if old is not None:
        pool.allocations[old]["id"] = container_id
        return Allocation(ip_of(rng, old), int(old), reused=True)
    excluded = _exclude_nets(rng.exclude)
    ip = rng.first
    while ip <= rng.last:
        skip = next((n for n in excluded if ip in n), None)
        if skip is not None:
            ip = skip.broadcast_address + 1
            continue
        off = str(offset_of(rng, ip))
        if off not in pool.allocations and str(ip) not in (taken_elsewhere or set()):
            pool.allocations[off] = {"id": container_id, "podref": podref, "ifname": ifname}
            return Allocation(ip, int(off))
        ip = ip + 1
    raise IpamError(exhausted_message(rng))


def release(pool: PoolState, container_id: str, ifname: str) -> list[str]:
    """Drop the allocations of this container id + ifname (DEL); returns the offsets freed."""
    gone = [off for off, a in pool.allocations.items()
            if a.get("id") == container_id and a.get("ifname", "") == ifname]
    for off in gone:
        del pool.allocations[off]
    return gone


def cni_result(cni_version: str, rng: IpRange, ip: IPAddr, ipam: dict[str, Any]) -> dict[str, Any]:
    """The IPAM result (no interfaces) in the conf's cniVersion format."""
    entry: dict[str, Any] = {"address": f"{ip}/{rng.network.prefixlen}"}
    if ipam.get("gateway"):
        entry["gateway"] = str(ipam["gateway"])
    legacy = cni_version in ("0.3.0", "0.3.1", "0.4.0")
    if legacy:
        entry = {"version": "4" if ip.version == 4 else "6", **entry}
    out: dict[str, Any] = {"cniVersion": cni_version, "ips": [entry]}
    if ipam.get("routes"):
        out["routes"] = ipam["routes"]
    out["dns"] = ipam.get("dns") or {}
    return out
