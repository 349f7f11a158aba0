"""Regression tests from the adversarial review: bad params, the lab's address guard, bad input files.

Each test is one thing that used to crash, pass silently, or be accepted when it must be refused.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import pytest
import yaml

from runbooklib.errors import ArtifactError, ParamsError, UnreachableError
from runbooklib.params import params_from_dict

REPO = Path(__file__).resolve().parents[2]
HOMELAB = REPO / "params" / "homelab.yaml"


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(HOMELAB.read_text())


def issues(raw: dict) -> dict[str, str]:
    with pytest.raises(ParamsError) as exc:
        params_from_dict(raw, require_files=False)
    return {i.field: str(i) for i in exc.value.issues}


def lab_section(raw: dict, mgmt: str = "198.19.224.0/24", state_dir: str = "/var/tmp/runbooklib-review-unit") -> dict:
    raw = copy.deepcopy(raw)
    raw["cluster"] = "review"
    raw["lab"] = {"state_dir": state_dir, "mgmt_cidr": mgmt}
    net = mgmt.rsplit(".", 1)[0]
    for i, n in enumerate(raw["nodes"]):
        n["ssh"] = {"host": f"{net}.{11 + i}", "user": "root"}
    return raw


# ---------------------------------------------------------------------------------------------- params


def test_range_start_of_the_other_ip_version_is_an_issue_not_a_crash(raw: dict) -> None:
    raw["nads"][0]["ipam"]["range_start"] = "fd00::1"
    found = issues(raw)
    assert "not an IPv4 address" in found["nads[0].ipam.range_start"]


@pytest.mark.parametrize("key,value", [("host", "-oProxyCommand"), ("alias", "-F"), ("user", "-l")])
def test_ssh_tokens_starting_with_a_dash_are_refused(raw: dict, key: str, value: str) -> None:
    raw["nodes"][0]["ssh"] = {key: value} if key != "user" else {"alias": "kr1", "user": value}
    assert f"nodes[0].ssh.{key}" in issues(raw)


@pytest.mark.parametrize("name", ["-ens2", ".", ".."])
def test_interface_names_that_read_as_options_or_paths_are_refused(raw: dict, name: str) -> None:
    raw["nads"][0]["master"] = name
    raw["nodes"][1]["storage_nic"]["name"] = name
    found = issues(raw)
    assert "nads[0].master" in found and "nodes[1].storage_nic.name" in found


@pytest.mark.parametrize("field,value", [
    ("whereabouts_link", "/etc"),             # prep would move /etc away and put a symlink there
    ("opt_cni_bin", "/"),
    ("opt_cni_bin", "/usr/bin"),
    ("conf_dir", "/var/lib/rancher/k3s/agent/etc/cni/net.d/../../../../../etc"),
    ("cni_bin_dir", "/var/lib/rancher/k3s/data/cni/"),
])
def test_k3s_paths_that_are_system_dirs_or_not_normalised_are_refused(raw: dict, field: str, value: str) -> None:
    raw["k3s"] = {field: value}
    assert f"k3s.{field}" in issues(raw)


def test_k3s_default_paths_and_a_whereabouts_link_on_etc_cni_are_fine(raw: dict) -> None:
    raw["k3s"] = {"whereabouts_link": "/etc/cni"}  # the k3s maintainer's fix 1 (link /etc/cni)
    params_from_dict(raw, require_files=False)


@pytest.mark.parametrize("addr", ["192.168.205.0", "192.168.205.255"])
def test_network_and_broadcast_address_are_not_host_addresses(raw: dict, addr: str) -> None:
    raw["nodes"][0]["storage_nic"]["address"] = addr
    raw["static_hosts"][0]["address"] = addr
    found = issues(raw)
    assert "nodes[0].storage_nic.address" in found and "static_hosts[0].address" in found


def test_c15_nad_mtu_above_the_masters_mtu_is_refused(raw: dict) -> None:
    raw["nodes"][2]["storage_nic"]["mtu"] = 1500   # hp1's ens2 at 1500, NAD asks 9000
    found = issues(raw)
    assert "hp1 (1500)" in found["nads[0].mtu"] and "at most 1500" in found["nads[0].mtu"]


def test_sudo_password_env_must_be_a_variable_name(raw: dict) -> None:
    raw["ssh"] = {"sudo_password_env": ""}
    assert "ssh.sudo_password_env" in issues(raw)


def test_sha256_url_scheme_is_checked_like_url(raw: dict) -> None:
    raw["artifacts"] = {"cni_plugins": {"url": "https://example.invalid/p.tgz", "sha256_url": "ftp://example.invalid/p.sha256"}}
    assert "artifacts.cni_plugins.sha256_url" in issues(raw)


def test_ipam_configuration_path_and_network_name_are_checked(raw: dict) -> None:
    raw["nads"][0]["ipam"]["configuration_path"] = '/x"}, "type":"evil'
    raw["nads"][0]["ipam"]["network_name"] = "A B/../x"
    found = issues(raw)
    assert "nads[0].ipam.configuration_path" in found and "nads[0].ipam.network_name" in found


# ---------------------------------------------------------------------------------------------- lab


@pytest.mark.parametrize("mgmt", ["192.168.1.0/24", "10.0.0.0/24", "not-a-cidr"])
def test_lab_mgmt_cidr_outside_the_test_block_is_refused(raw: dict, mgmt: str) -> None:
    lab = lab_section(raw, mgmt="198.19.224.0/24")
    lab["lab"]["mgmt_cidr"] = mgmt
    assert "lab.mgmt_cidr" in issues(lab)


@pytest.mark.parametrize("state_dir", ["/", "/var/tmp", "/home", "relative/dir", "/var/tmp/x/../.."])
def test_lab_state_dir_must_be_a_dir_of_its_own(raw: dict, state_dir: str) -> None:
    assert "lab.state_dir" in issues(lab_section(raw, state_dir=state_dir))


def test_lab_names_refuse_a_real_storage_network(raw: dict) -> None:
    """A params file for a real cluster (192.168.205.0/24) with a lab section: the lab must not build it."""
    from runbooklib.lab.names import LabParamsError, lab_names

    params = params_from_dict(lab_section(raw), require_files=False)  # valid params for a real cluster
    with pytest.raises(LabParamsError, match=r"198\.18\.0\.0/15.*storage_network\.cidr 192\.168\.205\.0/24"):
        lab_names(params)


def test_runbook_lab_with_real_addresses_exits_2_before_touching_anything(raw: dict, tmp_path: Path) -> None:
    from runbooklib.cli import lab_cmd  # status only: read-only even if the guard regressed

    f = tmp_path / "real.yaml"
    f.write_text(yaml.safe_dump(lab_section(raw)))
    with pytest.raises(ParamsError) as exc:
        lab_cmd._status(argparse.Namespace(params=str(f), json=True))
    assert "192.168.205.0/24 is outside it" in str(exc.value)
    assert not Path("/var/tmp/runbooklib-review-unit").exists()


# ---------------------------------------------------------------------------------------------- files


def test_nad_file_missing_bad_or_without_nads_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from runbooklib.cli import nad_cmd
    from runbooklib.nad.document import NadFileError, documents_from_yaml

    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [b\n")
    empty = tmp_path / "cm.yaml"
    empty.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    for f, text in ((tmp_path / "none.yaml", "cannot read"), (bad, "not valid YAML"), (empty, "no NetworkAttachmentDefinition")):
        with pytest.raises(NadFileError, match=text):
            documents_from_yaml(f)
        args = argparse.Namespace(params=str(HOMELAB), json=False, offline=True, nad_file=str(f))
        assert nad_cmd._validate(args) == 2
        assert text in capsys.readouterr().err


def test_manifest_override_missing_or_binary_is_an_artifact_error(tmp_path: Path) -> None:
    from runbooklib.manifests.source import _from_local
    from runbooklib.params import Artifact

    with pytest.raises(ArtifactError, match="cannot read"):
        _from_local(tmp_path / "none.yml", Artifact(local="x"))
    binary = tmp_path / "b.yml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ArtifactError, match="UTF-8"):
        _from_local(binary, Artifact(local="x"))


def test_corrupt_known_hosts_is_unreachable_not_a_traceback(raw: dict, tmp_path: Path) -> None:
    from runbooklib.remote.host import SshHost

    kh = tmp_path / "known_hosts"
    kh.write_text("[127.0.0.1]:22922 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake0\n")
    raw["ssh"] = {"known_hosts": str(kh)}
    params = params_from_dict(raw, require_files=False)
    with pytest.raises(UnreachableError, match="cannot read known_hosts"):
        SshHost.from_params(params, params.nodes[0])


def test_occupancy_table_html_is_escaped() -> None:
    import pandas as pd

    from runbooklib.occupancy.render import style_occupancy

    frame = pd.DataFrame([{"address": "192.0.2.1", "state": "static", "holder": "<script>alert(1)</script>"}])
    html = style_occupancy(frame).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_proxyjump_hops_verify_host_keys_too(raw: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An alias whose ~/.ssh/config entry has ProxyJump: fabric's hop connection must not AutoAdd keys."""
    import paramiko

    from runbooklib.remote.host import SshHost

    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text("Host kr1\n  HostName 198.18.0.10\n  ProxyJump jump1,jump2\n")
    monkeypatch.setenv("HOME", str(home))
    params = params_from_dict(raw, require_files=False)
    host = SshHost.from_params(params, params.nodes[0])
    hop, seen = host._conn.gateway, 0  # type: ignore[attr-defined]
    while hop is not None and not isinstance(hop, str):
        assert isinstance(hop.client._policy, paramiko.RejectPolicy)
        hop, seen = hop.gateway, seen + 1
    assert seen == 2
    assert isinstance(host._conn.client._policy, paramiko.RejectPolicy)  # type: ignore[attr-defined]


def test_unknown_ssh_alias_names_the_fix(tmp_path) -> None:
    """An alias that is neither in ~/.ssh/config nor resolvable: the error says where to define it."""
    import pytest

    from runbooklib.errors import UnreachableError
    from runbooklib.params import params_from_dict
    from runbooklib.remote.host import SshHost

    raw = {"cluster": "c", "storage_network": {"cidr": "198.18.205.0/24"},
           "ssh": {"known_hosts": str(tmp_path / "kh"), "connect_timeout_s": 2},
           "nodes": [{"name": "n1", "ssh": {"alias": "no-such-alias.invalid"}, "sudo": "root",
                      "storage_nic": {"name": "ens2", "address": "198.18.205.10"}}]}
    params = params_from_dict(raw)
    host = SshHost.from_params(params, params.nodes[0])
    with pytest.raises(UnreachableError) as exc:
        host.run("true")
    assert "does not resolve" in str(exc.value) and "~/.ssh/config" in str(exc.value)
