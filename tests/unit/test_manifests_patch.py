"""The sed-equivalent patch: byte-for-byte equal to real sed, hit counts, refusal, structure check."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from runbooklib.manifests import (
    ManifestPatchError,
    apply_rules,
    multus_image_pin,
    multus_rules,
    patch_multus,
    patch_whereabouts,
    sed_command,
    unified_diff,
    whereabouts_image_pin,
    whereabouts_rules,
)
from runbooklib.params import K3sPaths

UPSTREAM = Path(__file__).resolve().parents[2].parent / "shared" / "upstream"
MULTUS = UPSTREAM / "multus-daemonset-thick.yml"
WHEREABOUTS = UPSTREAM / "whereabouts-daemonset-install.yaml"
K3S = K3sPaths()
CONF = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
MULTUS_CONF = "/var/lib/rancher/k3s/agent/etc/cni/multus/net.d"


def real_sed(path: Path, *exprs: str) -> str:
    sed = shutil.which("sed")
    if sed is None:
        pytest.skip("no sed on this machine")
    args = [sed]
    for e in exprs:
        args += ["-e", e]
    return subprocess.run([*args, str(path)], check=True, capture_output=True).stdout.decode()  # noqa: S603


def test_multus_patch_is_byte_for_byte_the_reference_sed() -> None:
    expected = real_sed(MULTUS, f"s|path: /etc/cni/net.d$|path: {CONF}|g", f"s|path: /etc/cni/multus/net.d$|path: {MULTUS_CONF}|g")
    result = patch_multus(MULTUS.read_text(), K3S)
    assert result.text == expected
    assert result.text.encode() == expected.encode()


def test_whereabouts_patch_is_byte_for_byte_the_reference_sed() -> None:
    expected = real_sed(WHEREABOUTS, f"s|path: /etc/cni/net.d$|path: {CONF}|g")
    assert patch_whereabouts(WHEREABOUTS.read_text(), K3S).text == expected


def test_multus_rules_hit_one_line_each_at_v422() -> None:
    result = patch_multus(MULTUS.read_text(), K3S)
    assert [(h.count, h.lines) for h in result.hits] == [(1, (224,)), (1, (254,))]
    assert result.changed_volumes == [
        f"kube-multus-ds/cni: /etc/cni/net.d -> {CONF}",
        f"kube-multus-ds/multus-conf-dir: /etc/cni/multus/net.d -> {MULTUS_CONF}",
    ]
    assert len(result.changes) == 2  # nothing else changed


def test_whereabouts_counts_stated_from_the_file() -> None:
    # whereabouts v0.9.1 daemonset-install.yaml: the conf-dir rule hits exactly line 159 (volume
    # cni-net-dir); the multus-conf-dir rule would hit nothing; /opt/cni/bin (line 156) stays.
    text = WHEREABOUTS.read_text()
    _, hits = apply_rules(text, multus_rules(K3S))
    assert [h.lines for h in hits] == [(159,), ()]
    result = patch_whereabouts(text, K3S)
    assert [h.lines for h in result.hits] == [(159,)]
    assert result.changed_volumes == [f"whereabouts/cni-net-dir: /etc/cni/net.d -> {CONF}"]
    assert "            path: /opt/cni/bin\n" in result.text


def test_custom_conf_dir_follows_params() -> None:
    k3s = K3sPaths(conf_dir="/srv/k3s/agent/etc/cni/net.d")
    result = patch_multus(MULTUS.read_text(), k3s)
    assert "path: /srv/k3s/agent/etc/cni/net.d\n" in result.text
    assert "path: /srv/k3s/agent/etc/cni/multus/net.d\n" in result.text


def test_refuses_when_a_rule_hits_zero_lines() -> None:
    text = MULTUS.read_text().replace("            path: /etc/cni/net.d\n", "            path: /etc/cni/net.d/\n")
    with pytest.raises(ManifestPatchError) as ei:
        patch_multus(text, K3S)
    assert "hit 0 line(s)" in str(ei.value) and "expected 1" in str(ei.value)
    assert ei.value.problems and ei.value.manifest == "multus-daemonset-thick.yml"


def test_refuses_when_a_rule_hits_two_lines() -> None:
    extra = "        - name: extra\n          hostPath:\n            path: /etc/cni/net.d\n"
    text = MULTUS.read_text().replace("        - name: cnibin\n          hostPath:", extra + "        - name: cnibin\n          hostPath:")
    with pytest.raises(ManifestPatchError) as ei:
        patch_multus(text, K3S)
    assert "hit 2 line(s) [224, 227]" in str(ei.value)


def test_refuses_whereabouts_with_two_hits() -> None:
    text = WHEREABOUTS.read_text() + "# path: /etc/cni/net.d\n"
    with pytest.raises(ManifestPatchError, match="hit 2 line"):
        patch_whereabouts(text, K3S)


def test_refuses_when_the_hit_is_not_the_intended_volume() -> None:
    # one hit, but in a comment, while the real hostPath moved elsewhere: the parse check refuses
    text = MULTUS.read_text().replace("            path: /etc/cni/net.d\n", "            path: /etc/cni/net.d.orig\n")
    text = text.replace("      hostNetwork: true\n", "      # path: /etc/cni/net.d\n      hostNetwork: true\n")
    with pytest.raises(ManifestPatchError, match="volume 'cni' hostPath did not change"):
        patch_multus(text, K3S)


def test_sed_dot_matches_any_character_like_sed() -> None:
    text = "x:\n  path: /etc/cni/netXd\n"
    out, hits = apply_rules(text, multus_rules(K3S)[:1])
    assert hits[0].lines == (2,) and out == f"x:\n  path: {CONF}\n"


def test_crlf_and_missing_final_newline_behave_like_sed() -> None:
    text = "a: 1\r\n  path: /etc/cni/net.d\r\n  path: /etc/cni/net.d"
    out, hits = apply_rules(text, multus_rules(K3S)[:1])
    assert hits[0].lines == (3,)  # `$` does not match before \r, as in sed
    assert out == f"a: 1\r\n  path: /etc/cni/net.d\r\n  path: {CONF}"


def test_pin_images_changes_only_images_and_hostpaths() -> None:
    result = patch_multus(MULTUS.read_text(), K3S, pin=multus_image_pin("v4.2.2"))
    assert result.pinned_images == ["ghcr.io/k8snetworkplumbingwg/multus-cni:snapshot-thick -> "
                                    "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.2-thick"] * 2
    assert "snapshot-thick" not in result.text
    assert {c.path.rsplit(".", 1)[-1] for c in result.changes} == {"image", "path"}
    wb = patch_whereabouts(WHEREABOUTS.read_text(), K3S, pin=whereabouts_image_pin("v0.9.1"))
    assert "image: ghcr.io/k8snetworkplumbingwg/whereabouts:v0.9.1\n" in wb.text


def test_unified_diff_and_sed_command() -> None:
    result = patch_multus(MULTUS.read_text(), K3S)
    diff = unified_diff(MULTUS.read_text(), result.text, "multus-daemonset-thick.yml")
    assert diff.startswith("--- upstream/multus-daemonset-thick.yml\n+++ patched/multus-daemonset-thick.yml\n")
    assert f"-            path: /etc/cni/net.d\n+            path: {CONF}\n" in diff
    assert sum(1 for line in diff.splitlines() if line.startswith("+ ")) == 2
    cmd = sed_command(whereabouts_rules(K3S), "in.yaml", "out.yaml")
    assert cmd == f"sed -e 's|path: /etc/cni/net.d$|path: {CONF}|g' in.yaml > out.yaml"
