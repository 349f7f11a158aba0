"""The local lab (issue 3): nodes reachable over SSH with host-key checks, isolated, k3s-seeded."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import fabric
import paramiko
import pytest

from runbooklib.lab import k3sfs, netns, procs
from runbooklib.lab.lab import Lab
from runbooklib.lab.names import IFNAMSIZ, lab_names, lab_prefix
from runbooklib.lab.state import LabState
from runbooklib.lab.testparams import lab_params
from runbooklib.params import load_params, params_from_dict

ROOT = Path(__file__).resolve().parents[2]
PING = r"""
import os, socket, struct, sys
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
dst, size = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.IPPROTO_IP, 10, 2)   # IP_MTU_DISCOVER = IP_PMTUDISC_DO: no fragmentation
s.settimeout(2)
payload = os.urandom(size)
hdr = struct.pack("!BBHHH", 8, 0, 0, 4242, 1)
s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + payload), 4242, 1) + payload, (dst, 0))
while True:
    data, addr = s.recvfrom(65535)
    if addr[0] == dst and data[20] == 0:
        print("reply", addr[0], len(data) - 28); break
"""

# ---------------------------------------------------------------- pure (no root needed)


def test_names_fit_interface_limits() -> None:
    p = params_from_dict(lab_params("some-long-cluster-name", 16, "/var/tmp/x", "198.19.7.0/24"), require_files=False)
    names = lab_names(p)
    assert names.prefix.startswith("rbl") and names.prefix != "rbl-" and len(names.prefix) == 8
    assert lab_prefix("lab") == "rbl-"
    assert len(names.mgmt_bridge) <= IFNAMSIZ
    assert all(len(n.host_veth) <= IFNAMSIZ and len(n.storage_peer) <= IFNAMSIZ for n in names.nodes)
    assert names.nodes[0].mgmt_address == "198.19.7.11" and names.mgmt_gateway == "198.19.7.1"
    import ipaddress
    pod = ipaddress.ip_network(names.pod_network)
    assert not pod.overlaps(ipaddress.ip_network("198.18.205.0/24"))
    assert len({n.pod_subnet for n in names.nodes}) == 16


def test_k3s_seed_and_upgrade(tmp_path: Path) -> None:
    resolve = lambda p: tmp_path / p.lstrip("/")  # noqa: E731
    h1 = k3sfs.seed_k3s(resolve, pod_network="198.18.0.0/17", pod_subnet="198.18.10.1/24")
    data = tmp_path / "var/lib/rancher/k3s/data"
    (data / "cni" / "multus-shim").symlink_to("/opt/cni/bin/multus-shim")          # a user-added entry
    h2 = k3sfs.seed_k3s(resolve, k3s_version="v1.32.2+k3s1")
    assert h1 != h2 and h1 == k3sfs.data_hash(k3sfs.DEFAULT_K3S_VERSION)
    assert os.readlink(data / "current") == f"/var/lib/rancher/k3s/data/{h2}"
    assert os.readlink(data / "previous") == f"/var/lib/rancher/k3s/data/{h1}"
    names = sorted(os.listdir(data / "cni"))
    assert names == sorted(("cni",) + k3sfs.REGISTERED)                                # user entry dropped
    assert all(os.readlink(data / "cni" / n) == f"/var/lib/rancher/k3s/data/{h2}/bin/cni" for n in names)
    conf = json.loads((tmp_path / k3sfs.CONF_DIR.lstrip("/") / "10-flannel.conflist").read_text())
    assert conf["name"] == "cbr0" and conf["plugins"][0]["type"] == "flannel"
    assert not (tmp_path / "opt/cni/bin").exists()


# ---------------------------------------------------------------- against a running lab (root)


def connect(st: LabState, node: str, known_hosts: str | None = None) -> fabric.Connection:
    n = st.node(node)
    c = fabric.Connection(n.mgmt_address, user=n.ssh_user, port=n.ssh_port, connect_timeout=10,
                          connect_kwargs={"key_filename": n.key_file, "look_for_keys": False, "allow_agent": False})
    c.client = paramiko.SSHClient()
    c.client.load_host_keys(known_hosts or n.known_hosts)
    c.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return c


def sh(st: LabState, node: str, cmd: str, warn: bool = False) -> fabric.Result:
    with connect(st, node) as c:
        return c.run(cmd, hide=True, warn=warn, in_stream=False)


@pytest.fixture(scope="module")
def st(lab: Lab) -> LabState:
    return LabState.load(lab.paths.state_dir)


@pytest.mark.lab
def test_every_node_reachable_with_host_key_verification(st: LabState, tmp_path: Path) -> None:
    for n in st.nodes:
        r = sh(st, n.name, "hostname; echo $PATH; id -u")
        host, path, uid = r.stdout.split()
        assert host == n.name and "/usr/sbin" in path.split(":") and uid == "0"
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(paramiko.SSHException):
        with connect(st, st.nodes[0].name, known_hosts=str(empty)) as c:
            c.run("true", hide=True)


@pytest.mark.lab
def test_node_isolation(st: LabState) -> None:
    a, others = st.nodes[0].name, [n.name for n in st.nodes[1:]]
    probe = "/opt/cni/bin/lab-isolation-probe"
    assert sh(st, a, "ls /opt/cni/bin", warn=True).failed, "a fresh k3s node has no /opt/cni/bin"
    sh(st, a, f"mkdir -p /opt/cni/bin && echo {a} > {probe}")
    try:
        assert sh(st, a, f"cat {probe}").stdout.strip() == a
        assert st.node_path(a, probe).read_text().strip() == a
        assert not Path(probe).exists(), "file leaked to the host"
        for o in others:
            assert sh(st, o, f"test -e {probe}", warn=True).failed, f"file leaked to {o}"
    finally:
        sh(st, a, "rm -rf /opt/cni/bin")


@pytest.mark.lab
def test_storage_nic_mtu_9000(st: LabState) -> None:
    for n in st.nodes:
        links = {link["ifname"]: link for link in json.loads(sh(st, n.name, "ip -j link").stdout)}
        assert links[n.storage_nic]["mtu"] == 9000
        assert "UP" in links[n.storage_nic]["flags"]
        assert set(links) == {"lo", "mgmt0", n.storage_nic}
        assert sh(st, n.name, f"cat /sys/class/net/{n.storage_nic}/mtu").stdout.strip() == "9000"


@pytest.mark.lab
def test_multicall_answers_as_bridge_via_symlink(st: LabState) -> None:
    n = st.nodes[0].name
    out = sh(st, n, "CNI_COMMAND=VERSION /var/lib/rancher/k3s/data/cni/bridge </dev/null").stdout
    assert "supportedVersions" in json.loads(out)
    r = sh(st, n, "CNI_COMMAND=VERSION /var/lib/rancher/k3s/data/cni/cni </dev/null")
    assert r.stdout == "" and r.stderr.startswith("CNI plugins ") and "CNI protocol versions supported" in r.stderr
    target = sh(st, n, "readlink /var/lib/rancher/k3s/data/cni/bridge").stdout.strip()
    current = sh(st, n, "readlink /var/lib/rancher/k3s/data/current").stdout.strip()
    assert target == f"{current}/bin/cni" and target.startswith("/var/lib/rancher/k3s/data/")
    assert sh(st, n, "ls /etc/cni").stdout.strip() == ""
    conf = json.loads(sh(st, n, "cat /var/lib/rancher/k3s/agent/etc/cni/net.d/10-flannel.conflist").stdout)
    assert conf["name"] == "cbr0" and conf["cniVersion"] == "1.0.0"
    assert "FLANNEL_SUBNET=" in sh(st, n, "cat /run/flannel/subnet.env").stdout


@pytest.mark.lab
def test_storage_segment_reaches_nas_with_jumbo_frames(st: LabState) -> None:
    for n in st.nodes:
        with connect(st, n.name) as c:
            c.put(io.StringIO(PING), "/tmp/ping.py")
            out = c.run(f"python3 /tmp/ping.py {st.static_addresses[0]} 8972", hide=True, timeout=10, in_stream=False).stdout
        assert out.split() == ["reply", st.static_addresses[0], "8972"]


@pytest.mark.lab
def test_pod_netns_created_on_node_is_visible_on_host(st: LabState) -> None:
    n = st.nodes[0]
    name = f"{st.prefix}{n.name}-probe"
    sh(st, n.name, f"ip netns add {name}")
    try:
        assert netns.netns_exists(name)
    finally:
        sh(st, n.name, f"ip netns delete {name}")
    assert not netns.netns_exists(name)


@pytest.mark.lab
def test_artifact_served_with_release_style_sha256(st: LabState) -> None:
    assert st.artifacts is not None
    base = f"http://{st.artifacts.address}:{st.artifacts.port}/cni-plugins-linux-amd64-v1.6.2.tgz"
    with urllib.request.urlopen(base, timeout=10) as r:  # noqa: S310
        blob = r.read()
    line = sh(st, st.nodes[-1].name, f"curl -fsS {base}.sha256").stdout
    assert line == f"{hashlib.sha256(blob).hexdigest()}  cni-plugins-linux-amd64-v1.6.2.tgz\n"
    names = tarfile.open(fileobj=io.BytesIO(blob)).getnames()
    assert "./bridge" in names and "./macvlan" in names and all(x.startswith("./") for x in names if x != ".")


@pytest.mark.lab
def test_status_json_and_api_nodes(lab: Lab, st: LabState) -> None:
    out = subprocess.run([sys.executable, "-m", "runbooklib", "lab", "status", "--json", "--params", str(lab.params.source_path)],  # noqa: S603
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    status = json.loads(out)
    assert status["healthy"] and status["api"]["answering"] and status["artifacts"]["answering"]
    for n in status["nodes"]:
        assert {"name", "namespace", "mgmt_address", "ssh_user", "key_file", "known_hosts", "kubeconfig"} <= set(n)
        assert n["sshd"]["answering"]
    from kubernetes import client, config
    api = client.CoreV1Api(config.new_client_from_config(config_file=st.kubeconfig))
    assert sorted(x.metadata.name for x in api.list_node().items) == sorted(n.name for n in st.nodes)


@pytest.mark.lab
def test_second_up_changes_nothing(lab: Lab, st: LabState) -> None:
    before = {n.name: procs.read_pid(n.sshd_pid_file) for n in st.nodes}
    mtime = lab.paths.state_file.stat().st_mtime_ns
    assert lab.up() is False
    assert before == {n.name: procs.read_pid(n.sshd_pid_file) for n in st.nodes}
    assert lab.paths.state_file.stat().st_mtime_ns == mtime


# ---------------------------------------------------------------- lifecycle: its own lab


def _leftovers(lab: Lab) -> list[str]:
    found = lab.leftovers()
    tag = str(lab.paths.state_dir)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if tag in Path(f"/proc/{pid}/mountinfo").read_text():
                    found.append(f"mount seen by pid {pid}")
            except OSError:
                pass
    return found


@pytest.mark.lab
def test_killed_up_recovers_and_down_leaves_nothing(tmp_path: Path, make_params: Callable[..., Path]) -> None:
    pfile = make_params(tmp_path, "k", n_nodes=2)
    lab = Lab.from_params(load_params(pfile, require_files=False))
    try:
        proc = subprocess.Popen([sys.executable, "-m", "runbooklib", "lab", "up", "--params", str(pfile)], cwd=ROOT,  # noqa: S603
                                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        assert proc.stderr is not None
        for line in proc.stderr:
            if "sshd listening" in line:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, "up finished before it could be killed"
        assert lab.health(), "a killed up must not look healthy"

        assert lab.up() is True                                   # recovers: cleans up, rebuilds
        assert lab.health() == []
        st = LabState.load(lab.paths.state_dir)
        assert sh(st, st.nodes[1].name, "hostname").stdout.strip() == st.nodes[1].name
        sh(st, st.nodes[0].name, "sleep 300 >/dev/null 2>&1 &")  # a stray process in a node
        time.sleep(0.2)
    finally:
        lab.down()
    assert _leftovers(lab) == []
    assert not lab.paths.state_dir.exists()
    assert lab.down() == []                                       # idempotent
