"""upgrade-check over recorded evidence: links, stale flannel, layout, containerd, references."""

from __future__ import annotations

import copy

from runbooklib.checks.evidence import ContainerdConf, NodeEvidence
from runbooklib.checks.upgrade import check_upgrade
from runbooklib.results import Severity
from tests.unit.checks_fixtures import cluster, ctx, nads, node

SHIM = "/var/lib/rancher/k3s/data/cni/multus-shim"


def _check(ev: NodeEvidence, cl=None):  # noqa: ANN001, ANN202
    return check_upgrade(ctx(), {ev.node: ev}, cl or cluster(), nads())


def test_healthy_lab_passes() -> None:
    res = _check(node("n1", "healthy"))
    assert res.severity is Severity.OK, [(f.title, f.detail) for f in res.problems]
    assert any("matches the current multicall binary" in f.title for f in res.findings)
    assert any(f.title.startswith("no containerd config") for f in res.findings)  # said, not silently passed


def test_dropped_shim_link_and_stale_flannel_are_repaired_by_node_prep() -> None:
    ev = node("n1", "healthy")
    ev.fs[SHIM] = "missing"
    ev.sha256["/opt/cni/bin/flannel"] = "0" * 64
    res = _check(ev)
    titles = {f.title: f for f in res.problems}
    assert f"{SHIM} does not resolve" in titles and "/opt/cni/bin/flannel is stale" in titles
    assert all(f.evidence.get("repair") == "node-prep" for f in titles.values())
    assert res.repairable_nodes() == ["n1"]


def test_stale_containerd_bin_dir() -> None:
    ev = node("n1", "healthy")
    ev.containerd = ContainerdConf("/var/lib/rancher/k3s/agent/etc/containerd/config.toml", "ok",
                                   ["/var/lib/rancher/k3s/data/0123456789abcdef0123/bin"])
    assert any("is not the running release's" in f.title for f in _check(ev).problems)
    ev.containerd.bin_dirs = ["/var/lib/rancher/k3s/data/cni"]
    assert not [f for f in _check(ev).problems if "bin_dir" in f.title]


def test_old_k3s_layout_without_data_cni() -> None:
    ev = node("n1", "healthy")
    ev.fs = {p: d for p, d in ev.fs.items() if not p.startswith("/var/lib/rancher/k3s/data/cni")}
    ev.fs["/var/lib/rancher/k3s/data/cni"] = "missing"
    f = next(f for f in _check(ev).problems if "older k3s layout" in f.title)
    assert f.severity is Severity.FAIL  # the params name data/cni, which this k3s does not have


def test_daemonset_naming_a_release_dir_fails() -> None:
    cl = copy.deepcopy(cluster())
    assert cl.multus_ds is not None
    for v in cl.multus_ds["spec"]["template"]["spec"]["volumes"]:
        if v["name"] == "cnibin":
            v["hostPath"]["path"] = "/var/lib/rancher/k3s/data/current/bin"
    res = _check(node("n1", "healthy"), cl)
    f = next(f for f in res.problems if f.title.endswith("is tied to one k3s release"))
    assert f.evidence["dir"] == "/var/lib/rancher/k3s/data/current/bin"


def test_daemonset_not_ready() -> None:
    cl = copy.deepcopy(cluster())
    cl.daemonsets[0]["is_ready"] = False
    assert any(f.target == "DaemonSet kube-system/kube-multus-ds" and f.severity is Severity.FAIL for f in _check(
        node("n1", "healthy"), cl).findings)
