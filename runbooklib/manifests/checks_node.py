"""Manifest vs node: does the bin dir the Multus daemon uses hold real binaries on the node?

Handed cases C01 (the plugin dir is, or contains, symlinks into /var/lib/rancher/k3s/... that do not
resolve inside the daemon pod) and C02 (the cluster conflist's plugins are missing from it).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

from runbooklib.manifests.docs import norm
from runbooklib.manifests.nodefs import NodeFs
from runbooklib.params import K3sPaths
from runbooklib.results import Finding, Severity

CHECK = "manifests.node-bin-dir"
# plugins that flannel's CNI delegates to (flannel-io/cni-plugin: bridge + host-local)
FLANNEL_DELEGATES = ("bridge", "host-local")


def required_plugins(conflist: dict[str, Any] | None, extra: Iterable[str] = ()) -> list[str]:
    """Plugin types the daemon must find: the cluster conflist's, flannel's delegates, then `extra`."""
    out: list[str] = []
    plugins = (conflist or {}).get("plugins") or ([conflist] if conflist and conflist.get("type") else [])
    for p in plugins:
        t = p.get("type")
        if t and t not in out:
            out.append(t)
    if "flannel" in out:
        out += [d for d in FLANNEL_DELEGATES if d not in out]
    out += [e for e in extra if e not in out]
    return out


def check_node_bin_dir(node: str, bin_dir: str, node_fs: NodeFs, k3s: K3sPaths, *,
                       conflist: dict[str, Any] | None = None, extra_plugins: Iterable[str] = ()) -> list[Finding]:
    """`bin_dir` is the Multus daemon's (hostPath = mountPath = binDir). In layout A it must be a real
    directory of regular files; each plugin the daemon will run must be in it."""
    out: list[Finding] = []
    target = f"{node}:{bin_dir}"
    bd = norm(bin_dir) or bin_dir
    if node_fs.is_symlink(bd):
        link = node_fs.link_target(node_fs.describe(bd))
        out.append(Finding(CHECK, f"{bd} is a symlink, not a real directory", Severity.FAIL, target,
                           f"{bd} -> {link}: a mixture of layout A (manifest mounts {bd}) and the k3s bin dir; "
                           "k3s's entries there are absolute symlinks that do not resolve in the daemon pod",
                           {"path": bd, "symlink_to": link},
                           [f"make {bd} a real directory holding regular files (copy with dereference)",
                            f"link only multus-shim and passthru from {k3s.cni_bin_dir} to {bd} (host side)"]))
    real = node_fs.resolve(bd).final
    for name in node_fs.list_dir(bd):
        entry = posixpath.join(real, name)
        link = node_fs.link_target(node_fs.describe(entry))
        if link is None:
            continue
        absolute = link if link.startswith("/") else posixpath.normpath(posixpath.join(real, link))
        if not (absolute == real or absolute.startswith(real.rstrip("/") + "/")):
            out.append(Finding(CHECK, f"plugin {name} is a symlink out of the bin dir", Severity.FAIL, f"{node}:{bd}/{name}",
                               f"{bd}/{name} -> {link}: the target is not mounted in the Multus daemon pod, so the "
                               f"daemon reports 'failed to find plugin \"{name}\" in path [{bd}]'",
                               {"path": f"{bd}/{name}", "symlink_to": link},
                               [f"replace it with a regular file (cp --dereference) in {bd}"]))
    wanted = required_plugins(conflist, extra_plugins)
    if wanted:
        missing = [w for w in wanted if not node_fs.resolve(posixpath.join(bd, w)).exists
                   or node_fs.is_symlink(posixpath.join(real, w))]
        if missing:
            out.append(Finding(CHECK, "plugins the Multus daemon runs are missing from its bin dir", Severity.FAIL, target,
                               f"missing in {bd}: {', '.join(missing)} (thick Multus also runs the cluster network's "
                               "delegates, so every plugin of the k3s conflist must be there)",
                               {"missing": missing, "required": wanted},
                               [f"install the reference CNI plugins and flannel as regular files into {bd} on every node"]))
    if not out:
        out.append(Finding(CHECK, "bin dir holds the needed plugins as regular files", Severity.OK, target, "",
                           {"required": wanted}))
    return out
