"""The occupancy table: reference params + a realistic IPPool, every state, summary, rendering."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from runbooklib.occupancy import (
    AddressState,
    LiveAddress,
    OccupancyInputs,
    allocations_from_ippool,
    build_occupancy,
    inputs_from_params,
    nodes_from_objects,
    occupancy_text,
    plot_subnet_grid,
    pods_from_objects,
    reservations_from_objects,
    style_occupancy,
)
from runbooklib.occupancy.sources import address_from_reservation_name
from runbooklib.params import load_params

HOMELAB = Path(__file__).resolve().parents[2] / "params" / "homelab.yaml"
S = AddressState
NAD = "longhorn-system/storage-205"


def ippool(allocs: dict[str, tuple[str, str]]) -> dict[str, Any]:
    return {"apiVersion": "whereabouts.cni.cncf.io/v1alpha1", "kind": "IPPool",
            "metadata": {"name": "192.168.205.0-24", "namespace": "kube-system"},
            "spec": {"range": "192.168.205.0/24",
                     "allocations": {k: {"id": cid, "podref": ref, "ifname": "lhnet1"} for k, (ref, cid) in allocs.items()}}}


def pod(ref: str, ips: list[str] | None, phase: str = "Running", node: str = "kr1", **meta: Any) -> dict[str, Any]:
    ns, name = ref.split("/")
    ann = {}
    if ips is not None:
        ann["k8s.v1.cni.cncf.io/network-status"] = json.dumps(
            [{"name": "cbr0", "interface": "eth0", "ips": ["10.42.0.7"], "default": True, "dns": {}},
             {"name": NAD, "interface": "lhnet1", "ips": ips, "mac": "02:00:00:00:00:01", "dns": {}}], indent=4)
    return {"metadata": {"namespace": ns, "name": name, "annotations": ann, **meta},
            "spec": {"nodeName": node}, "status": {"phase": phase}}


@pytest.fixture
def inputs() -> OccupancyInputs:
    return inputs_from_params(load_params(HOMELAB, require_files=False))


def test_reference_params_with_realistic_ippool(inputs: OccupancyInputs) -> None:
    inputs.allocations = allocations_from_ippool(ippool({
        "240": ("longhorn-system/instance-manager-xyz", "c0ffee01"),
        "241": ("longhorn-system/instance-manager-abc", "c0ffee02"),
    }))
    inputs.pods = pods_from_objects([pod("longhorn-system/instance-manager-xyz", ["192.168.205.240"]),
                                     pod("longhorn-system/instance-manager-abc", ["192.168.205.241"], node="kr2")])
    inputs.nodes = nodes_from_objects([{"metadata": {"name": n}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
                                       for n in ("kr1", "kr2", "hp1", "hp2")])
    occ = build_occupancy(inputs)
    table = occ.frame[occ.frame["state"] != "free"][["address", "state", "holder", "pool", "offset", "container_id", "ifname",
                                                      "node"]]
    records = table.assign(offset=table["offset"].astype(object).where(table["offset"].notna(), None)).to_dict(orient="records")
    assert [(r["address"], r["state"], r["holder"], r["offset"]) for r in records] == [
        ("192.168.205.100", "reserved", "nas (NAS)", None),
        ("192.168.205.134", "reserved", "node hp2 ens2", None),
        ("192.168.205.135", "reserved", "node kr2 ens2", None),
        ("192.168.205.214", "reserved", "node kr1 ens2", None),
        ("192.168.205.227", "reserved", "node hp1 ens2", None),
        ("192.168.205.240", "allocated", "longhorn-system/instance-manager-xyz", 240),
        ("192.168.205.241", "allocated", "longhorn-system/instance-manager-abc", 241),
    ]
    assert records[5]["container_id"] == "c0ffee01" and records[5]["ifname"] == "lhnet1" and records[5]["pool"] == NAD
    assert occ.addresses(S.FREE) == [f"192.168.205.{i}" for i in range(242, 255)]
    [summary] = occ.summary.to_dict(orient="records")
    assert summary == {"pool": NAD, "range": "192.168.205.0/24", "first": "192.168.205.240", "last": "192.168.205.254",
                       "size": 15, "used": 2, "free": 13, "stale": 0, "held_unreachable": 0, "pending": 0,
                       "conflicts": 0, "headroom_pct": 86.7}
    assert [f.severity.value for f in occ.findings] == ["ok"]
    assert set(occ.frame["subnet"]) == {"192.168.205.0/24"}


def test_offline_table_from_params_only(inputs: OccupancyInputs) -> None:
    occ = build_occupancy(inputs)
    assert len(occ.addresses(S.RESERVED)) == 5
    assert len(occ.addresses(S.FREE)) == 15
    assert occ.summary.iloc[0]["used"] == 0


def test_every_state(inputs: OccupancyInputs) -> None:
    inputs.pools[0] = inputs.pools[0].__class__(NAD, inputs.pools[0].pool.__class__(
        inputs.pools[0].pool.network, inputs.pools[0].pool.first, inputs.pools[0].pool.last,
        (ipaddress.ip_network("192.168.205.252/31"),)))
    inputs.statics.append(inputs.statics[0].__class__(int(ipaddress.ip_address("192.168.205.250")), "printer"))
    inputs.allocations = allocations_from_ippool(ippool({
        "240": ("ns/ok", "c1"),            # allocated
        "241": ("ns/gone", "c2"),          # stale: pod gone
        "242": ("ns/pending", "c3"),       # pending
        "243": ("ns/nostatus", "c4"),      # unverified
        "244": ("ns/far", "c5"),           # held-unreachable
        "245": ("ns/a", "c6"),             # duplicate: another pod claims it in network-status
        "230": ("ns/old", "c7"),           # out-of-pool (below range_start)
        "252": ("ns/ex", "c8"),            # out-of-pool (excluded)
        "246": ("ns/moved", "c9"),         # stale: status present, IP absent
    }))
    inputs.pods = pods_from_objects([
        pod("ns/ok", ["192.168.205.240"]), pod("ns/pending", None, phase="Pending"), pod("ns/nostatus", None),
        pod("ns/far", ["192.168.205.244"], node="hp2", deletionTimestamp="2024-01-01T00:00:00Z"),
        pod("ns/a", ["192.168.205.245"]), pod("ns/b", ["192.168.205.245"]),
        pod("ns/old", ["192.168.205.230"]), pod("ns/ex", ["192.168.205.252"]),
        pod("ns/moved", ["192.168.205.249"]),  # missing: has .249 without allocation
    ])
    inputs.nodes = nodes_from_objects([{"metadata": {"name": "hp2"}, "spec": {"taints": [{"key": "node.kubernetes.io/unreachable"}]},
                                        "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}])
    inputs.live = [LiveAddress(int(ipaddress.ip_address("192.168.205.251")), "02:aa:bb:cc:dd:ee", "kr1")]
    occ = build_occupancy(inputs)
    state = dict(zip(occ.frame["address"], occ.frame["state"], strict=True))
    expect = {240: S.ALLOCATED, 241: S.STALE, 242: S.PENDING, 243: S.UNVERIFIED, 244: S.HELD_UNREACHABLE,
              245: S.DUPLICATE, 230: S.OUT_OF_POOL, 252: S.OUT_OF_POOL, 253: S.EXCLUDED, 246: S.STALE, 249: S.MISSING,
              250: S.CONFLICT, 251: S.CONFLICT, 247: S.FREE, 100: S.RESERVED}
    assert {k: state[f"192.168.205.{k}"] for k in expect} == {k: v.value for k, v in expect.items()}
    severities = {f.evidence.get("state"): f.severity.value for f in occ.findings}
    assert severities["conflict"] == "fail" and severities["duplicate"] == "fail" and severities["missing"] == "fail"
    assert severities["stale"] == "warn" and severities["held-unreachable"] == "warn"
    [summary] = occ.summary.to_dict(orient="records")
    assert summary["size"] == 13 and summary["stale"] == 2 and summary["held_unreachable"] == 1
    assert summary["used"] + summary["free"] == summary["size"]


def test_reservations(inputs: OccupancyInputs) -> None:
    assert str(address_from_reservation_name("storage-192.168.205.10")) == "192.168.205.10"
    assert str(address_from_reservation_name("fd00--5")) == "fd00::5"
    inputs.reservations = reservations_from_objects([
        {"metadata": {"name": "192.168.205.247"}, "spec": {"podref": "ns/gone"}},
        {"metadata": {"name": "192.168.205.248"}, "spec": {"podref": "ns/live"}}])
    inputs.pods = pods_from_objects([pod("ns/live", ["192.168.205.248"])])
    occ = build_occupancy(inputs)
    state = dict(zip(occ.frame["address"], occ.frame["state"], strict=True))
    assert state["192.168.205.247"] == "stale" and state["192.168.205.248"] == "allocated"


def test_renderings(inputs: OccupancyInputs, tmp_path: Path) -> None:
    inputs.allocations = allocations_from_ippool(ippool({"240": ("ns/gone", "c1")}))
    inputs.pods = {}
    occ = build_occupancy(inputs)
    html = style_occupancy(occ.frame).to_html()
    assert "background-color: #f46d43" in html  # stale colour
    png = tmp_path / "grid.png"
    plot_subnet_grid(occ.frame, occ.subnets[0], path=str(png))
    assert png.read_bytes()[:4] == b"\x89PNG"
    text = occupancy_text(occ)
    assert "192.168.205.241-254 (14)" in text and "stale" in text
    assert json.loads(json.dumps(occ.to_dict(), default=str))["summary"][0]["stale"] == 1
