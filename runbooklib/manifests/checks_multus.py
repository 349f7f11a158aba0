"""Multus thick manifest checks: bin dir (layout A / layout B / mixtures) and conf dir.

The thick daemon looks plugins up inside its container under `binDir` (default /opt/cni/bin),
then executes them chrooted into /hostroot at the *same* path (upstream-facts §1.7). So the
`cnibin` hostPath, its mountPath in `kube-multus` and `binDir` must be one and the same path.
Layout A keeps all three at /opt/cni/bin (a real dir with real binaries); layout B points all
three at the k3s bin dir and also mounts the k3s data dir at the same path so k3s's absolute
symlinks resolve in the pod. Anything in between is a mixture.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum

from runbooklib.manifests.docs import Doc, container, find, host_path, hostpath_volume_for, mount_path, norm
from runbooklib.manifests.patch import MULTUS_DS
from runbooklib.params import K3sPaths
from runbooklib.results import Finding, Severity

CHECK_BIN = "manifests.multus-bin-dir"
CHECK_CONF = "manifests.multus-conf-dir"
CHECK_INIT = "manifests.multus-init"
DEFAULT_BIN_DIR = "/opt/cni/bin"
DAEMON_CONTAINER = "kube-multus"
_VERSIONED = re.compile(r"/data/(current|[0-9a-f]{16,})/bin/?$")


class BinLayout(StrEnum):
    A = "A"  # /opt/cni/bin everywhere (runbooklib's layout)
    B = "B"  # the k3s bin dir everywhere + k3s data dir mounted at the same path
    MIXED = "mixed"
    OTHER = "other"


def daemon_config(docs: list[Doc]) -> dict:
    cm = find(docs, "ConfigMap", "multus-daemon-config") or {}
    raw = (cm.get("data") or {}).get("daemon-config.json")
    try:
        return json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}


def bin_paths(docs: list[Doc]) -> dict[str, str | None]:
    """The three paths that must agree, plus the init container's view."""
    ds = find(docs, "DaemonSet", MULTUS_DS) or {}
    cfg = daemon_config(docs)
    return {
        "hostPath": norm(host_path(ds, "cnibin")),
        "mountPath": norm(mount_path(container(ds, DAEMON_CONTAINER), "cnibin")),
        "binDir": norm(cfg.get("binDir") or DEFAULT_BIN_DIR),
        "binDir_source": "daemon-config.json" if cfg.get("binDir") else "default (not set in daemon-config.json)",
        "initMountPath": norm(mount_path(container(ds, init=True), "cnibin")),
    }


def detect_layout(docs: list[Doc], k3s: K3sPaths) -> tuple[BinLayout, dict[str, str | None]]:
    p = bin_paths(docs)
    h, m, b = p["hostPath"], p["mountPath"], p["binDir"]
    if not (h == m == b):
        return BinLayout.MIXED, p
    if h == norm(k3s.opt_cni_bin):
        return BinLayout.A, p
    if h == norm(k3s.cni_bin_dir):
        return BinLayout.B, p
    return BinLayout.OTHER, p


def _data_dir_mounted(ds: Doc, k3s: K3sPaths) -> bool:
    vol = hostpath_volume_for(ds, k3s.data_dir)
    return vol is not None and norm(mount_path(container(ds, DAEMON_CONTAINER), vol)) == norm(k3s.data_dir)


def check_multus_bin_dir(docs: list[Doc], k3s: K3sPaths) -> list[Finding]:
    ds = find(docs, "DaemonSet", MULTUS_DS)
    if ds is None:
        return [Finding(CHECK_BIN, "no kube-multus-ds DaemonSet in the manifest", Severity.FAIL, fix=["use the Multus thick manifest"])]
    layout, p = detect_layout(docs, k3s)
    h, m, b = p["hostPath"], p["mountPath"], p["binDir"]
    ev = {**p, "layout": layout.value}
    target = f"DaemonSet kube-system/{MULTUS_DS}"
    out: list[Finding] = []
    if layout is BinLayout.MIXED:
        if m != h:
            out.append(Finding(CHECK_BIN, "cnibin mountPath differs from its hostPath", Severity.FAIL, target,
                               f"the daemon finds a plugin in its container at {m}/<type> and executes it chrooted "
                               f"into /hostroot as host {m}/<type>; the hostPath puts the binaries at {h}, so the host "
                               "path does not hold them (failed to find plugin / netplugin failed)", ev,
                               [f"mount cnibin at the same path as its hostPath ({h})",
                                f"runbooklib's layout A keeps hostPath, mountPath and binDir all at {k3s.opt_cni_bin}"]))
        if b != m:
            out.append(Finding(CHECK_BIN, "daemon binDir is not the cnibin mountPath", Severity.FAIL, target,
                               f"binDir {b} ({p['binDir_source']}) is where the daemon looks plugins up inside its "
                               f"container, but cnibin is mounted at {m}", ev,
                               [f"set \"binDir\": \"{m}\" in daemon-config.json or mount cnibin at {b}"]))
        return out
    if h and _VERSIONED.search(h):
        return [Finding(CHECK_BIN, "bin dir is a versioned k3s data dir", Severity.FAIL, target,
                        f"{h} changes with every k3s upgrade (data/<hash>/bin or data/current/bin)", ev,
                        [f"use {k3s.opt_cni_bin} (layout A) or {k3s.cni_bin_dir} on current k3s"])]
    if layout is BinLayout.A:
        return [Finding(CHECK_BIN, "layout A: cnibin hostPath, mountPath and binDir agree", Severity.OK, target,
                        f"all three are {h}; nodes must keep real binaries there (flannel, reference plugins, "
                        f"whereabouts, multus-shim, passthru), with host-side links for multus-shim and passthru "
                        f"in {k3s.cni_bin_dir} for containerd", ev)]
    if layout is BinLayout.B:
        if not _data_dir_mounted(ds, k3s):
            return [Finding(CHECK_BIN, "layout B without the k3s data dir mounted", Severity.FAIL, target,
                            f"cnibin is the k3s bin dir {h}, whose entries are absolute symlinks into {k3s.data_dir}/<hash>; "
                            "those targets do not exist in the daemon container, so the daemon reports "
                            "'failed to find plugin \"flannel\"'", ev,
                            [f"also mount hostPath {k3s.data_dir} at {k3s.data_dir} in kube-multus",
                             f"or use runbooklib's layout A ({k3s.opt_cni_bin} everywhere, real files)"])]
        return [Finding(CHECK_BIN, "layout B: the k3s bin dir is used consistently", Severity.WARN, target,
                        f"hostPath, mountPath and binDir are all {h} and {k3s.data_dir} is mounted at the same path; "
                        "this works but is not the layout runbooklib's node prep builds (layout A, /opt/cni/bin)", ev,
                        ["keep node prep and checks in layout B for this cluster, or switch the manifest to layout A"])]
    return [Finding(CHECK_BIN, "bin dir is neither /opt/cni/bin nor the k3s bin dir", Severity.WARN, target,
                    f"all three paths agree on {h}; containerd and the nodes must keep plugins there", ev)]


def check_multus_init(docs: list[Doc]) -> list[Finding]:
    ds = find(docs, "DaemonSet", MULTUS_DS) or {}
    init = container(ds, init=True)
    if init is None:
        return []
    mount = norm(mount_path(init, "cnibin"))
    cmd = " ".join(str(x) for x in (init.get("command") or []) + (init.get("args") or []))
    out: list[Finding] = []
    dests = re.findall(r"(/\S*?)/(?:multus-shim|passthru)\b", cmd)
    outside = sorted({d for d in dests if "/usr/src/multus-cni" not in d and norm(d) != mount})
    if mount is None or outside:
        out.append(Finding(CHECK_INIT, "init container does not write into the cnibin mount", Severity.FAIL,
                           f"DaemonSet kube-system/{MULTUS_DS}", f"cnibin mounted at {mount}, copies go to {outside}",
                           {"mountPath": mount, "command": cmd}, ["make the copy destination the cnibin mountPath"]))
    if re.search(r"(^|\s|&&\s*)cp\s", cmd) and "install_multus" not in cmd:
        out.append(Finding(CHECK_INIT, "init container copies multus-shim with a plain cp", Severity.WARN,
                           f"DaemonSet kube-system/{MULTUS_DS}",
                           "after a reboot the runtime may be running the old multus-shim and cp fails with "
                           "'Text file busy' (multus #1221); v4.2.3 switched to install_multus (atomic rename)",
                           {"command": cmd},
                           ["if the init container crash-loops with 'Text file busy', use "
                            "command [/usr/src/multus-cni/bin/install_multus, -d, /host/opt/cni/bin, -t, thick]"]))
    return out


def check_multus_conf_dir(docs: list[Doc], k3s: K3sPaths) -> list[Finding]:
    ds = find(docs, "DaemonSet", MULTUS_DS) or {}
    target = f"DaemonSet kube-system/{MULTUS_DS}"
    cfg = daemon_config(docs)
    out: list[Finding] = []
    h = norm(host_path(ds, "cni"))
    m = norm(mount_path(container(ds, DAEMON_CONTAINER), "cni"))
    ev = {"hostPath": h, "mountPath": m, "conf_dir": k3s.conf_dir}
    if h != norm(k3s.conf_dir):
        out.append(Finding(CHECK_CONF, "cni volume hostPath is not the k3s CNI conf dir", Severity.FAIL, target,
                           f"hostPath {h}: the daemon will not find 10-flannel.conflist and exits with "
                           "'could not find a plugin configuration in /host/etc/cni/net.d'", ev,
                           [f"patch the cni hostPath to {k3s.conf_dir}"]))
    else:
        out.append(Finding(CHECK_CONF, "cni volume hostPath is the k3s CNI conf dir", Severity.OK, target, "", ev))
    for key in ("cniConfigDir", "multusAutoconfigDir"):
        val = norm(cfg.get(key))
        if val is not None and val != m:
            out.append(Finding(CHECK_CONF, f"daemon-config {key} is not the cni mountPath", Severity.FAIL, target,
                               f"{key} {val} is a container path; the conf dir is mounted at {m}",
                               {**ev, key: val}, [f"set {key} to {m}"]))
    mh = norm(host_path(ds, "multus-conf-dir"))
    if mh is not None and mh != norm(k3s.multus_conf_dir):
        out.append(Finding(CHECK_CONF, "multus-conf-dir hostPath is not under the k3s CNI dir", Severity.WARN, target,
                           f"hostPath {mh}; only NADs without spec.config read it (optional on k3s)",
                           {"hostPath": mh, "expected": k3s.multus_conf_dir}, [f"patch it to {k3s.multus_conf_dir}"]))
    return out
