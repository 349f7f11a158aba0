"""Parsing the checks' one-round-trip probe (recorded from lab nodes)."""

from __future__ import annotations

from runbooklib.checks.evidence import NodeEvidence
from runbooklib.checks.probe import checks_script, parse_checks_part, probe_command
from tests.unit.checks_fixtures import node, params, plan


def test_healthy_node_parses_into_node_fs_form() -> None:
    ev = node("n1", "healthy")
    assert ev.reachable and not ev.notes
    assert ev.fs["/opt/cni/bin"].startswith("dir (contains: ")
    assert ev.fs["/var/lib/rancher/k3s/data/cni/multus-shim"] == "symlink -> /opt/cni/bin/multus-shim"
    assert ev.kind("/etc/cni/net.d/whereabouts.d/whereabouts.kubeconfig") == "file"
    assert ev.view.resolve("/opt/cni/bin/nonexistent").kind == "missing"  # a listed dir is complete


def test_sha256_versions_and_files() -> None:
    ev = node("n1", "healthy")
    assert ev.sha256["/opt/cni/bin/flannel"] == ev.sha256["/var/lib/rancher/k3s/data/current/bin/cni"]
    assert ev.binaries is not None and "0.3.1" in (ev.binaries["macvlan"].supported_versions or ())
    assert "1.0.0" in (ev.binaries["flannel"].supported_versions or ())
    conf = ev.wb_confs["/etc/cni/net.d/whereabouts.d/whereabouts.conf"]
    assert conf.state == "ok" and conf.data["kubeconfig"].endswith("whereabouts.kubeconfig")
    assert set(conf.data) <= {"datastore", "kubeconfig", "configuration_path", "reconciler_cron_expression", "log_file",
                              "log_level"}  # only the keys the checks need
    assert ev.cni_confs["10-flannel.conflist"].data["types"][:2] == ["flannel", "portmap"]
    assert ev.containerd is not None and ev.containerd.state == "missing"


def test_symlinked_opt_dir_is_followed() -> None:
    ev = node("n2", "opt_symlink")
    assert ev.fs["/opt/cni/bin"] == "symlink -> /var/lib/rancher/k3s/data/cni"
    r = ev.view.resolve("/opt/cni/bin/flannel")
    assert r.kind == "file" and r.final.startswith("/var/lib/rancher/k3s/data/") and len(r.via) == 2


def test_containerd_lines_and_version_block() -> None:
    ev = NodeEvidence("x")
    parse_checks_part(ev, "CT\tok\nCD\t    bin_dir = \"/var/lib/rancher/k3s/data/abc/bin\"\nCD\t  conf_dir = \"/c\"\n"
                          "@@ver\tcdflannel\t0\n{\"cniVersion\":\"0.4.0\",\"supportedVersions\":[\"0.4.0\"]}\n@@endver\n"
                          "S\t/a\tlink\tb\nD\t/\n")
    assert ev.containerd is not None
    assert ev.containerd.state == "ok" and ev.containerd.bin_dirs == ["/var/lib/rancher/k3s/data/abc/bin"]
    assert ev.containerd.conf_dir == "/c" and ev.containerd.flannel_version_rc == 0
    assert ev.fs["/a"] == "symlink -> b"


def test_one_command_holds_all_three_parts() -> None:
    cmd = probe_command(params(), plan())
    assert cmd.startswith("sh -c ") and "@@RBL-NADPROBE" in cmd and "@@RBL-CHECKS" in cmd and "@@IPLINK" in cmd
    assert "whereabouts.kubeconfig" not in checks_script(plan()).split("cs_cat")[0]  # kubeconfigs are never read
