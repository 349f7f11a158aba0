"""Where a lab keeps its files, and `LabState`: what a running lab is made of (read by lab code and tests).

State dir layout (`lab.state_dir` from the params, outside the repo):

    .runbooklib-lab          marker: `lab down` only deletes a state dir that carries it
    state.json               LabState (written by `lab up`, phase "starting" -> "up")
    ssh/id_ed25519[.pub]     the lab's client key; ssh/known_hosts: every node's host key
    nodes/<node>/            sshd_config, host key, sshd.pid, sshd.log, init.json
    nodes/<node>/root/...    the node's private dirs (bind-mounted over /opt/cni, /etc/cni, ...)
    artifacts/               the served plugin tarball + .sha256; artifacts.pid/.log beside it
    api/                     the lab API's state; api.pid/.log; kubeconfig (params kubeconfig.path)

Usage from lab code or tests:

    st = LabState.load("/var/tmp/runbooklib-lab")       # or load_lab_state(params)
    node = st.node("kr1"); node.netns; node.mgmt_address; st.node_path("kr1", "/opt/cni/bin")
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runbooklib.params import Params

MARKER = ".runbooklib-lab"
STATE_FILE = "state.json"

# Host paths that are private per node (bind mounts of nodes/<node>/root/<path> in the node's mount
# namespace). Everything node prep and the pod work touch must be under one of these.
PRIVATE_DIRS: tuple[str, ...] = (
    "/opt/cni", "/etc/cni", "/var/lib/rancher", "/etc/rancher", "/run/flannel", "/var/lib/cni",
    "/var/lib/kubelet", "/root", "/tmp",
    "/var/backups",         # node prep keeps its backups here by default
    "/run/multus",          # the Multus daemon's socket dir (lab pod networking, runbooklib.lab.cni)
)


@dataclass
class LabPaths:
    state_dir: Path

    @property
    def marker(self) -> Path:
        return self.state_dir / MARKER

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    @property
    def ssh_dir(self) -> Path:
        return self.state_dir / "ssh"

    @property
    def client_key(self) -> Path:
        return self.ssh_dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.ssh_dir / "known_hosts"

    def node_dir(self, node: str) -> Path:
        return self.state_dir / "nodes" / node

    def node_root(self, node: str) -> Path:
        return self.node_dir(node) / "root"

    @property
    def artifacts_dir(self) -> Path:
        return self.state_dir / "artifacts"

    @property
    def api_dir(self) -> Path:
        return self.state_dir / "api"

    def node_path(self, node: str, path: str) -> Path:
        """The host-side location of `path` as node `node` sees it (only for paths under PRIVATE_DIRS)."""
        p = os.path.normpath(path)
        for d in PRIVATE_DIRS:
            if p == d or p.startswith(d + "/"):
                return self.node_root(node) / p.lstrip("/")
        raise ValueError(f"{path} is not private to a lab node (private dirs: {', '.join(PRIVATE_DIRS)})")


@dataclass
class NodeState:
    name: str
    netns: str
    mgmt_address: str
    ssh_port: int
    ssh_user: str
    key_file: str
    known_hosts: str
    hostname: str
    storage_nic: str
    storage_address: str
    pod_subnet: str
    sshd_pid_file: str
    host_veth: str


@dataclass
class ProcState:
    pid_file: str
    log_file: str
    address: str = ""
    port: int = 0


@dataclass
class LabState:
    cluster: str
    prefix: str
    state_dir: str
    phase: str                                  # "starting" | "up"
    mgmt_bridge: str
    mgmt_gateway: str
    storage_netns: str
    static_addresses: list[str]
    pod_network: str
    kubeconfig: str
    nodes: list[NodeState] = field(default_factory=list)
    artifacts: ProcState | None = None
    api: ProcState | None = None
    k3s_version: str = ""
    multicall_hash: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def paths(self) -> LabPaths:
        return LabPaths(Path(self.state_dir))

    def node(self, name: str) -> NodeState:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no lab node {name!r} (have {', '.join(n.name for n in self.nodes)})")

    def node_path(self, node: str, path: str) -> Path:
        return self.paths.node_path(node, path)

    def save(self) -> None:
        tmp = self.paths.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(self.paths.state_file)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabState:
        d = dict(d)
        d["nodes"] = [NodeState(**n) for n in d.get("nodes", [])]
        for k in ("artifacts", "api"):
            if d.get(k):
                d[k] = ProcState(**d[k])
        return cls(**d)

    @classmethod
    def load(cls, state_dir: str | os.PathLike[str]) -> LabState:
        """Raises FileNotFoundError when no lab was brought up with this state dir."""
        return cls.from_dict(json.loads((Path(state_dir) / STATE_FILE).read_text()))


def state_dir_of(params: Params) -> Path:
    if params.lab is None:
        raise ValueError("params have no lab: section")
    return params.resolve(params.lab.state_dir)


def load_lab_state(params: Params) -> LabState:
    return LabState.load(state_dir_of(params))
