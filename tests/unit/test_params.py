"""Params: the shipped files load, every kind of invalid input names its field, round-trip is stable."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from runbooklib.errors import ParamsError
from runbooklib.params import load_params, params_from_dict, pool_bounds

REPO = Path(__file__).resolve().parents[2]
HOMELAB = REPO / "params" / "homelab.yaml"
LAB = REPO / "params" / "lab.yaml"


@pytest.fixture
def homelab_raw() -> dict:
    return yaml.safe_load(HOMELAB.read_text())


def fields_of(raw: dict, **kw) -> list[str]:
    with pytest.raises(ParamsError) as exc:
        params_from_dict(raw, **kw)
    return [i.field for i in exc.value.issues]


def test_homelab_loads_as_reference() -> None:
    p = load_params(HOMELAB)
    assert [n.name for n in p.nodes] == ["kr1", "kr2", "hp1", "hp2"]
    assert {n.name: n.storage_nic.address for n in p.nodes} == {
        "kr1": "192.168.205.214", "kr2": "192.168.205.135", "hp1": "192.168.205.227", "hp2": "192.168.205.134"}
    nad = p.nad("longhorn-system", "storage-205")
    assert (nad.master, nad.mode, nad.mtu, nad.cni_version) == ("ens2", "bridge", 9000, "0.3.1")
    assert (nad.ipam.range, nad.ipam.range_start, nad.ipam.range_end) == ("192.168.205.0/24", "192.168.205.240", "192.168.205.254")
    assert p.static_hosts[0].address == "192.168.205.100"
    assert p.k3s.conf_dir == "/var/lib/rancher/k3s/agent/etc/cni/net.d"
    assert p.k3s.cni_bin_dir == "/var/lib/rancher/k3s/data/cni"
    assert p.k3s.multicall_binary == "/var/lib/rancher/k3s/data/current/bin/cni"
    assert p.k3s.whereabouts_target == "/var/lib/rancher/k3s/agent/etc/cni/net.d/whereabouts.d"
    assert p.k3s.multus_conf_dir == "/var/lib/rancher/k3s/agent/etc/cni/multus/net.d"
    assert (p.versions.multus, p.versions.whereabouts, p.versions.cni_plugins) == ("v4.2.2", "v0.9.1", "v1.6.2")
    assert p.ssh.verify_host_keys is True


def test_lab_params_use_only_test_network_addresses() -> None:
    import ipaddress

    p = load_params(LAB, require_files=False)
    reserved = ipaddress.ip_network("198.18.0.0/15")
    addrs = [n.storage_nic.address for n in p.nodes] + [n.ssh.host for n in p.nodes] + [h.address for h in p.static_hosts]
    addrs += [p.nads[0].ipam.range_start, p.nads[0].ipam.range_end]
    assert all(ipaddress.ip_address(a) in reserved for a in addrs)
    assert [n.name for n in p.nodes] == ["kr1", "kr2", "hp1", "hp2"]
    assert pool_bounds(p.nads[0].ipam) == (ipaddress.ip_address("198.18.205.240"), ipaddress.ip_address("198.18.205.254"))


def test_lab_params_without_keys_name_the_key_files(tmp_path: Path) -> None:
    raw = yaml.safe_load(LAB.read_text())
    for n in raw["nodes"]:
        n["ssh"]["key_file"] = str(tmp_path / "missing-key")
    for art in [raw["artifacts"]["multus_manifest"], raw["artifacts"]["whereabouts_manifest"], *raw["artifacts"]["whereabouts_crds"]]:
        art["local"] = str((LAB.parent / art["local"]).resolve())
    f = tmp_path / "lab.yaml"
    f.write_text(yaml.safe_dump(raw))
    with pytest.raises(ParamsError) as exc:
        load_params(f)
    assert [i.field for i in exc.value.issues] == [f"nodes[{i}].ssh.key_file" for i in range(4)]
    assert "runbook lab up" in str(exc.value)


@pytest.mark.parametrize("path", [HOMELAB, LAB])
def test_round_trip_is_stable(path: Path, tmp_path: Path) -> None:
    p1 = load_params(path, require_files=False)
    f = tmp_path / "again.yaml"
    f.write_text(p1.dump_yaml())
    p2 = load_params(f, require_files=False)
    assert p1.model_dump() == p2.model_dump()
    assert p2.dump_yaml() == p1.dump_yaml()


def mutate(raw: dict, fn) -> dict:
    r = copy.deepcopy(raw)
    fn(r)
    return r


CASES = {
    "unknown key": (lambda r: r["nads"][0].update(rnage="x"), ["nads[0].rnage"]),
    "unknown top-level key": (lambda r: r.update(nodez=[]), ["nodez"]),
    "wrong type": (lambda r: r["nads"][0].update(mtu="big"), ["nads[0].mtu"]),
    "range_end outside range": (lambda r: r["nads"][0]["ipam"].update(range_end="192.168.206.10"), ["nads[0].ipam.range_end"]),
    "range_start is broadcast": (lambda r: r["nads"][0]["ipam"].update(range_start="192.168.205.255"), ["nads[0].ipam.range_start"]),
    "reversed range": (lambda r: r["nads"][0]["ipam"].update(range_start="192.168.205.250", range_end="192.168.205.241"),
                       ["nads[0].ipam.range_end"]),
    "pool overlaps NAS": (lambda r: r["nads"][0]["ipam"].update(range_start="192.168.205.90"), ["nads[0].ipam"] * 5),
    "mtu too large": (lambda r: r["nads"][0].update(mtu=70000), ["nads[0].mtu"]),
    "mtu too small": (lambda r: r["nads"][0].update(mtu=60), ["nads[0].mtu"]),
    "interface name too long": (lambda r: r["nodes"][0]["storage_nic"].update(name="enp0s31f6abcdefgh"), ["nodes[0].storage_nic.name"]),
    "bad object name": (lambda r: r["nads"][0].update(name="Storage_205"), ["nads[0].name"]),
    "duplicate node name": (lambda r: r["nodes"][1].update(name="kr1"), ["nodes[1].name"]),
    "duplicate address": (lambda r: r["nodes"][1]["storage_nic"].update(address="192.168.205.214"), ["nodes[1].storage_nic.address"]),
    "unknown macvlan mode": (lambda r: r["nads"][0].update(mode="bridged"), ["nads[0].mode"]),
    "unknown cniVersion": (lambda r: r["nads"][0].update(cni_version="0.3.2"), ["nads[0].cni_version"]),
    "exclude outside range": (lambda r: r["nads"][0]["ipam"].update(exclude=["10.0.0.1/32"]), ["nads[0].ipam.exclude[0]"]),
    "shell in ssh alias": (lambda r: r["nodes"][0]["ssh"].update(alias="kr1;rm -rf /"), ["nodes[0].ssh.alias"]),
    "shell in k3s path": (lambda r: r.setdefault("k3s", {}).update(opt_cni_bin="/opt/cni/bin$(reboot)"), ["k3s.opt_cni_bin"]),
    "sudo mode typo": (lambda r: r["nodes"][0].update(sudo="yes"), ["nodes[0].sudo"]),
    "/32 pool": (lambda r: r["nads"][0]["ipam"].update(range="192.168.205.7/32", range_start=None, range_end=None), ["nads[0].ipam.range"]),
    "missing key file": (lambda r: r["nodes"][0]["ssh"].update(key_file="/nonexistent/id_ed25519"), ["nodes[0].ssh.key_file"]),
    "url without checksum": (lambda r: r.update(artifacts={"cni_plugins": {"url": "https://example.invalid/x.tgz"}}),
                             ["artifacts.cni_plugins"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_input_names_field(case: str, homelab_raw: dict) -> None:
    fn, expected = CASES[case]
    got = fields_of(mutate(homelab_raw, fn))
    assert got == expected, got


def test_overlap_with_every_occupant_is_listed(homelab_raw: dict) -> None:
    raw = mutate(homelab_raw, lambda r: r["nads"][0]["ipam"].update(range_start="192.168.205.90"))
    with pytest.raises(ParamsError) as exc:
        params_from_dict(raw)
    text = str(exc.value)
    for who in ("static_hosts[0]", "nodes[0]", "nodes[1]", "nodes[2]", "nodes[3]"):
        assert who in text
    assert "exclude" in text  # the fix is named


def test_all_errors_at_once(homelab_raw: dict) -> None:
    def many(r: dict) -> None:
        r["nads"][0]["mtu"] = 99999
        r["nads"][0]["mode"] = "nope"
        r["nodes"][2]["name"] = "kr1"
    assert fields_of(mutate(homelab_raw, many)) == ["nodes[2].name", "nads[0].mode", "nads[0].mtu"]


def test_pool_overlap_between_nads(homelab_raw: dict) -> None:
    def two(r: dict) -> None:
        other = copy.deepcopy(r["nads"][0])
        other.update(name="storage-b", namespace="default")
        other["ipam"].update(range_start="192.168.205.250", range_end="192.168.205.253")
        r["nads"].append(other)
    got = fields_of(mutate(homelab_raw, two))
    assert got == ["nads[1].ipam"]


def test_exclude_resolves_overlap(homelab_raw: dict) -> None:
    raw = mutate(homelab_raw, lambda r: r["nads"][0]["ipam"].update(
        range_start="192.168.205.100", exclude=["192.168.205.100/32", "192.168.205.134/31", "192.168.205.214", "192.168.205.227"]))
    p = params_from_dict(raw)
    assert p.nads[0].ipam.range_start == "192.168.205.100"


def test_relative_local_artifact_resolves_from_params_folder(tmp_path: Path, homelab_raw: dict) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "m.yml").write_text("x")
    homelab_raw["artifacts"] = {"multus_manifest": {"local": "files/m.yml"}}
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(homelab_raw))
    p = load_params(f)
    assert p.resolve(p.artifacts.multus_manifest.local) == tmp_path / "files" / "m.yml"
    homelab_raw["artifacts"] = {"multus_manifest": {"local": "files/nope.yml"}}
    f.write_text(yaml.safe_dump(homelab_raw))
    with pytest.raises(ParamsError) as exc:
        load_params(f)
    assert exc.value.issues[0].field == "artifacts.multus_manifest.local"


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="file not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes: [\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)


def test_typos_get_a_suggestion_and_type_errors_a_readable_fix(homelab_raw: dict) -> None:
    raw = copy.deepcopy(homelab_raw)
    raw["ssh"]["paralel"] = raw["ssh"].pop("parallel")
    raw["storage_network"]["mtu"] = "9OOO"
    raw["ssh"]["verify_host_keys"] = "maybe"
    with pytest.raises(ParamsError) as exc:
        params_from_dict(raw)
    by_field = {i.field: i for i in exc.value.issues}
    assert "did you mean 'parallel'" in by_field["ssh.paralel"].hint
    assert "whole number" in by_field["storage_network.mtu"].hint and "'9OOO'" in by_field["storage_network.mtu"].message
    assert by_field["ssh.verify_host_keys"].hint == "write true or false"


def test_structural_and_semantic_problems_in_one_run(homelab_raw: dict) -> None:
    def typos(r: dict) -> None:
        r["nodes"][0]["storage_nik"] = r["nodes"][0]["storage_nic"]
        r["storage_network"]["mtu"] = "9OOO"
        r["nads"][0]["mode"] = "brdige"
        r["nads"][0]["ipam"]["range_end"] = "192.168.205.230"
    got = fields_of(mutate(homelab_raw, typos))
    assert got == ["storage_network.mtu", "nodes[0].storage_nik", "nads[0].mode", "nads[0].ipam.range_end"]


def test_semantic_problems_under_a_dropped_key_are_not_reported(homelab_raw: dict) -> None:
    raw = mutate(homelab_raw, lambda r: r["nads"][0].update(mtu="jumbo"))
    assert fields_of(raw) == ["nads[0].mtu"]
