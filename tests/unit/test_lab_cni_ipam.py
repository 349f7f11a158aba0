"""Whereabouts range maths, pool naming and allocation (lab IPAM, pure)."""

from __future__ import annotations

import ipaddress

import pytest

from runbooklib.lab.cni.nodeside import ipam as ip


def test_pool_name_and_offsets() -> None:
    assert ip.pool_name("198.18.205.0/24") == "198.18.205.0-24"
    assert ip.pool_name("10.0.0.0/8", "test") == "test-10.0.0.0-8"
    assert ip.pool_name("fd00::/64") == "fd00---64"
    assert ip.normalize_ip("fd00::") == "fd00--0"
    rng = ip.parse_range({"range": "192.0.2.0/24"})
    assert str(ip.ip_of(rng, "10")) == "192.0.2.10"
    assert ip.offset_of(rng, ipaddress.ip_address("192.0.2.10")) == 10


def test_range_normalised_and_inclusive_bounds() -> None:
    rng = ip.parse_range({"range": "192.168.2.225/28"})
    assert rng.cidr == "192.168.2.224/28" and str(rng.first) == "192.168.2.225" and str(rng.last) == "192.168.2.238"
    rng = ip.parse_range({"range": "198.18.205.0/24", "range_start": "198.18.205.240", "range_end": "198.18.205.254"})
    assert (str(rng.first), str(rng.last)) == ("198.18.205.240", "198.18.205.254")
    rng = ip.parse_range({"range": "192.168.2.225-192.168.2.230/28"})
    assert (str(rng.first), str(rng.last), rng.cidr) == ("192.168.2.225", "192.168.2.230", "192.168.2.224/28")


def test_out_of_range_bounds_are_ignored() -> None:
    rng = ip.parse_range({"range": "192.0.2.0/24", "range_start": "192.0.3.5", "range_end": "192.0.2.255"})
    assert (str(rng.first), str(rng.last)) == ("192.0.2.1", "192.0.2.254")


@pytest.mark.parametrize("cidr", ["192.0.2.0/31", "192.0.2.1/32"])
def test_too_small(cidr: str) -> None:
    with pytest.raises(ip.IpamError, match="net mask is too short"):
        ip.parse_range({"range": cidr})


def test_invalid_cidr_text() -> None:
    with pytest.raises(ip.IpamError, match=r"invalid CIDR \(do you have the 'range' parameter set for Whereabouts\?\)"):
        ip.parse_range({"range": "nonsense"})


def test_c21_range_end_inclusive_capacity() -> None:
    rng = ip.parse_range({"range": "192.0.2.0/24", "range_start": "192.0.2.10", "range_end": "192.0.2.15"})
    pool = ip.PoolState({str(o): {"id": f"c{o}", "podref": f"ns/p{o}", "ifname": "net1"} for o in range(10, 15)})
    got = ip.assign(rng, pool, "new", "ns/new", "net1")
    assert str(got.ip) == "192.0.2.15" and got.offset == 15
    with pytest.raises(ip.IpamError) as e:
        ip.assign(rng, pool, "x", "ns/x", "net1")
    assert str(e.value) == ("Could not allocate IP in range: ip: 192.0.2.10 / - 192.0.2.15 / range: 192.0.2.0/24 / "
                            "excludeRanges: []")


def test_exclude_skips_whole_subnet_and_bare_ip() -> None:
    rng = ip.parse_range({"range": "192.168.2.224/28", "exclude": ["192.168.2.224/30", "192.168.2.228"]})
    pool = ip.PoolState()
    assert str(ip.assign(rng, pool, "a", "ns/a", "net1").ip) == "192.168.2.229"


def test_same_podref_ifname_gets_same_ip_and_release_by_container() -> None:
    rng = ip.parse_range({"range": "198.18.205.0/24", "range_start": "198.18.205.240"})
    pool = ip.PoolState()
    a = ip.assign(rng, pool, "c1", "longhorn-system/a", "net1")
    again = ip.assign(rng, pool, "c2", "longhorn-system/a", "net1")
    assert a.ip == again.ip and again.reused and pool.allocations["240"]["id"] == "c2"
    b = ip.assign(rng, pool, "c3", "longhorn-system/b", "net1")
    assert str(b.ip) == "198.18.205.241"
    assert ip.release(pool, "c3", "net1") == ["241"]
    assert ip.release(pool, "c3", "net1") == []
    assert set(pool.allocations) == {"240"}


def test_taken_elsewhere_is_skipped() -> None:
    rng = ip.parse_range({"range": "192.0.2.0/29"})
    got = ip.assign(rng, ip.PoolState(), "c", "ns/p", "net1", taken_elsewhere={"192.0.2.1"})
    assert str(got.ip) == "192.0.2.2"


def test_cni_result_versions() -> None:
    rng = ip.parse_range({"range": "198.18.205.0/24"})
    legacy = ip.cni_result("0.3.1", rng, ipaddress.ip_address("198.18.205.240"), {})
    assert legacy == {"cniVersion": "0.3.1", "ips": [{"version": "4", "address": "198.18.205.240/24"}], "dns": {}}
    new = ip.cni_result("1.0.0", rng, ipaddress.ip_address("198.18.205.240"), {"gateway": "198.18.205.1"})
    assert new["ips"] == [{"address": "198.18.205.240/24", "gateway": "198.18.205.1"}]
