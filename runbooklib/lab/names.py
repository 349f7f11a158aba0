"""Names and addresses of everything a lab creates, derived from the params (pure, no side effects).

Every kernel object a lab makes carries its prefix so `lab down` can find leftovers by name:
- prefix: `rbl-` for the demo cluster `lab`, otherwise `rbl<4 hex of sha1(cluster)>-` (8 chars), so
  a test lab never matches a demo lab's names and the other way round;
- node network namespace: `<prefix><node>` (e.g. `rbl-kr1`; netns names are files, no 15-char limit);
- storage namespace: `<prefix>storage`, holding bridge `br0` (the shared storage segment, MTU of the
  segment) with the static hosts' addresses (the "NAS") on it;
- management bridge in the root namespace: `<prefix>mgmt` (<= 12 chars) with the first address of
  `lab.mgmt_cidr`; host end of a node's management veth: `<prefix>m<index>` (<= 11 chars);
- inside a node: `mgmt0` (management, the node's `ssh.host`) and the storage NIC
  (`storage_nic.name`, e.g. `ens2`) whose peer `s<index>` lives in the storage namespace.
- pod network namespaces created by later lab code should be named `<prefix><node>-...` so that
  `lab down` removes them too (see `LabNames.pod_netns_prefix`).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlparse

from runbooklib.params import LAB_NETWORK, Params

DEMO_CLUSTER = "lab"
IFNAMSIZ = 15
STORAGE_BRIDGE = "br0"
MGMT_IF = "mgmt0"
DEFAULT_API_PORT = 16443


def lab_prefix(cluster: str) -> str:
    if cluster == DEMO_CLUSTER:
        return "rbl-"
    return "rbl" + hashlib.sha1(cluster.encode()).hexdigest()[:4] + "-"


@dataclass(frozen=True)
class NodeNames:
    name: str
    index: int
    netns: str
    host_veth: str          # root-namespace end of the management veth
    storage_peer: str       # storage-namespace end of the storage veth
    mgmt_address: str
    ssh_port: int
    ssh_user: str
    storage_nic: str
    storage_address: str
    storage_mtu: int
    pod_subnet: str         # FLANNEL_SUBNET (gateway address/prefix, like flannel writes it)


@dataclass(frozen=True)
class LabNames:
    cluster: str
    prefix: str
    mgmt_bridge: str
    mgmt_gateway: str
    mgmt_prefixlen: int
    storage_netns: str
    storage_prefixlen: int
    storage_mtu: int
    static_addresses: tuple[str, ...]
    pod_network: str        # FLANNEL_NETWORK
    artifact_host: str
    artifact_port: int
    nodes: tuple[NodeNames, ...]

    def node(self, name: str) -> NodeNames:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def pod_netns_prefix(self, node: str) -> str:
        return f"{self.prefix}{node}-"


class LabParamsError(ValueError):
    pass


def _pod_network(avoid: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    for cand in ipaddress.ip_network("198.18.0.0/15").subnets(new_prefix=17):
        if not any(cand.overlaps(a) for a in avoid):
            return cand
    raise LabParamsError("no /17 of 198.18.0.0/15 is free for the pod network")


def _outside_lab_network(params: Params, mgmt: ipaddress.IPv4Network, storage: ipaddress.IPv4Network) -> list[str]:
    """Every network/address of the params that `lab up` would configure but is not in 198.18.0.0/15."""
    found = []
    for what, net in (("lab.mgmt_cidr", mgmt), ("storage_network.cidr", storage)):
        if not net.subnet_of(LAB_NETWORK):
            found.append(f"{what} {net} is outside it")
    for i, nad in enumerate(params.nads):
        try:
            rng = ipaddress.ip_network(nad.ipam.range, strict=False)
        except ValueError:
            continue  # params validation names it
        if rng.version != 4 or not rng.subnet_of(LAB_NETWORK):  # type: ignore[arg-type]
            found.append(f"nads[{i}].ipam.range {rng} is outside it")
    return found


def lab_names(params: Params) -> LabNames:
    """Everything `lab up` will create for these params; raises LabParamsError on params the lab can't build."""
    if params.lab is None:
        raise LabParamsError("the params have no `lab:` section; use a lab params file such as params/lab.yaml")
    prefix = lab_prefix(params.cluster)
    try:
        mgmt = ipaddress.ip_network(params.lab.mgmt_cidr, strict=False)
        storage = ipaddress.ip_network(params.storage_network.cidr, strict=False)
    except ValueError as e:
        raise LabParamsError(f"lab.mgmt_cidr / storage_network.cidr: {e}") from None
    if not isinstance(mgmt, ipaddress.IPv4Network) or not isinstance(storage, ipaddress.IPv4Network):
        raise LabParamsError("the lab supports IPv4 management and storage networks only")
    outside = _outside_lab_network(params, mgmt, storage)
    if outside:
        raise LabParamsError(f"the lab only uses addresses of {LAB_NETWORK} (never a real network's): "
                             + "; ".join(outside))
    gateway = next(mgmt.hosts())
    pod_net = _pod_network([mgmt, storage])
    pod_subnets = list(pod_net.subnets(new_prefix=24))
    problems: list[str] = []
    nodes: list[NodeNames] = []
    for i, n in enumerate(params.nodes):
        host = n.ssh.host or ""
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            problems.append(f"nodes[{i}].ssh.host {host!r} must be an address in lab.mgmt_cidr {mgmt}")
            continue
        if addr not in mgmt or addr == gateway or addr in (mgmt.network_address, mgmt.broadcast_address):
            problems.append(f"nodes[{i}].ssh.host {addr} must be a host address of {mgmt} other than {gateway}")
        if 10 + i >= len(pod_subnets):
            problems.append("too many nodes for the pod network")
            break
        netns = f"{prefix}{n.name}"
        host_veth = f"{prefix}m{i}"
        if len(n.storage_nic.name) > IFNAMSIZ:
            problems.append(f"nodes[{i}].storage_nic.name is longer than {IFNAMSIZ}")
        nodes.append(NodeNames(
            name=n.name, index=i, netns=netns, host_veth=host_veth, storage_peer=f"s{i}",
            mgmt_address=str(addr), ssh_port=n.ssh.port, ssh_user=n.ssh.user or "root",
            storage_nic=n.storage_nic.name, storage_address=n.storage_nic.address,
            storage_mtu=n.storage_nic.mtu, pod_subnet=f"{pod_subnets[10 + i].network_address + 1}/24"))
    art = urlparse(params.artifacts.cni_plugins.url or "")
    art_host, art_port = art.hostname or str(gateway), art.port or 80
    if art.scheme == "http" and art_host != str(gateway):
        problems.append(f"artifacts.cni_plugins.url must point at the lab gateway {gateway} (got {art_host})")
    if problems:
        raise LabParamsError("; ".join(problems))
    return LabNames(
        cluster=params.cluster, prefix=prefix, mgmt_bridge=f"{prefix}mgmt", mgmt_gateway=str(gateway),
        mgmt_prefixlen=mgmt.prefixlen, storage_netns=f"{prefix}storage", storage_prefixlen=storage.prefixlen,
        storage_mtu=params.storage_network.mtu,
        static_addresses=tuple(h.address for h in params.static_hosts), pod_network=str(pod_net),
        artifact_host=art_host, artifact_port=art_port, nodes=tuple(nodes))
