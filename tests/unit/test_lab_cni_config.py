"""Whereabouts config search/merge, kubeconfig reading, CNI helpers (lab, pure)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runbooklib.lab.cni import effects
from runbooklib.lab.cni.nodeside import cniproto, wbconfig


def test_search_order_and_not_found() -> None:
    ipam = {"type": "whereabouts", "configuration_path": "/x/whereabouts.conf"}
    assert wbconfig.search_paths(ipam) == ["/x/whereabouts.conf", *wbconfig.DEFAULT_PATHS]
    assert wbconfig.DEFAULT_PATHS == (
        "/etc/kubernetes/cni/net.d/whereabouts.d/whereabouts.conf",
        "/etc/cni/net.d/whereabouts.d/whereabouts.conf",
        "/host/etc/cni/net.d/whereabouts.d/whereabouts.conf")
    seen: list[str] = []
    with pytest.raises(wbconfig.ConfigError, match="^config file not found$"):
        wbconfig.find_flat_config(ipam, exists=lambda p: seen.append(p) and False)
    assert seen == wbconfig.search_paths(ipam)
    assert wbconfig.find_flat_config({}, exists=lambda p: p.startswith("/etc/cni")) == wbconfig.DEFAULT_PATHS[1]


def test_merge_fills_only_empty_fields(tmp_path: Path) -> None:
    flat = tmp_path / "whereabouts.conf"
    flat.write_text(json.dumps({"datastore": "kubernetes", "range": "10.0.0.0/8",
                                "kubernetes": {"kubeconfig": "/k"}}))
    netconf = {"ipam": {"type": "whereabouts", "range": "198.18.205.0/24", "configuration_path": str(flat)}}
    merged = wbconfig.load_ipam(netconf)
    assert merged["range"] == "198.18.205.0/24" and merged["kubernetes"]["kubeconfig"] == "/k"
    flat.write_text(json.dumps({"datastore": "kubernetes"}))
    with pytest.raises(wbconfig.ConfigError, match="you have not configured the storage engine"):
        wbconfig.load_ipam(netconf)
    with pytest.raises(wbconfig.ConfigError, match="This one was: host-local"):
        wbconfig.load_ipam({"ipam": {"type": "host-local"}})


def test_installer_kubeconfig_round_trip() -> None:
    text = effects.whereabouts_kubeconfig("http://198.19.0.1:16443", "tok", "kube-system")
    assert wbconfig.kubeconfig_target(text) == ("http://198.19.0.1:16443", "tok", "kube-system")
    conf = json.loads(effects.whereabouts_conf("/etc/cni/net.d/whereabouts.d/whereabouts.kubeconfig"))
    assert conf["kubernetes"]["kubeconfig"] == "/etc/cni/net.d/whereabouts.d/whereabouts.kubeconfig"
    js = json.dumps({"current-context": "c", "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
                     "clusters": [{"name": "k", "cluster": {"server": "http://a"}}], "users": [{"name": "u", "user": {}}]})
    assert wbconfig.kubeconfig_target(js) == ("http://a", "", "kube-system")


def test_find_in_path_follows_symlinks_and_needs_regular_file(tmp_path: Path) -> None:
    d = tmp_path / "bin"
    d.mkdir()
    (d / "real").write_text("x")
    os.symlink(str(d / "real"), d / "good")
    os.symlink("/nonexistent/bin/cni", d / "flannel")
    (d / "adir").mkdir()
    assert cniproto.find_in_path("good", [str(d)]) == str(d / "good")
    for name in ("flannel", "adir", "missing"):
        with pytest.raises(cniproto.CniError) as e:
            cniproto.find_in_path(name, [str(d), "/opt/cni/bin"])
        assert str(e.value) == f'failed to find plugin "{name}" in path [{d} /opt/cni/bin]'


def test_plugin_error_forms() -> None:
    assert str(cniproto.plugin_error(1, b'{"code":7,"msg":"invalid MTU 9000, must be [0, master MTU(1500)]"}', b"")) \
        == "invalid MTU 9000, must be [0, master MTU(1500)]"
    assert str(cniproto.plugin_error(2, b"", b"boom")) == 'netplugin failed: "boom"'
    assert str(cniproto.plugin_error(2, b"", b"")) == "netplugin failed with no error message: exit status 2"


def test_multus_init_commands() -> None:
    v422 = ["sh", "-c", "cp /usr/src/multus-cni/bin/multus-shim /host/opt/cni/bin/multus-shim && "
            "cp /usr/src/multus-cni/bin/passthru /host/opt/cni/bin/passthru"]
    assert [op["dst"] for op in effects.multus_init_ops(v422)] == ["/host/opt/cni/bin/multus-shim",
                                                                   "/host/opt/cni/bin/passthru"]
    v423 = ["/usr/src/multus-cni/bin/install_multus", "-d", "/host/opt/cni/bin", "-t", "thick"]
    assert [op["src"].rsplit("/", 1)[1] for op in effects.multus_init_ops(v423)] == ["multus-shim", "passthru"]
