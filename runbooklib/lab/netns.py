"""Lab network plumbing: management bridge (root ns), storage segment (own ns), per-node namespaces.

Only veth and bridge links are used (this kernel has no `dummy`). Node-side links are created
directly inside the node namespace (`ip link add ... netns X ... peer ... netns Y`), so no node
interface name (mgmt0, ens2) ever exists in the root namespace, even for a moment.
"""

from __future__ import annotations

import json
import os

from runbooklib.lab.names import MGMT_IF, STORAGE_BRIDGE, LabNames, NodeNames
from runbooklib.lab.sh import ip, ip_batch, run

NETNS_DIR = "/run/netns"


def list_netns() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def netns_exists(name: str) -> bool:
    return os.path.exists(os.path.join(NETNS_DIR, name))


def root_links() -> list[dict[str, object]]:
    return json.loads(ip("-j", "link", "show") or "[]")


def create_shared(names: LabNames) -> None:
    """Management bridge with the gateway address, and the storage namespace with its bridge + NAS."""
    ip_batch([
        f"link add {names.mgmt_bridge} type bridge",
        f"addr add {names.mgmt_gateway}/{names.mgmt_prefixlen} dev {names.mgmt_bridge}",
        f"link set {names.mgmt_bridge} up",
        f"netns add {names.storage_netns}",
    ])
    lines = [
        "link set lo up",
        f"link add {STORAGE_BRIDGE} mtu {names.storage_mtu} type bridge",
        f"link set {STORAGE_BRIDGE} up",
    ] + [f"addr add {a}/{names.storage_prefixlen} dev {STORAGE_BRIDGE}" for a in names.static_addresses]
    ip_batch(lines, netns=names.storage_netns)


def create_node(names: LabNames, node: NodeNames) -> None:
    ns = node.netns
    ip("netns", "add", ns)
    ip_batch([
        f"link add {node.host_veth} type veth peer name {MGMT_IF} netns {ns}",
        f"link set {node.host_veth} master {names.mgmt_bridge} up",
        f"link add {node.storage_nic} netns {ns} mtu {node.storage_mtu} type veth "
        f"peer name {node.storage_peer} netns {names.storage_netns} mtu {node.storage_mtu}",
    ])
    ip_batch([
        f"link set {node.storage_peer} master {STORAGE_BRIDGE} up",
    ], netns=names.storage_netns)
    ip_batch([
        "link set lo up",
        f"addr add {node.mgmt_address}/{names.mgmt_prefixlen} dev {MGMT_IF}",
        f"link set {MGMT_IF} up",
        f"addr add {node.storage_address}/{names.storage_prefixlen} dev {node.storage_nic}",
        f"link set {node.storage_nic} up",
        f"route add default via {names.mgmt_gateway} dev {MGMT_IF}",
    ], netns=ns)


def netns_pids(name: str) -> list[int]:
    out = run(["ip", "netns", "pids", name], check=False)
    return [int(x) for x in out.split() if x.isdigit()]


def lab_netns(prefix: str) -> list[str]:
    return [n for n in list_netns() if n.startswith(prefix)]


def delete_netns(name: str) -> None:
    run(["ip", "netns", "delete", name], check=False)


def delete_root_links(prefix: str) -> None:
    for link in root_links():
        name = str(link.get("ifname", ""))
        if name.startswith(prefix):
            run(["ip", "link", "delete", name], check=False)
