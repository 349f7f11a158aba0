"""Consistency checks, including the handed cases about manifests (C06) and bin-dir mixtures (C01, C02)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runbooklib.manifests import (
    BinLayout,
    NodeFs,
    check_conf_paths_resolve,
    check_consistency,
    check_node_bin_dir,
    detect_layout,
    image_pins,
    load_docs,
    patch_multus,
    patch_whereabouts,
)
from runbooklib.manifests.checks_images import check_image_tags
from runbooklib.params import K3sPaths, Versions
from runbooklib.results import Finding, Severity

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
UPSTREAM = SHARED / "upstream"
K3S = K3sPaths()
MULTUS_TEXT = (UPSTREAM / "multus-daemonset-thick.yml").read_text()
WB_TEXT = (UPSTREAM / "whereabouts-daemonset-install.yaml").read_text()


def case(case_id: str) -> dict[str, Any]:
    for line in (SHARED / "cases" / "handed.jsonl").read_text().splitlines():
        if line.strip() and json.loads(line)["id"] == case_id:
            return json.loads(line)
    raise KeyError(case_id)


def patched() -> tuple[list[dict], list[dict]]:
    return load_docs(patch_multus(MULTUS_TEXT, K3S).text), load_docs(patch_whereabouts(WB_TEXT, K3S).text)


def by_check(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def worst_of(findings: list[Finding]) -> Severity:
    sev = {f.severity for f in findings}
    return Severity.FAIL if Severity.FAIL in sev else Severity.WARN if Severity.WARN in sev else Severity.OK


def multus_ds(docs: list[dict]) -> dict:
    return next(d for d in docs if d["kind"] == "DaemonSet")


def set_daemon_config(docs: list[dict], **keys: Any) -> None:
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    cfg = json.loads(cm["data"]["daemon-config.json"])
    cfg.update(keys)
    cm["data"]["daemon-config.json"] = json.dumps(cfg)


def set_volume(ds: dict, name: str, path: str) -> None:
    for v in ds["spec"]["template"]["spec"]["volumes"]:
        if v["name"] == name:
            v["hostPath"]["path"] = path


def set_mount(ds: dict, container: str, name: str, path: str) -> None:
    for c in ds["spec"]["template"]["spec"]["containers"]:
        if c["name"] == container:
            for m in c["volumeMounts"]:
                if m["name"] == name:
                    m["mountPath"] = path


# --- the reference layout (A) --------------------------------------------------------------------


def test_patched_reference_manifests_have_no_errors() -> None:
    m, w = patched()
    findings = check_consistency(m, w, K3S, pins=image_pins_default())
    assert [f for f in findings if f.severity is Severity.FAIL] == []
    layout, paths = detect_layout(m, K3S)
    assert layout is BinLayout.A
    assert paths["hostPath"] == paths["mountPath"] == paths["binDir"] == "/opt/cni/bin"
    assert by_check(findings, "manifests.whereabouts-bin-dir")[0].severity is Severity.OK


def image_pins_default() -> list:
    from runbooklib.manifests import multus_image_pin, whereabouts_image_pin

    v = Versions()
    return [multus_image_pin(v.multus), whereabouts_image_pin(v.whereabouts)]


def test_unpatched_manifests_fail_on_conf_dirs() -> None:
    findings = check_consistency(MULTUS_TEXT, WB_TEXT, K3S)
    titles = {f.title for f in findings if f.severity is Severity.FAIL}
    assert "cni volume hostPath is not the k3s CNI conf dir" in titles
    assert "cni-net-dir hostPath is not the k3s CNI conf dir" in titles


# --- cnibin / binDir mixtures (facts §1.6-1.7, "two layouts") --------------------------------------


def test_mixture_hostpath_changed_mount_and_bindir_left() -> None:
    m, w = patched()
    set_volume(multus_ds(m), "cnibin", K3S.cni_bin_dir)
    layout, _ = detect_layout(m, K3S)
    assert layout is BinLayout.MIXED
    f = by_check(check_consistency(m, w, K3S), "manifests.multus-bin-dir")
    # binDir (default /opt/cni/bin) still equals the mountPath: the one broken link is mount vs host
    assert [x.title for x in f] == ["cnibin mountPath differs from its hostPath"]
    assert f[0].severity is Severity.FAIL and f[0].evidence["layout"] == "mixed"


def test_mixture_bindir_set_but_mount_left() -> None:
    m, w = patched()
    set_daemon_config(m, binDir=K3S.cni_bin_dir)
    f = by_check(check_consistency(m, w, K3S), "manifests.multus-bin-dir")
    assert [x.title for x in f] == ["daemon binDir is not the cnibin mountPath"]


def layout_b(with_data_mount: bool) -> list[dict]:
    m, _ = patched()
    ds = multus_ds(m)
    set_volume(ds, "cnibin", K3S.cni_bin_dir)
    set_mount(ds, "kube-multus", "cnibin", K3S.cni_bin_dir)
    set_daemon_config(m, binDir=K3S.cni_bin_dir)
    if with_data_mount:
        ds["spec"]["template"]["spec"]["volumes"].append({"name": "k3s-data", "hostPath": {"path": K3S.data_dir}})
        ds["spec"]["template"]["spec"]["containers"][0]["volumeMounts"].append({"name": "k3s-data", "mountPath": K3S.data_dir})
    return m


def test_layout_b_recognised_and_explained() -> None:
    m = layout_b(with_data_mount=True)
    assert detect_layout(m, K3S)[0] is BinLayout.B
    f = by_check(check_consistency(m, patched()[1], K3S), "manifests.multus-bin-dir")[0]
    assert f.severity is Severity.WARN and f.title.startswith("layout B")
    # whereabouts still installs into /opt/cni/bin: a mixture across the two manifests
    wb = by_check(check_consistency(m, patched()[1], K3S), "manifests.whereabouts-bin-dir")[0]
    assert wb.severity is Severity.FAIL and wb.evidence["multus_bin_dir"] == K3S.cni_bin_dir


def test_layout_b_without_data_dir_mount_fails_like_c01() -> None:
    f = by_check(check_consistency(layout_b(with_data_mount=False), patched()[1], K3S), "manifests.multus-bin-dir")[0]
    assert f.severity is Severity.FAIL and 'failed to find plugin \\"flannel\\"' in json.dumps(f.detail)


def test_versioned_bin_dir_flagged() -> None:
    m, w = patched()
    ds = multus_ds(m)
    set_volume(ds, "cnibin", "/var/lib/rancher/k3s/data/current/bin")
    set_mount(ds, "kube-multus", "cnibin", "/var/lib/rancher/k3s/data/current/bin")
    set_daemon_config(m, binDir="/var/lib/rancher/k3s/data/current/bin")
    f = by_check(check_consistency(m, w, K3S), "manifests.multus-bin-dir")[0]
    assert f.severity is Severity.FAIL and "versioned" in f.title


# --- C06: whereabouts.conf names paths that do not exist on the host -----------------------------


def test_c06_file_content_paths_dangling() -> None:
    c = case("C06")
    findings = check_conf_paths_resolve(c["input"]["file"]["content"], NodeFs(c["input"]["node_fs"]), K3S)
    assert findings[0].severity.value.upper() == c["expected"]["status"]
    assert findings[0].evidence["dangling_paths"] == c["expected"]["dangling_paths"]


def test_c06_from_the_patched_manifest_and_node() -> None:
    c = case("C06")
    m, w = patched()
    # the case's daemonset_patch is exactly what the sed produces (hostPath k3s dir, CNI_CONF_DIR unset)
    ds = next(d for d in w if d["kind"] == "DaemonSet")
    assert ds["spec"]["template"]["spec"]["volumes"][1]["hostPath"]["path"] == c["input"]["daemonset_patch"]["volumes.cni-net-dir.hostPath"]
    findings = by_check(check_consistency(m, w, K3S, node_fs=c["input"]["node_fs"]), "manifests.whereabouts-conf-paths")
    assert findings[0].severity is Severity.FAIL
    assert set(findings[0].evidence["dangling_paths"]) <= set(c["expected"]["dangling_paths"])
    assert "/etc/cni/net.d/whereabouts.d/whereabouts.kubeconfig" in findings[0].evidence["dangling_paths"]


def test_c06_right_value_symlink_resolves() -> None:
    c = case("C06")
    fs = dict(c["input"]["node_fs"])
    fs["/etc/cni/net.d/whereabouts.d"] = f"symlink -> {K3S.whereabouts_target}"  # right_value, option 1
    assert check_conf_paths_resolve(c["input"]["file"]["content"], NodeFs(fs), K3S)[0].severity is Severity.OK
    m, w = patched()
    f = by_check(check_consistency(m, w, K3S, node_fs=fs), "manifests.whereabouts-conf-paths")[0]
    assert f.severity is Severity.OK


def test_c06_right_value_installer_env_rke2_pattern() -> None:
    # option 2: CNI_CONF_DIR=/host<k3s conf dir>, mounted at the same path -> literal == host path
    m, w = patched()
    ds = next(d for d in w if d["kind"] == "DaemonSet")
    c = ds["spec"]["template"]["spec"]["containers"][0]
    c["env"].append({"name": "CNI_CONF_DIR", "value": f"/host{K3S.conf_dir}"})
    for mnt in c["volumeMounts"]:
        if mnt["name"] == "cni-net-dir":
            mnt["mountPath"] = f"/host{K3S.conf_dir}"
    f = by_check(check_consistency(m, w, K3S), "manifests.whereabouts-conf-paths")[0]
    assert f.severity is Severity.OK and f.evidence["kubeconfig_literal"] == f"{K3S.whereabouts_target}/whereabouts.kubeconfig"


def test_whereabouts_literal_without_matching_link_param_fails() -> None:
    m, w = patched()
    k3s = K3sPaths(whereabouts_link="/etc/cni/whereabouts.d")  # node prep links somewhere the installer does not name
    f = by_check(check_consistency(m, w, k3s), "manifests.whereabouts-conf-paths")[0]
    assert f.severity is Severity.FAIL


# --- C01 / C02: the daemon's bin dir on the node ---------------------------------------------------


def test_c01_symlinked_opt_cni_bin() -> None:
    c = case("C01")
    fs = NodeFs(c["input"]["node_fs"])
    findings = check_node_bin_dir("node-a", "/opt/cni/bin", fs, K3S)
    assert worst_of(findings).value.upper() == c["expected"]["status"]
    titles = [f.title for f in findings]
    assert "/opt/cni/bin is a symlink, not a real directory" in titles
    assert "plugin flannel is a symlink out of the bin dir" in titles  # each offending symlink reported
    assert "plugin portmap is a symlink out of the bin dir" in titles
    # right value: /opt/cni/bin a real dir with regular files -> nothing to report
    right = {"/opt/cni/bin": "dir (contains: flannel, portmap, multus-shim, passthru)",
             "/var/lib/rancher/k3s/data/cni/multus-shim": "symlink -> /opt/cni/bin/multus-shim"}
    assert worst_of(check_node_bin_dir("node-a", "/opt/cni/bin", NodeFs(right), K3S)) is Severity.OK


def test_c02_conflist_plugins_missing() -> None:
    c = case("C02")
    fs = NodeFs(c["input"]["node_fs"])
    conflist = c["input"]["cluster_network_conflist"]["config"]
    findings = check_node_bin_dir("node-a", "/opt/cni/bin", fs, K3S, conflist=conflist)
    assert worst_of(findings).value.upper() == c["expected"]["status"]
    missing = next(f for f in findings if f.evidence.get("missing"))
    assert missing.evidence["missing"] == c["expected"]["missing"]


def test_c02_through_check_consistency() -> None:
    c = case("C02")
    m, w = patched()
    findings = check_consistency(m, w, K3S, node_fs=c["input"]["node_fs"], node="node-a",
                                 conflist=c["input"]["cluster_network_conflist"]["config"])
    f = by_check(findings, "manifests.node-bin-dir")
    assert f[0].evidence["missing"] == c["expected"]["missing"]


# --- images --------------------------------------------------------------------------------------


def test_moving_tags_flagged_and_pins_derived() -> None:
    m, w = patched()
    findings = check_image_tags(m + w, image_pins_default())
    assert {f.evidence["image"] for f in findings} == {"ghcr.io/k8snetworkplumbingwg/multus-cni:snapshot-thick",
                                                     "ghcr.io/k8snetworkplumbingwg/whereabouts:latest"}
    assert all(f.severity is Severity.WARN for f in findings)
    multus = next(f for f in findings if "multus" in f.evidence["image"])
    assert multus.evidence["pin"] == "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.2-thick"
    assert multus.evidence["pin_derived"] is True and "derived" in multus.fix[0]


def test_pinned_images_are_ok() -> None:
    from runbooklib.manifests import multus_image_pin, whereabouts_image_pin

    m = load_docs(patch_multus(MULTUS_TEXT, K3S, pin=multus_image_pin("v4.2.2")).text)
    w = load_docs(patch_whereabouts(WB_TEXT, K3S, pin=whereabouts_image_pin("v0.9.1")).text)
    findings = check_image_tags(m + w, image_pins_default())
    assert findings and all(f.severity is Severity.OK for f in findings)


@pytest.mark.parametrize("path,kind", [
    ("/etc/cni/net.d/whereabouts.d/whereabouts.kubeconfig", "file"),
    ("/etc/cni/net.d/whereabouts.d", "dir"),
    ("/etc/cni/net.d/nothing", "unknown"),
])
def test_nodefs_resolves_through_symlinks(path: str, kind: str) -> None:
    fs = NodeFs({"/etc/cni/net.d/whereabouts.d": f"symlink -> {K3S.whereabouts_target}",
                 K3S.whereabouts_target: "dir (contains: whereabouts.conf, whereabouts.kubeconfig)"})
    assert fs.resolve(path).kind == kind


def test_image_pins_follow_params_versions() -> None:
    from runbooklib.params import params_from_dict

    p = params_from_dict({"cluster": "x", "storage_network": {"cidr": "192.0.2.0/24"},
                          "nodes": [{"name": "n1", "ssh": {"host": "n1"}, "storage_nic": {"name": "e", "address": "192.0.2.1"}}],
                          "versions": {"whereabouts": "v0.9.2"}}, require_files=False)
    assert [pin.tag for pin in image_pins(p)] == ["v4.2.2-thick", "v0.9.2"]
