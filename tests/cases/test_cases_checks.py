"""The handed cases about troubleshooting checks, upgrade checks and node prep (C01, C02, C04, C05,
C09, C12, C13): each case's input becomes evidence, the check must give the case's status, match its
error text and propose its right value. Read from ../shared/cases/handed.jsonl next to the repo."""

from __future__ import annotations

import json
from typing import Any

from handed import load_cases, skip_without

from runbooklib.checks.evidence import ClusterEvidence, ConfFile, ContainerdConf, NodeEvidence
from runbooklib.checks.model import Ctx, Nad
from runbooklib.checks.plugins import check_failed_to_find_plugin
from runbooklib.checks.upgrade import check_multus_cni_version, check_upgrade
from runbooklib.checks.whereabouts import check_config_not_found
from runbooklib.results import Finding, Severity, worst

COMPONENTS = {"troubleshooting check", "upgrade check", "node-prep"}

CASES = load_cases(COMPONENTS)
pytestmark = skip_without(CASES)
CTX = Ctx(params_file="params/homelab.yaml")


def case(cid: str) -> dict[str, Any]:
    return CASES[cid]


def multus_ds(host: str = "/opt/cni/bin", mount: str = "/opt/cni/bin", image: str = "multus-cni:v4.2.2-thick") -> dict[str, Any]:
    return {"kind": "DaemonSet", "metadata": {"name": "kube-multus-ds", "namespace": "kube-system"},
            "spec": {"template": {"spec": {
                "containers": [{"name": "kube-multus", "image": image, "volumeMounts": [{"name": "cnibin", "mountPath": mount}]}],
                "volumes": [{"name": "cnibin", "hostPath": {"path": host}}]}}}}


def cluster_with(log: list[str] | None = None, ds: dict[str, Any] | None = None, nads: list[dict[str, Any]] | None = None) -> ClusterEvidence:
    return ClusterEvidence(multus_ds=ds or multus_ds(), multus_logs={"kube-multus-ds-x/kube-multus (node-a)": log or []},
                           nads=[{"namespace": n["namespace"], "name": n["name"], "config": json.dumps(n["config"])}
                                 for n in nads or []])


def fails(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.FAIL]


def test_every_check_case_has_a_test() -> None:
    assert set(CASES) == {"C01", "C02", "C04", "C05", "C09", "C12", "C13"}


def test_c01_symlinked_opt_cni_bin_fails_for_each_offending_link() -> None:
    c = case("C01")
    ev = NodeEvidence("node-a", fs=c["input"]["node_fs"])
    res = check_failed_to_find_plugin(CTX, {"node-a": ev}, cluster_with(c["input"]["log"]), [])
    assert worst(res.findings).value.upper() == c["expected"]["status"]
    titles = [f.title for f in fails(res.findings)]
    assert "/opt/cni/bin is a symlink, not a real directory" in titles
    for plugin in ("flannel", "portmap"):  # each offending symlink, whose chain leaves the dir
        f = next(f for f in fails(res.findings) if f.evidence.get("path") == f"/opt/cni/bin/{plugin}")
        assert f.evidence["state"] == "link-outside"
        assert f.evidence["final"].startswith("/var/lib/rancher/k3s/data/")
    flannel = next(f for f in res.findings if f.evidence.get("path") == "/opt/cni/bin/flannel")
    assert any(c["expected"]["error_match"] in line for line in flannel.evidence["log_lines"])
    right = c["expected"]["right_value"]
    dir_finding = next(f for f in res.findings if f.title.startswith("/opt/cni/bin is a symlink"))
    assert dir_finding.evidence["right_value"] == right["/opt/cni/bin"]
    assert "regular executable file" in flannel.evidence["right_value"]
    # the fix is node prep (real dir, real copies, host-side shim links), applied by repair
    assert dir_finding.evidence["repair"] == "node-prep" and res.repairable_nodes() == ["node-a"]
    # multus-shim and passthru: only host-side links into data/cni are expected
    shim = next(f for f in res.findings if f.evidence.get("path") == "/var/lib/rancher/k3s/data/cni/multus-shim")
    assert shim.severity is Severity.WARN  # a regular file works for containerd but goes stale
    assert right["/var/lib/rancher/k3s/data/cni/multus-shim"].startswith(shim.evidence["expected"])


def test_c02_cluster_network_plugins_missing() -> None:
    c = case("C02")
    conf = c["input"]["cluster_network_conflist"]
    ev = NodeEvidence("node-a", fs=c["input"]["node_fs"])
    ev.cni_confs["10-flannel.conflist"] = ConfFile(conf["path"], "ok", {
        "name": conf["config"]["name"], "cniVersion": conf["config"]["cniVersion"],
        "types": [p["type"] for p in conf["config"]["plugins"]]})
    res = check_failed_to_find_plugin(CTX, {"node-a": ev}, cluster_with(c["input"]["log"]), [])
    assert worst(res.findings).value.upper() == c["expected"]["status"]
    missing = {f.evidence["path"].rsplit("/", 1)[1] for f in fails(res.findings) if f.evidence.get("state") == "missing"}
    assert missing == set(c["expected"]["missing"])
    portmap = next(f for f in fails(res.findings) if f.evidence.get("path") == "/opt/cni/bin/portmap")
    assert any(c["expected"]["error_match"] in line for line in portmap.evidence["log_lines"])
    assert portmap.evidence["needed_cniVersion"] == "1.0.0"
    table = res.tables["plugins per node"][0]
    assert table["portmap"] == "missing" and table["multus-shim" if "multus-shim" in table else "node"] in ("node-a", "ok")


def _inventory(names: list[str]) -> dict[str, str]:
    return {"/opt/cni/bin": f"dir (contains: {', '.join(names)})"}


def test_c04_nad_plugin_missing_per_node() -> None:
    c = case("C04")
    nodes = {n: NodeEvidence(n, fs=_inventory(v["/opt/cni/bin"])) for n, v in c["input"]["nodes"].items()}
    nad = c["input"]["nad"]
    res = check_failed_to_find_plugin(CTX, nodes, cluster_with(c["input"]["log"], nads=[nad]),
                                      [Nad(nad["namespace"], nad["name"], nad["config"], "cluster")])
    assert worst(res.findings).value.upper() == c["expected"]["status"]
    table = {row["node"]: row for row in res.tables["plugins per node"]}
    for node, expected in c["expected"]["per_node"].items():
        for plugin, state in expected.items():
            assert table[node][plugin] == state, (node, plugin)
    for node in ("node-a", "node-b"):
        assert any(f.target == node and f.evidence.get("path") == "/opt/cni/bin/whereabouts" for f in fails(res.findings))
    wb = next(f for f in fails(res.findings) if f.evidence.get("path") == "/opt/cni/bin/whereabouts")
    assert any("rollout restart daemonset/whereabouts" in cmd for cmd in wb.fix)  # its DaemonSet installs it
    mv = next(f for f in fails(res.findings) if f.evidence.get("path") == "/opt/cni/bin/macvlan")
    assert mv.target == "node-b" and mv.evidence["repair"] == "node-prep"  # node prep installs the plugin release


def test_c05_whereabouts_config_not_found() -> None:
    c = case("C05")
    nad = c["input"]["nad"]
    ev = NodeEvidence("node-a", fs=c["input"]["node_fs"])
    res = check_config_not_found(CTX, {"node-a": ev}, cluster_with(c["input"]["log"], nads=[nad]),
                                 [Nad(nad["namespace"], nad["name"], nad["config"], "cluster")])
    assert worst(res.findings).value.upper() == c["expected"]["status"]
    f = next(f for f in fails(res.findings) if "not found at any path" in f.title)
    assert f.evidence["error_match"] == c["expected"]["error_match"]
    assert f.evidence["searched_paths"] == c["expected"]["searched_paths"][1:]  # no configuration_path in this NAD
    assert f.evidence["right_value"] == c["expected"]["right_value"]
    assert "first that exists wins" in f.detail
    link = next(f for f in fails(res.findings) if f.title.startswith("/etc/cni/net.d/whereabouts.d"))
    assert link.evidence["repair"] == "node-prep"


def test_c05_fixed_either_way() -> None:
    """Each of the two right values makes the check pass."""
    c = case("C05")
    nad = c["input"]["nad"]
    opt1 = {**c["input"]["node_fs"],
            "/etc/cni/net.d/whereabouts.d": "symlink -> /var/lib/rancher/k3s/agent/etc/cni/net.d/whereabouts.d",
            "/var/lib/rancher/k3s/agent/etc/cni/net.d/whereabouts.d": "dir"}
    ev = NodeEvidence("node-a", fs=opt1)
    ev.wb_confs["/etc/cni/net.d/whereabouts.d/whereabouts.conf"] = ConfFile(
        "/etc/cni/net.d/whereabouts.d/whereabouts.conf", "ok",
        {"datastore": "kubernetes", "kubeconfig": "/etc/cni/net.d/whereabouts.d/whereabouts.kubeconfig"})
    res = check_config_not_found(CTX, {"node-a": ev}, cluster_with(), [Nad("default", nad["name"], nad["config"], "cluster")])
    assert worst(res.findings) is Severity.OK, [f.title for f in res.problems]
    k3s_dir = "/var/lib/rancher/k3s/agent/etc/cni/net.d/whereabouts.d"
    cfg = json.loads(json.dumps(nad["config"]))
    cfg["ipam"].update(c["expected"]["right_value"]["option_2"] and {
        "configuration_path": f"{k3s_dir}/whereabouts.conf", "kubernetes": {"kubeconfig": f"{k3s_dir}/whereabouts.kubeconfig"}})
    ev2 = NodeEvidence("node-a", fs=c["input"]["node_fs"])
    ev2.wb_confs[f"{k3s_dir}/whereabouts.conf"] = ConfFile(f"{k3s_dir}/whereabouts.conf", "ok", {"datastore": "kubernetes"})
    res2 = check_config_not_found(CTX, {"node-a": ev2}, cluster_with(), [Nad("default", nad["name"], cfg, "cluster")])
    nad_findings = [f for f in res2.findings if f.target.endswith(nad["name"])]
    assert nad_findings and worst(nad_findings) is Severity.OK, [f.title for f in nad_findings]


def test_c09_release_tied_bin_dir() -> None:
    c = case("C09")
    ev = NodeEvidence("node-a", fs={**c["input"]["node_fs"],
                                    "/var/lib/rancher/k3s/data/<hashA>": "dir", "/var/lib/rancher/k3s/data/<hashB>": "dir",
                                    "/var/lib/rancher/k3s/data/<hashA>/bin": "dir", "/var/lib/rancher/k3s/data/<hashB>/bin": "dir"})
    res = check_upgrade(CTX, {"node-a": ev}, cluster_with(c["input"]["log"]), [])
    assert worst(res.findings).value.upper() == c["expected"]["status"]
    ref = next(f for f in fails(res.findings) if f.title.endswith("is tied to one k3s release"))
    assert ref.evidence["dir"] == "/var/lib/rancher/k3s/data/<hashA>/bin"
    assert any("Multus log" in w for w in ref.evidence["referenced_by"])
    assert ref.evidence["right_value"] == c["expected"]["right_value"]
    extra = next(f for f in res.findings if f.title.startswith("extra binaries in the old release dir"))
    assert extra.evidence["extra"] == ["multus"] and extra.severity is Severity.FAIL


def test_c12_stale_containerd_bin_dir() -> None:
    c = case("C12")
    cc = c["input"]["containerd_config"]
    ev = NodeEvidence("node-a", fs={**c["input"]["node_fs"], "/var/lib/rancher/k3s/data/<hashB>": "dir",
                                    "/var/lib/rancher/k3s/data/<hashA>/bin": "dir"})
    ev.containerd = ContainerdConf(cc["path"], "ok", [cc["bin_dir"]],
                                   flannel_version='{"cniVersion":"0.4.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0"]}',
                                   flannel_version_rc=0)
    ev.cni_confs["10-flannel.conflist"] = ConfFile("x", "ok", {"name": "cbr0", "cniVersion": "1.0.0", "types": ["flannel"]})
    res = check_upgrade(CTX, {"node-a": ev}, cluster_with(c["input"]["log"]), [])
    assert worst(res.findings).value.upper() == c["expected"]["status"]
    f = next(f for f in fails(res.findings) if f.title.startswith("containerd bin_dir"))
    assert f.evidence["error_match"] == c["expected"]["error_match"]
    assert "/var/lib/rancher/k3s/data/cni" in f.evidence["right_value"]["bin_dir"]
    assert any(cmd.startswith("rm ") and cc["path"] in cmd for cmd in f.fix)  # remove the stale generated config
    ver = next(f for f in fails(res.findings) if "does not support the conflist cniVersion" in f.title)
    assert c["expected"]["error_match"] in ver.detail


def test_c13_multus_3_vs_cni_1_0() -> None:
    c = case("C13")
    conf = c["input"]["multus_conf"]
    ev = NodeEvidence("node-a")
    ev.cni_confs["00-multus.conf"] = ConfFile("x", "ok", {"name": conf["name"], "cniVersion": conf["cniVersion"],
                                                          "delegates": [{"name": d["name"], "cniVersion": d["cniVersion"]}
                                                                        for d in conf["delegates"]]})
    cl = cluster_with(c["input"]["log"], ds=multus_ds(image=c["input"]["multus_image"]))
    findings = check_multus_cni_version(cl, {"node-a": ev})
    assert worst(findings).value.upper() == c["expected"]["status"]
    assert findings[0].evidence["error_match"] == c["expected"]["error_match"]
    assert findings[0].evidence["right_value"] == c["expected"]["right_value"]
    assert any(c["expected"]["error_match"] in line for line in c["input"]["log"])
    # the whole kind of fault: any 3.x, and a thick (v4) image is fine
    assert worst(check_multus_cni_version(cl, {"node-a": ev}, image="multus-cni:v3.8")) is Severity.FAIL
    assert worst(check_multus_cni_version(cl, {"node-a": ev}, image="ghcr.io/x/multus-cni:snapshot-thick")) is Severity.OK
