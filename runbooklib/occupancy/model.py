"""Typed inputs of the occupancy table and the states an address can be in.

Addresses are kept as integers (`int(ipaddress)`) while building: that is what makes a /16 with
50,000 allocations build in a fraction of a second. Strings are made once, for the output.
"""

from __future__ import annotations

import gc
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from runbooklib.nad.pools import IPNetwork, Pool


class AddressState(StrEnum):
    FREE = "free"                          # in a pool, nobody holds it
    EXCLUDED = "excluded"                  # in a pool's range but in ipam.exclude
    RESERVED = "reserved"                  # static occupant (NAS, node NIC) outside every pool
    ALLOCATED = "allocated"                # allocation + pod running + network-status agrees
    PENDING = "pending"                    # allocation, pod Pending, no status yet: in use, not an orphan
    UNVERIFIED = "unverified"              # allocation, pod Running but network-status missing
    HELD_UNREACHABLE = "held-unreachable"  # allocation held by a pod on an unreachable node
    STALE = "stale"                        # allocation whose pod is gone (or whose status lacks the IP)
    MISSING = "missing"                    # a pod has the IP (network-status) but no allocation
    DUPLICATE = "duplicate"                # two holders
    OUT_OF_POOL = "out-of-pool"            # allocation outside start..end or inside exclude
    CONFLICT = "conflict"                  # a static or live host inside a pool


# addresses whereabouts cannot hand out (it counts them as used)
USED_STATES = frozenset(AddressState) - {AddressState.FREE, AddressState.EXCLUDED, AddressState.RESERVED}


@dataclass(frozen=True)
class PoolSource:
    """A NAD's pool: `nad` is "ns/name"."""

    nad: str
    pool: Pool


class StaticHolder(NamedTuple):
    address: int
    name: str
    kind: str = "static"  # static | node


class Allocation(NamedTuple):
    """One entry of an IPPool's `spec.allocations` (key = offset from the range's network address)."""

    address: int
    pool_name: str
    pool_range: str
    offset: int
    podref: str
    container_id: str = ""
    ifname: str = ""


class Reservation(NamedTuple):
    """An OverlappingRangeIPReservation (its name is the IP)."""

    address: int
    name: str
    podref: str
    ifname: str = ""
    container_id: str = ""


@dataclass(slots=True)
class PodState:
    ref: str  # "ns/name"
    node: str = ""
    phase: str = "Running"
    deleting: bool = False
    evicted_by_taint_manager: bool = False
    has_network_status: bool = False
    status_ips: dict[int, str] = field(default_factory=dict)  # address -> network-status entry name


@dataclass(frozen=True)
class NodeState:
    name: str
    ready: bool = True
    unreachable_taint: bool = False

    @property
    def reachable(self) -> bool:
        return self.ready and not self.unreachable_taint


class LiveAddress(NamedTuple):
    address: int
    mac: str = ""
    seen_from: str = ""


@dataclass
class OccupancyInputs:
    """Everything the table is built from. `pods=None` means pods were not looked at."""

    version: int = 4
    subnets: list[IPNetwork] = field(default_factory=list)
    pools: list[PoolSource] = field(default_factory=list)
    statics: list[StaticHolder] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    pods: dict[str, PodState] | None = None
    nodes: dict[str, NodeState] = field(default_factory=dict)
    live: list[LiveAddress] | None = None
    skipped: list[str] = field(default_factory=list)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Bulk creation of small objects (tens of thousands of rows, pods, allocations): generational
    GC passes would dominate the run time, and nothing created here forms reference cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# canonical dotted-quad octets ("0".."255"): a dict lookup is the fast path of `ip_int`
_OCTETS = {str(i): i for i in range(256)}


def ip_int(text: str) -> int | None:
    """Integer of an IP address text; a fast path for dotted IPv4 (the 50k-allocation case)."""
    parts = text.split(".")
    if len(parts) == 4:
        a, b, c, d = parts
        octet = _OCTETS
        if a in octet and b in octet and c in octet and d in octet:
            return (octet[a] << 24) | (octet[b] << 16) | (octet[c] << 8) | octet[d]
        try:  # leading zeros and other digits int() accepts
            nums = [int(x) for x in parts]
        except ValueError:
            return None
        if all(0 <= n < 256 for n in nums) and all(x.isdigit() for x in parts):
            return (nums[0] << 24) | (nums[1] << 16) | (nums[2] << 8) | nums[3]
        return None
    try:
        return int(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def ip_text(address: int, version: int = 4) -> str:
    if version == 4:
        return f"{address >> 24}.{(address >> 16) & 255}.{(address >> 8) & 255}.{address & 255}"
    return str(ipaddress.IPv6Address(address))


_OCTET_TEXT = [str(i) for i in range(256)]


def ip_texts(addresses: list[int], version: int = 4) -> list[str]:
    """`ip_text` of many addresses; for IPv4 the "a.b.c." prefix is made once per /24 run."""
    if version != 4:
        return [ip_text(a, version) for a in addresses]
    out: list[str] = []
    append = out.append
    octet = _OCTET_TEXT
    block, prefix = -1, ""
    for a in addresses:
        if a >> 8 != block:
            block = a >> 8
            prefix = f"{a >> 24}.{(a >> 16) & 255}.{block & 255}."
        append(prefix + octet[a & 255])
    return out
