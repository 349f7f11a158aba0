"""The reference node state (the five node-prep states), derived from params + the plugin bundle."""

from __future__ import annotations

import posixpath
import time
from dataclasses import dataclass, field, replace

from runbooklib.nodes.bundle import PluginBundle, PluginMember
from runbooklib.nodes.facts import newdir_path
from runbooklib.params import Params

DEFAULT_BACKUP_ROOT = "/var/backups/runbooklib"
SHIM_LINKS = ("multus-shim", "passthru")


@dataclass(frozen=True)
class DesiredNode:
    """What every node should look like after prep."""

    opt_cni_bin: str  # 1. a real directory
    plugins: dict[str, PluginMember]  # 2. real executable files, sha256 as in the release tarball
    multicall: str  # 3. /opt/cni/bin/flannel is a real copy of this file
    cni_bin_dir: str
    shim_links: dict[str, str]  # 4. <cni_bin_dir>/<name> -> <opt_cni_bin>/<name>
    wb_link: str  # 5. symlink -> wb_target
    wb_target: str
    backup_root: str
    stamp: str  # names this run's backups and temp files
    bundle: PluginBundle | None = None
    bundle_error: str = ""
    node: str = ""  # set per node (backups and remote temp names carry it)
    plugin_warnings: list[str] = field(default_factory=list)

    @property
    def flannel(self) -> str:
        return f"{self.opt_cni_bin}/flannel"

    @property
    def opt_parent(self) -> str:
        return posixpath.dirname(self.opt_cni_bin) or "/"

    @property
    def newdir_ready(self) -> str:
        """A fully copied replacement for a symlinked /opt/cni/bin, waiting to be renamed into place."""
        return newdir_path(self.opt_cni_bin, "ready")

    @property
    def newdir_partial(self) -> str:
        return newdir_path(self.opt_cni_bin, "partial")

    def backup_path(self, path: str, op: str) -> str:
        """`<backup_root>/<stamp>-<node>/<op>/<path>`: one tree per operation, so a backed-up symlink
        (e.g. the old /opt/cni/bin) can never become a directory another backup is written through."""
        run = f"{self.stamp}-{self.node}" if self.node else self.stamp
        return f"{self.backup_root.rstrip('/')}/{run}/{op}{path}"

    def for_node(self, node: str) -> DesiredNode:
        return replace(self, node=node)


def new_stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def desired_state(params: Params, bundle: PluginBundle | None, *, bundle_error: str = "",
                  backup_root: str = DEFAULT_BACKUP_ROOT, stamp: str | None = None) -> DesiredNode:
    k = params.k3s
    opt = k.opt_cni_bin.rstrip("/")
    cbd = k.cni_bin_dir.rstrip("/")
    return DesiredNode(
        opt_cni_bin=opt,
        plugins=dict(bundle.members) if bundle else {},
        multicall=k.multicall_binary,
        cni_bin_dir=cbd,
        shim_links={name: f"{opt}/{name}" for name in SHIM_LINKS},
        wb_link=k.whereabouts_link.rstrip("/"),
        wb_target=k.whereabouts_target,
        backup_root=backup_root,
        stamp=stamp or new_stamp(),
        bundle=bundle,
        bundle_error=bundle_error,
        plugin_warnings=list(bundle.warnings) if bundle else [],
    )
