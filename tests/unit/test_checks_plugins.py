"""failed-to-find-plugin over recorded evidence: layout A, B, mixtures, unreachable."""

from __future__ import annotations

import copy

from runbooklib.checks.evidence import ClusterEvidence, NodeEvidence
from runbooklib.checks.plugins import check_failed_to_find_plugin
from runbooklib.results import Severity
from tests.unit.checks_fixtures import cluster, copy_node, ctx, nads, node


def _check(nodes: dict[str, NodeEvidence], cl: ClusterEvidence | None = None, plugin: str | None = None):  # noqa: ANN202
    cl = cl or cluster()
    return check_failed_to_find_plugin(ctx(), nodes, cl, nads(cl), plugin)


def test_healthy_lab_passes_and_lists_every_needed_plugin() -> None:
    res = _check({"n1": node("n1", "healthy")})
    assert res.severity is Severity.OK, [f.title for f in res.problems]
    row = res.tables["plugins per node"][0]
    assert {k for k, v in row.items() if v == "ok"} >= {"flannel", "bridge", "host-local", "portmap", "macvlan", "whereabouts"}


def test_symlinked_opt_dir_fails_and_node_prep_repairs_it() -> None:
    res = _check({"n1": node("n1", "healthy"), "n2": node("n2", "opt_symlink")})
    bad = [f for f in res.problems if f.target == "n2"]
    assert any(f.title == "/opt/cni/bin is a symlink, not a real directory" for f in bad)
    assert any(f.evidence.get("state") == "link-outside" for f in bad)
    assert res.repairable_nodes() == ["n2"]
    assert not [f for f in res.problems if f.target == "n1"]


def test_version_mismatch_is_a_fail() -> None:
    ev = node("n1", "healthy")
    assert ev.binaries is not None
    b = ev.binaries["macvlan"]
    ev.binaries["macvlan"] = type(b)(b.name, b.path, b.kind, b.executable, b.link_target, b.target_kind, 0,
                                     '{"cniVersion":"0.2.0","supportedVersions":["0.1.0","0.2.0"]}')
    res = _check({"n1": ev})
    f = next(f for f in res.problems if "macvlan" in f.title)
    assert f.severity is Severity.FAIL and "incompatible CNI versions" in f.title + f.detail


def test_not_answering_version_is_a_fail() -> None:
    ev = node("n1", "healthy")
    assert ev.binaries is not None
    b = ev.binaries["bridge"]
    ev.binaries["bridge"] = type(b)(b.name, b.path, b.kind, b.executable, b.link_target, b.target_kind, 126, "exec format error")
    assert any("does not answer CNI_COMMAND=VERSION" in f.title for f in _check({"n1": ev}).problems)


def _with_bin_paths(cl: ClusterEvidence, host: str, mount: str) -> ClusterEvidence:
    cl = copy.deepcopy(cl)
    spec = cl.multus_ds["spec"]["template"]["spec"]  # type: ignore[index]
    for v in spec["volumes"]:
        if v["name"] == "cnibin":
            v["hostPath"]["path"] = host
    for c in spec["containers"]:
        for m in c.get("volumeMounts", []):
            if m["name"] == "cnibin":
                m["mountPath"] = mount
    return cl


def test_mixture_of_layouts_in_the_daemonset_fails() -> None:
    cl = _with_bin_paths(cluster(), "/var/lib/rancher/k3s/data/cni", "/opt/cni/bin")
    res = _check({"n1": node("n1", "healthy")}, cl)
    assert any(f.title == "cnibin mountPath differs from its hostPath" and f.severity is Severity.FAIL for f in res.findings)


def test_layout_b_allows_links_into_the_mounted_data_dir() -> None:
    cl = _with_bin_paths(cluster(), "/var/lib/rancher/k3s/data/cni", "/var/lib/rancher/k3s/data/cni")
    cm = cl.multus_cm
    assert cm is not None
    cm["data"]["daemon-config.json"] = cm["data"]["daemon-config.json"].replace(
        '"chrootDir"', '"binDir": "/var/lib/rancher/k3s/data/cni", "chrootDir"')
    spec = cl.multus_ds["spec"]["template"]["spec"]  # type: ignore[index]
    spec["volumes"].append({"name": "k3s-data", "hostPath": {"path": "/var/lib/rancher/k3s/data"}})
    spec["containers"][0]["volumeMounts"].append({"name": "k3s-data", "mountPath": "/var/lib/rancher/k3s/data"})
    ev = node("n2", "opt_symlink")  # data/cni holds everything (links to the multicall + copied files)
    res = _check({"n2": ev}, cl)
    assert any("layout B" in f.title for f in res.findings)
    assert not [f for f in res.problems if f.evidence.get("state") == "link-outside"]


def test_unreachable_node_and_cluster_are_never_a_pass() -> None:
    res = _check({"n1": NodeEvidence("n1", error="NoValidConnectionsError: port 22")}, ClusterEvidence(error="ConnectionRefused"))
    titles = [f.title for f in res.findings if f.severity is Severity.FAIL]
    assert any("unreachable" in t and "n1" in t for t in titles)
    assert any(t.startswith("cluster unreachable") for t in titles)
    assert res.tables["plugins per node"] == [{"node": "n1", "status": "unreachable"}]


def test_only_the_named_plugin() -> None:
    assert _check({"n1": copy_node(node("n1", "healthy"))}, plugin="ipvlan").severity is Severity.OK
    res = _check({"n1": copy_node(node("n1", "healthy"))}, plugin="sriov")
    f = next(f for f in res.problems if "sriov" in f.title)
    assert f.evidence["state"] == "missing" and "repair" not in f.evidence  # not in the plugin release: manual
    assert "Multus does not ship delegate plugins" in f.fix[0]
    assert list(res.tables["plugins per node"][0]) == ["node", "sriov"]
