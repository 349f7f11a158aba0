"""config-not-found over recorded evidence: link, search order, JSON, kubeconfig."""

from __future__ import annotations

from runbooklib.checks.evidence import ConfFile, NodeEvidence
from runbooklib.checks.model import Nad
from runbooklib.checks.whereabouts import check_config_not_found, explain_order, search_paths
from runbooklib.results import Severity
from tests.unit.checks_fixtures import cluster, ctx, nads, node

LINK = "/etc/cni/net.d/whereabouts.d"
K3S_WB = "/var/lib/rancher/k3s/agent/etc/cni/net.d/whereabouts.d"


def _check(ev: NodeEvidence, the_nads: list[Nad] | None = None):  # noqa: ANN202
    return check_config_not_found(ctx(), {ev.node: ev}, cluster(), the_nads if the_nads is not None else nads())


def test_healthy_node_finds_the_file_through_the_link() -> None:
    res = _check(node("n1", "healthy"))
    assert res.severity is Severity.OK, [f.title for f in res.problems]
    assert res.tables["whereabouts.conf used per node"][0]["default/storage-207"] == f"{LINK}/whereabouts.conf"


def test_missing_link_fails_with_search_order_and_both_fixes() -> None:
    ev = node("n1", "healthy")
    for p in list(ev.fs):
        if p.startswith(LINK):
            del ev.fs[p]
    ev.fs[LINK] = "missing"
    res = _check(ev)
    f = next(f for f in res.problems if "not found at any path" in f.title)
    assert f.evidence["searched_paths"] == search_paths(None)
    assert "first that exists wins" in f.detail and f.evidence["repair"] == "node-prep"
    assert any("configuration_path" in c for c in f.fix)


def test_invalid_json_and_missing_kubeconfig() -> None:
    ev = node("n1", "healthy")
    ev.wb_confs[f"{LINK}/whereabouts.conf"] = ConfFile(f"{LINK}/whereabouts.conf", "invalid", error="Expecting ',' delimiter")
    assert any(f.title.endswith("is not valid JSON") for f in _check(ev).problems)
    ev.wb_confs[f"{LINK}/whereabouts.conf"] = ConfFile(f"{LINK}/whereabouts.conf", "ok", {"datastore": "kubernetes"})
    f = next(f for f in _check(ev).problems if "no kubeconfig" in f.title)
    assert "you have not configured the storage engine" in f.detail


def test_kubeconfig_that_does_not_resolve_on_the_host() -> None:
    ev = node("n1", "healthy")
    ev.wb_confs[f"{LINK}/whereabouts.conf"] = ConfFile(f"{LINK}/whereabouts.conf", "ok",
                                                       {"kubeconfig": "/etc/kubernetes/whereabouts.kubeconfig"})
    ev.fs["/etc/kubernetes"] = "missing"
    f = next(f for f in _check(ev).problems if "does not resolve on the host" in f.title)
    assert "C06" in f.detail and f.severity is Severity.FAIL


def test_configuration_path_that_is_missing_falls_back_with_a_warning() -> None:
    base = nads()[0]
    cfg = {**(base.config or {}), "ipam": {**base.ipam, "configuration_path": "/nowhere/whereabouts.conf"}}
    ev = node("n1", "healthy")
    ev.fs["/nowhere"] = "missing"
    res = _check(ev, [Nad(base.namespace, base.name, cfg, "cluster")])
    assert any(f.severity is Severity.WARN and "does not exist" in f.title for f in res.findings)
    assert res.severity is Severity.WARN


def test_etc_cni_linked_as_a_whole_is_explained_as_ok() -> None:
    ev = NodeEvidence("n1", fs={"/etc/cni": "symlink -> /var/lib/rancher/k3s/agent/etc/cni",
                                K3S_WB: "dir (contains: whereabouts.conf, whereabouts.kubeconfig)"})
    ev.wb_confs[f"{LINK}/whereabouts.conf"] = ConfFile(f"{LINK}/whereabouts.conf", "ok",
                                                       {"kubeconfig": f"{LINK}/whereabouts.kubeconfig"})
    res = _check(ev)
    assert res.severity is Severity.OK, [(f.title, f.detail) for f in res.problems]
    assert any("k3s-io/docs #341" in f.detail for f in res.findings)


def test_explain_order_marks_the_winner() -> None:
    text = explain_order(["/a", "/b"], True, "/b")
    assert "1. /a (ipam.configuration_path)" in text and "2. /b <- used" in text
