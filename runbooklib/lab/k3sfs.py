"""Seed a lab node's filesystem like a fresh k3s agent (>= v1.31 layout), and redo it as an upgrade.

What `seed_k3s` writes (paths as the node sees them; see upstream-facts §5.3):
- `/var/lib/rancher/k3s/data/<hash>/bin/cni`: the multicall stand-in (`cni_multicall.py` with the
  k3s version + build string embedded, so every version has a different sha256 = different <hash>),
  plus `<hash>/bin/<name> -> cni` for each registered name, as in k3s's data archive;
- `data/current -> /var/lib/rancher/k3s/data/<hash>` (absolute; `data/previous` after an upgrade);
- `data/cni/` recreated from scratch: `cni` and the 7 registered names as ABSOLUTE symlinks to
  `/var/lib/rancher/k3s/data/<hash>/bin/cni` (anything a user added there is dropped, as k3s does);
- `agent/etc/cni/net.d/10-flannel.conflist` (name cbr0: flannel with delegate hairpinMode,
  forceAddress, isDefaultGateway; portmap; bandwidth as current k3s writes; cniVersion 1.0.0);
- `/run/flannel/subnet.env` with the node's pod subnet.
Nothing under /opt/cni or /etc/cni: a fresh k3s node has neither.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

K3S_DATA = "/var/lib/rancher/k3s/data"
CONF_DIR = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
REGISTERED = ("bandwidth", "bridge", "firewall", "flannel", "host-local", "loopback", "portmap")
DEFAULT_K3S_VERSION = "v1.31.6+k3s1"

FLANNEL_CONFLIST = {
    "name": "cbr0",
    "cniVersion": "1.0.0",
    "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": True, "forceAddress": True, "isDefaultGateway": True}},
        {"type": "portmap", "capabilities": {"portMappings": True}},
        {"type": "bandwidth", "capabilities": {"bandwidth": True}},
    ],
}

Resolver = Callable[[str], Path]


def multicall_source(k3s_version: str, build: str) -> bytes:
    text = resources.files("runbooklib.lab").joinpath("cni_multicall.py").read_text()
    return text.replace("@K3S_VERSION@", k3s_version).replace("@BUILD@", build).encode()


def data_hash(k3s_version: str, build: str | None = None) -> str:
    """The `data/<hash>` name for this version/build (sha256 of the multicall file, like k3s's data hash)."""
    return hashlib.sha256(multicall_source(k3s_version, build or f"{k3s_version}-lab")).hexdigest()


def _symlink(target: str, link: Path) -> None:
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def seed_k3s(resolve: Resolver, *, k3s_version: str = DEFAULT_K3S_VERSION, build: str | None = None,
             pod_network: str | None = None, pod_subnet: str | None = None) -> str:
    """Write the k3s layout through `resolve` (node path -> host path); returns the data <hash>.

    Also the body of a simulated `k3s upgrade`: call again with another version/build; the new
    hash dir is added, `current` moves (old one becomes `previous`), `data/cni` is rebuilt.
    `pod_network`/`pod_subnet` (re)write /run/flannel/subnet.env when given.
    """
    blob = multicall_source(k3s_version, build or f"{k3s_version}-lab")
    digest = hashlib.sha256(blob).hexdigest()
    data = resolve(K3S_DATA)
    bin_dir = data / digest / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    cni = bin_dir / "cni"
    cni.write_bytes(blob)
    cni.chmod(0o755)
    for name in REGISTERED:
        _symlink("cni", bin_dir / name)

    current = data / "current"
    real_hash_dir = f"{K3S_DATA}/{digest}"
    if current.is_symlink() and Path(str(current.readlink())).name != digest:
        _symlink(str(current.readlink()), data / "previous")
    _symlink(real_hash_dir, current)

    cni_dir = data / "cni"
    if cni_dir.is_symlink() or cni_dir.is_file():
        cni_dir.unlink()
    elif cni_dir.exists():
        shutil.rmtree(cni_dir)
    cni_dir.mkdir()
    for name in ("cni",) + REGISTERED:
        _symlink(f"{real_hash_dir}/bin/cni", cni_dir / name)

    conf = resolve(CONF_DIR)
    conf.mkdir(parents=True, exist_ok=True)
    conflist = conf / "10-flannel.conflist"
    if not conflist.exists():
        conflist.write_text(json.dumps(FLANNEL_CONFLIST, indent=2) + "\n")

    if pod_network and pod_subnet:
        env = resolve("/run/flannel/subnet.env")
        env.parent.mkdir(parents=True, exist_ok=True)
        env.write_text(f"FLANNEL_NETWORK={pod_network}\nFLANNEL_SUBNET={pod_subnet}\n"
                       "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n")
    return digest
