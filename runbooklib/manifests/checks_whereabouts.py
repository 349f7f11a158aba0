"""Whereabouts manifest checks: conf dir, the paths its installer writes into whereabouts.conf
(handed case C06), and the bin dir it installs into vs the one Multus executes delegates from.

The installer (script/lib.sh @v0.9.1) writes `$CNI_CONF_DIR/whereabouts.d/whereabouts.{conf,kubeconfig}`
(default CNI_CONF_DIR=/host/etc/cni/net.d) and names the kubeconfig in whereabouts.conf as that
container path with the first `/host` removed. That literal must resolve on the host.
"""

from __future__ import annotations

import posixpath
from typing import Any

from runbooklib.manifests.docs import Doc, container, env_value, find, host_path, mount_path, norm
from runbooklib.manifests.nodefs import NodeFs
from runbooklib.manifests.patch import WHEREABOUTS_DS
from runbooklib.params import K3sPaths
from runbooklib.results import Finding, Severity

CHECK_CONF = "manifests.whereabouts-conf-dir"
CHECK_PATHS = "manifests.whereabouts-conf-paths"
CHECK_BIN = "manifests.whereabouts-bin-dir"
DEFAULT_CNI_CONF_DIR = "/host/etc/cni/net.d"
DEFAULT_CNI_BIN_DIR = "/host/opt/cni/bin/"
TARGET = f"DaemonSet kube-system/{WHEREABOUTS_DS}"


def _host_of(container_path: str, mount: str | None, hostpath: str | None) -> str | None:
    """Host path behind a container path, if it lies under the volume's mount."""
    if mount is None or hostpath is None:
        return None
    rel = posixpath.relpath(posixpath.normpath(container_path), mount)
    if rel.startswith(".."):
        return None
    return posixpath.normpath(posixpath.join(hostpath, rel))


def installer_paths(docs: list[Doc]) -> dict[str, str | None]:
    """What the installer writes where: container dir, host dir, and the literals in whereabouts.conf."""
    ds = find(docs, "DaemonSet", WHEREABOUTS_DS) or {}
    c = container(ds, "whereabouts")
    conf_env = env_value(c, "CNI_CONF_DIR")
    conf_dir = conf_env or DEFAULT_CNI_CONF_DIR
    wdir = posixpath.join(conf_dir, "whereabouts.d")
    literal_kubeconfig = posixpath.join(wdir, "whereabouts.kubeconfig").replace("/host", "", 1)
    mount = norm(mount_path(c, "cni-net-dir"))
    hostpath = norm(host_path(ds, "cni-net-dir"))
    return {
        "CNI_CONF_DIR": conf_dir,
        "CNI_CONF_DIR_source": "env" if conf_env else "default (env not set)",
        "container_dir": wdir,
        "mountPath": mount,
        "hostPath": hostpath,
        "host_dir": _host_of(wdir, mount, hostpath),
        "kubeconfig_literal": literal_kubeconfig,
    }


def check_whereabouts_conf_dir(docs: list[Doc], k3s: K3sPaths) -> list[Finding]:
    p = installer_paths(docs)
    if p["hostPath"] != norm(k3s.conf_dir):
        return [Finding(CHECK_CONF, "cni-net-dir hostPath is not the k3s CNI conf dir", Severity.FAIL, TARGET,
                        f"hostPath {p['hostPath']}: the installer writes whereabouts.d into {p['host_dir']} on the host, "
                        f"where node prep puts the {k3s.whereabouts_link} symlink (an absolute link that does not "
                        "resolve inside the installer container)", p, [f"patch the cni-net-dir hostPath to {k3s.conf_dir}"])]
    if p["host_dir"] is None:
        return [Finding(CHECK_CONF, "CNI_CONF_DIR is not under the cni-net-dir mount", Severity.FAIL, TARGET,
                        f"CNI_CONF_DIR {p['CNI_CONF_DIR']} is outside mountPath {p['mountPath']}: the files stay in the container",
                        p, [f"set CNI_CONF_DIR under {p['mountPath']}"])]
    return [Finding(CHECK_CONF, "cni-net-dir hostPath is the k3s CNI conf dir", Severity.OK, TARGET,
                    f"whereabouts.conf and whereabouts.kubeconfig land in {p['host_dir']}", p)]


def check_whereabouts_kubeconfig_path(docs: list[Doc], k3s: K3sPaths, node_fs: NodeFs | None = None) -> list[Finding]:
    """The kubeconfig path written into whereabouts.conf must resolve on the host to the file written."""
    p = installer_paths(docs)
    literal, host_dir = p["kubeconfig_literal"] or "", p["host_dir"]
    literal_dir = posixpath.dirname(literal)
    ev: dict[str, Any] = {**p, "whereabouts_link": k3s.whereabouts_link, "whereabouts_target": k3s.whereabouts_target}
    if host_dir is None:
        return []
    if norm(literal_dir) == norm(host_dir):
        return [Finding(CHECK_PATHS, "whereabouts.conf names the real host path of its kubeconfig", Severity.OK, TARGET,
                        f"kubeconfig {literal} (CNI_CONF_DIR makes the literal equal the host path)", ev)]
    via_link = norm(literal_dir) == norm(k3s.whereabouts_link) and norm(host_dir) == norm(k3s.whereabouts_target)
    if node_fs is not None:
        return check_conf_paths_resolve({"kubernetes": {"kubeconfig": literal}}, node_fs, k3s,
                                        expected_dir=host_dir, evidence=ev)
    if via_link:
        return [Finding(CHECK_PATHS, "whereabouts.conf kubeconfig path resolves only through the node-prep symlink",
                        Severity.OK, TARGET,
                        f"the installer writes {literal} (container path minus /host) while the file lands in {host_dir}; "
                        f"this works because node prep links {k3s.whereabouts_link} -> {k3s.whereabouts_target} on every node",
                        ev, [f"make sure {k3s.whereabouts_link} -> {k3s.whereabouts_target} exists on every node"])]
    return [Finding(CHECK_PATHS, "whereabouts.conf will name a kubeconfig path that does not exist on the host", Severity.FAIL,
                    TARGET, f"the installer writes {literal} but the file lands in {host_dir}; nothing links one to the other",
                    ev, [f"link {literal_dir} -> {host_dir} on every node (runbook node prep)",
                         f"or set env CNI_CONF_DIR=/host{host_dir.removesuffix('/whereabouts.d')} and mount cni-net-dir at "
                         f"/host{host_dir.removesuffix('/whereabouts.d')} (rke2-charts PR #544 pattern)"])]


def check_conf_paths_resolve(conf: dict[str, Any], node_fs: NodeFs, k3s: K3sPaths, *,
                             expected_dir: str | None = None, evidence: dict[str, Any] | None = None) -> list[Finding]:
    """Every path named in a whereabouts.conf (kubeconfig, configuration_path) resolves on the host (C06)."""
    named: list[str] = []
    kc = (conf.get("kubernetes") or {}).get("kubeconfig")
    if kc:
        named.append(kc)
    if conf.get("configuration_path"):
        named.append(conf["configuration_path"])
    resolved = {p: node_fs.resolve(p) for p in named}
    dangling = [p for p, r in resolved.items() if not r.exists]
    ev = {**(evidence or {}), "named_paths": named, "dangling_paths": dangling,
          "resolved": {p: {"final": r.final, "kind": r.kind, "via": list(r.via)} for p, r in resolved.items()}}
    target = f"{k3s.whereabouts_target}/whereabouts.conf"
    if dangling:
        return [Finding(CHECK_PATHS, "whereabouts.conf names host paths that do not resolve", Severity.FAIL, target,
                        "the installer strips /host from its container path, so whereabouts.conf names "
                        f"{', '.join(dangling)}, which do not exist on the host", ev,
                        [f"link {k3s.whereabouts_link} -> {k3s.whereabouts_target} on every node (runbook node prep)",
                         "or pass the real host conf dir to the installer (CNI_CONF_DIR=/host<k3s conf dir>, "
                         "mounted at the same path; rke2-charts PR #544)"])]
    if expected_dir is not None and kc and node_fs.resolve(kc).final != node_fs.resolve(posixpath.join(expected_dir, "whereabouts.kubeconfig")).final:
        return [Finding(CHECK_PATHS, "whereabouts.conf kubeconfig resolves to a different file", Severity.FAIL, target,
                        f"{kc} resolves to {resolved[kc].final}, the installer writes {expected_dir}/whereabouts.kubeconfig", ev,
                        [f"link {k3s.whereabouts_link} -> {k3s.whereabouts_target}"])]
    return [Finding(CHECK_PATHS, "every path in whereabouts.conf resolves on the host", Severity.OK, target, "", ev)]


def check_whereabouts_bin_dir(docs: list[Doc], multus_bin_host: str | None) -> list[Finding]:
    """Whereabouts installs its binary where Multus executes delegates (and IPAM via CNI_PATH) from."""
    ds = find(docs, "DaemonSet", WHEREABOUTS_DS) or {}
    c = container(ds, "whereabouts")
    mount = norm(mount_path(c, "cnibin"))
    hostpath = norm(host_path(ds, "cnibin"))
    bin_env = env_value(c, "CNI_BIN_DIR") or DEFAULT_CNI_BIN_DIR
    host_dir = _host_of(bin_env, mount, hostpath)
    ev = {"hostPath": hostpath, "mountPath": mount, "CNI_BIN_DIR": bin_env, "host_dir": host_dir,
          "multus_bin_dir": multus_bin_host}
    if host_dir is None:
        return [Finding(CHECK_BIN, "CNI_BIN_DIR is not under the cnibin mount", Severity.FAIL, TARGET,
                        f"the installer copies /whereabouts to {bin_env}, outside mountPath {mount}", ev,
                        [f"set CNI_BIN_DIR under {mount}"])]
    if multus_bin_host is not None and norm(host_dir) != norm(multus_bin_host):
        return [Finding(CHECK_BIN, "whereabouts installs into a different bin dir than Multus uses", Severity.FAIL, TARGET,
                        f"whereabouts lands in {host_dir}, but the Multus daemon looks delegates up in {multus_bin_host} "
                        f"(and macvlan finds IPAM via CNI_PATH={multus_bin_host}): 'failed to find plugin \"whereabouts\"'",
                        ev, [f"point the whereabouts cnibin hostPath at {multus_bin_host}"])]
    return [Finding(CHECK_BIN, "whereabouts installs into the Multus bin dir", Severity.OK, TARGET, f"{host_dir}", ev)]
