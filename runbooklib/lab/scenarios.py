"""Break scenarios (the broken node states of the handed cases) and a simulated k3s upgrade, for demos
and tests. Everything is done ON the node (nsenter into its namespaces), so absolute symlinks are
made and read the way the node sees them.

| scenario | case | what it does to the node | the pod then fails with | repair |
|---|---|---|---|---|
| opt-cni-bin-symlink | C01 | moves the plugins into data/cni, `/opt/cni/bin -> data/cni` | `failed to find plugin "flannel" in path [/opt/cni/bin]` (Multus daemon log + pod event) | node prep |
| whereabouts-link-missing | C05 | removes `/etc/cni/net.d/whereabouts.d` | `config file not found` | node prep |
| multus-shim-dangling | — | removes `/opt/cni/bin/multus-shim` (the data/cni link dangles) | `failed to find plugin "multus-shim" in path [/var/lib/rancher/k3s/data/cni]` | restart the node's Multus pod (init copies it again) |
| plugin-missing | C04 | removes `/opt/cni/bin/macvlan` | `failed to find plugin "macvlan" in path [/opt/cni/bin]` | node prep |
| mtu-lowered | C15 | `ip link set ens2 mtu 1500` | `invalid MTU 9000, must be [0, master MTU(1500)]` | `ip link set ens2 mtu 9000` (lab repair) |
| flannel-stale | upgrade | the multicall changes (new data/<hash>), links put back, `/opt/cni/bin/flannel` not refreshed | nothing yet (a stale copy still runs): the upgrade check must WARN | node prep |
| k3s-upgrade | C09-like | `k3s_upgrade`: new data/<hash>, `current` moved, data/cni rebuilt (multus-shim/passthru links dropped) | `failed to find plugin "multus-shim" in path [/var/lib/rancher/k3s/data/cni]` | node prep |
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runbooklib.lab import k3sfs
from runbooklib.lab.cni import nodeexec
from runbooklib.lab.state import LabState

K3S_DATA = k3sfs.K3S_DATA
DATA_CNI = f"{K3S_DATA}/cni"


class ScenarioError(RuntimeError):
    pass


def _sh(st: LabState, node: str, script: str, *, net: bool = False) -> str:
    h = nodeexec.NodeHandle.of(st, node, Path(st.state_dir) / "cni" / "rbl-cni.pyz")
    proc = nodeexec.run(h, ["sh", "-ec", script], net=net)
    if proc.returncode != 0:
        raise ScenarioError(f"{node}: {script!r} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode()


def k3s_upgrade(st: LabState, node: str, *, version: str | None = None, build: str | None = None) -> str:
    """Simulate `k3s` starting as a new release on `node`: new data/<hash> (changed multicall build),
    `current` moved (`previous` kept), data/cni recreated from scratch (user-added entries dropped)."""
    st.node(node)
    version = version or st.k3s_version or k3sfs.DEFAULT_K3S_VERSION
    build = build or f"{version}-lab-upgrade-{time.strftime('%Y%m%d%H%M%S')}-{time.monotonic_ns() % 100000}"
    return k3sfs.seed_k3s(lambda p: st.node_path(node, p), k3s_version=version, build=build)


def _opt_cni_bin_symlink(st: LabState, node: str) -> None:
    keep = " ".join(k3sfs.REGISTERED) + " cni"
    _sh(st, node, f"""
[ -L /opt/cni/bin ] && exit 0
for f in /opt/cni/bin/*; do
  n=${{f##*/}}
  case " {keep} " in *" $n "*) continue;; esac
  rm -f "{DATA_CNI}/$n"; cp -L "$f" "{DATA_CNI}/$n"
done
rm -rf /opt/cni/bin
ln -s {DATA_CNI} /opt/cni/bin
""")


def _whereabouts_link_missing(st: LabState, node: str) -> None:
    _sh(st, node, "rm -f /etc/cni/net.d/whereabouts.d; [ ! -e /etc/cni/net.d/whereabouts.d ]")


def _multus_shim_dangling(st: LabState, node: str) -> None:
    _sh(st, node, f"rm -f /opt/cni/bin/multus-shim; [ -L {DATA_CNI}/multus-shim ] || "
                  f"ln -s /opt/cni/bin/multus-shim {DATA_CNI}/multus-shim")


def _plugin_missing(st: LabState, node: str) -> None:
    _sh(st, node, "rm -f /opt/cni/bin/macvlan")


def _mtu_lowered(st: LabState, node: str) -> None:
    _sh(st, node, f"ip link set {st.node(node).storage_nic} mtu 1500", net=True)


def _mtu_repair(st: LabState, node: str) -> None:
    _sh(st, node, f"ip link set {st.node(node).storage_nic} mtu 9000", net=True)


def _flannel_stale(st: LabState, node: str) -> None:
    k3s_upgrade(st, node)
    _sh(st, node, f"""
for n in multus-shim passthru; do [ -e /opt/cni/bin/$n ] && ln -sfn /opt/cni/bin/$n {DATA_CNI}/$n; done; true
""")


def _k3s_upgrade(st: LabState, node: str) -> None:
    k3s_upgrade(st, node)


@dataclass(frozen=True)
class Scenario:
    name: str
    case: str
    summary: str
    expect: str                      # upstream error text the test pod then fails with ("" = none)
    repair: str                      # the matching repair
    apply: Callable[[LabState, str], None]
    lab_repair: Callable[[LabState, str], None] | None = None


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("opt-cni-bin-symlink", "C01", "/opt/cni/bin replaced by a symlink to data/cni (plugins moved there)",
             'failed to find plugin "flannel" in path [/opt/cni/bin]', "node prep (opt-cni-bin-dir, cni-plugins)",
             _opt_cni_bin_symlink),
    Scenario("whereabouts-link-missing", "C05", "/etc/cni/net.d/whereabouts.d link removed",
             "config file not found", "node prep (whereabouts-link)", _whereabouts_link_missing),
    Scenario("multus-shim-dangling", "-", "/opt/cni/bin/multus-shim removed; the data/cni link dangles",
             'failed to find plugin "multus-shim" in path [/var/lib/rancher/k3s/data/cni]',
             "restart the node's Multus pod (its init container copies multus-shim again)", _multus_shim_dangling),
    Scenario("plugin-missing", "C04", "macvlan removed from /opt/cni/bin",
             'failed to find plugin "macvlan" in path [/opt/cni/bin]', "node prep (cni-plugins)", _plugin_missing),
    Scenario("mtu-lowered", "C15", "MTU of the storage NIC lowered to 1500",
             "invalid MTU 9000, must be [0, master MTU(1500)]", "raise the NIC MTU to 9000 (lab: --repair)",
             _mtu_lowered, _mtu_repair),
    Scenario("flannel-stale", "upgrade", "k3s multicall changed, /opt/cni/bin/flannel copy not refreshed",
             "", "node prep (flannel-copy)", _flannel_stale),
    Scenario("k3s-upgrade", "C09", "simulated k3s upgrade: data/cni rebuilt, multus-shim/passthru links dropped",
             'failed to find plugin "multus-shim" in path [/var/lib/rancher/k3s/data/cni]',
             "node prep (multus-shim-link, passthru-link, flannel-copy)", _k3s_upgrade),
)}


def break_node(st: LabState, scenario: str, node: str | None = None) -> tuple[Scenario, str]:
    s = SCENARIOS.get(scenario)
    if s is None:
        raise ScenarioError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    node = node or st.nodes[0].name
    st.node(node)
    s.apply(st, node)
    return s, node


def repair_node(st: LabState, scenario: str, node: str | None = None) -> tuple[Scenario, str]:
    s = SCENARIOS[scenario]
    node = node or st.nodes[0].name
    if s.lab_repair is None:
        raise ScenarioError(f"{scenario}: no lab-side repair; the repair is: {s.repair}")
    s.lab_repair(st, node)
    return s, node
