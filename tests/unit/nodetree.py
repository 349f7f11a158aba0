"""A fake k3s node laid out under a temp dir, reachable through `LocalHost` (no root, no lab).

Every k3s path in the params points under `root`, so the real facts script, plan and apply run
against it unchanged. Used by the node-prep unit tests; the lab tests do the same over SSH.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

from runbooklib.params import Params, params_from_dict
from runbooklib.remote.host import LocalHost
from runbooklib.remote.journal import Journal

PLUGINS = ("bandwidth", "bridge", "host-local", "loopback", "macvlan", "portmap")
HASH_A = "aaaa1111"
HASH_B = "bbbb2222"


def make_tarball(path: Path, names: tuple[str, ...] = PLUGINS, tag: str = "v1") -> str:
    with tarfile.open(path, "w:gz") as tf:
        for n in names:
            data = f"#!/bin/sh\necho {n} {tag}\n".encode()
            info = tarfile.TarInfo(f"./{n}")
            info.size, info.mode = len(data), 0o755
            tf.addfile(info, io.BytesIO(data))
        lic = b"Apache License\n"
        info = tarfile.TarInfo("./LICENSE")
        info.size, info.mode = len(lic), 0o644
        tf.addfile(info, io.BytesIO(lic))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def seed_k3s(root: Path, hash_: str = HASH_A, content: str = "multicall-A") -> None:
    """A fresh k3s agent: data/<hash>/bin/cni, data/current, absolute symlinks in data/cni, no /opt/cni/bin."""
    data = root / "var/lib/rancher/k3s/data"
    bindir = data / hash_ / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    cni = bindir / "cni"
    cni.write_text(f"#!/bin/sh\necho {content}\n")
    cni.chmod(0o755)
    cur = data / "current"
    if cur.is_symlink():
        cur.unlink()
    cur.symlink_to(data / hash_)
    cbd = data / "cni"
    cbd.mkdir(exist_ok=True)
    for n in ("cni", "flannel", "bridge", "host-local", "loopback", "portmap", "bandwidth", "firewall"):
        p = cbd / n
        if p.is_symlink() or p.exists():
            p.unlink()
        p.symlink_to(cni)
    (root / "var/lib/rancher/k3s/agent/etc/cni/net.d").mkdir(parents=True, exist_ok=True)


def make_params(root: Path, tarball: Path, sha: str | None, extra_nodes: int = 0) -> Params:
    k3s = root / "var/lib/rancher/k3s"
    raw = {
        "cluster": "unit",
        "storage_network": {"cidr": "198.18.205.0/24"},
        "k3s": {
            "conf_dir": f"{k3s}/agent/etc/cni/net.d",
            "cni_bin_dir": f"{k3s}/data/cni",
            "data_dir": f"{k3s}/data",
            "multicall_binary": f"{k3s}/data/current/bin/cni",
            "opt_cni_bin": f"{root}/opt/cni/bin",
            "whereabouts_link": f"{root}/etc/cni/net.d/whereabouts.d",
        },
        "artifacts": {"cni_plugins": {"local": str(tarball), **({"sha256": sha} if sha else {})}},
        "nodes": [{"name": f"n{i + 1}", "ssh": {"host": "127.0.0.1", "port": 2200 + i}, "sudo": "root",
                   "storage_nic": {"name": "ens2", "address": f"198.18.205.{11 + i}"}} for i in range(1 + extra_nodes)],
    }
    return params_from_dict(raw, source=str(root / "params.yaml"))


def local_factory(params: Params, node, journal: Journal, needs_sudo: bool) -> LocalHost:  # noqa: ANN001
    return LocalHost(node.name, journal)


class Tree:
    """Paths of one fake node."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.opt = root / "opt/cni/bin"
        self.cbd = root / "var/lib/rancher/k3s/data/cni"
        self.multicall = root / "var/lib/rancher/k3s/data/current/bin/cni"
        self.wb_link = root / "etc/cni/net.d/whereabouts.d"
        self.wb_target = root / "var/lib/rancher/k3s/agent/etc/cni/net.d/whereabouts.d"
        self.backups = root / "backups"

    def leftovers(self) -> list[str]:
        found = []
        for d in (self.opt, self.opt.parent, self.cbd, self.wb_link.parent):
            if d.is_dir():
                found += [str(p) for p in d.iterdir() if p.name.startswith(".runbooklib-")]
        return found

    def assert_five_states(self, plugin_names: tuple[str, ...] = PLUGINS) -> None:
        assert self.opt.is_dir() and not self.opt.is_symlink(), "1: /opt/cni/bin real dir"
        for n in plugin_names:
            p = self.opt / n
            assert p.is_file() and not p.is_symlink() and os.access(p, os.X_OK), f"2: {n}"
        fl = self.opt / "flannel"
        assert fl.is_file() and not fl.is_symlink() and fl.read_bytes() == self.multicall.read_bytes(), "3: flannel"
        for n in ("multus-shim", "passthru"):
            assert os.readlink(self.cbd / n) == str(self.opt / n), f"4: {n}"
        assert os.readlink(self.wb_link) == str(self.wb_target), "5: whereabouts link"
        assert self.wb_target.is_dir()
        assert not self.leftovers()
