"""Pod networking on the lab (root): the install path, then a pod with the storage NAD gets `net1`
through the real chain (containerd role -> multus-shim -> Multus daemon -> real macvlan -> lab
whereabouts -> IPPool in the lab API); deleting it frees the address."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Iterator

import pytest
from podnet_lab import NAD, NAD_NS, LabSession, cleanup_stale_podnet_labs, make_session

pytestmark = pytest.mark.lab
POOL = "198.18.206.0-24"
RANGE = (ipaddress.ip_address("198.18.206.240"), ipaddress.ip_address("198.18.206.254"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    if os.geteuid() != 0:
        pytest.skip("lab test needs root")
    cleanup_stale_podnet_labs()
    s = make_session(tmp_path_factory.mktemp("podnet"), "net")
    try:
        yield s
    finally:
        s.down()


def test_default_network_before_multus(lab: LabSession) -> None:
    """No Multus yet: containerd picks 10-flannel.conflist; the lab flannel delegates to real bridge + host-local."""
    lab.create_pod("plain", node="kr1", networks=None, namespace="default")
    pod = lab.wait_pod("plain", namespace="default")
    subnet = ipaddress.ip_interface(lab.state.node("kr1").pod_subnet).network
    assert ipaddress.ip_address(pod.status.pod_ip) in subnet
    out = lab.exec("plain", ["ip", "-br", "addr"], namespace="default")
    assert "eth0" in out and "net1" not in out
    assert not (pod.metadata.annotations or {}).get("k8s.v1.cni.cncf.io/network-status")
    lab.delete_pod("plain", namespace="default")


def test_install_path(lab: LabSession) -> None:
    lab.install()
    conf = lab.node_sh("kr1", "cat /var/lib/rancher/k3s/agent/etc/cni/net.d/00-multus.conf; "
                              "stat -c %a /var/lib/rancher/k3s/agent/etc/cni/net.d/00-multus.conf")
    body, mode = conf.rsplit("}", 1)
    generated = json.loads(body + "}")
    assert generated["type"] == "multus-shim" and mode.strip() == "600"
    assert generated["clusterNetwork"] == "/host/etc/cni/net.d/10-flannel.conflist"
    wb = lab.node_sh("kr1", "cat /etc/cni/net.d/whereabouts.d/whereabouts.conf")
    assert json.loads(wb)["kubernetes"]["kubeconfig"] == "/etc/cni/net.d/whereabouts.d/whereabouts.kubeconfig"
    assert "multus daemon is listening" in lab.daemon_log("kr1")


def test_pod_gets_net1_in_range_with_mtu_9000(lab: LabSession) -> None:
    lab.create_pod("st-a", node="hp1")
    pod = lab.wait_pod("st-a")
    status = json.loads(pod.metadata.annotations["k8s.v1.cni.cncf.io/network-status"])
    assert [s["name"] for s in status] == ["cbr0", f"{NAD_NS}/{NAD}"]
    assert status[0]["interface"] == "eth0" and status[0]["default"] is True
    net1 = status[1]
    assert net1["interface"] == "net1" and net1["dns"] == {} and net1["mac"]
    ip = ipaddress.ip_address(net1["ips"][0])
    assert RANGE[0] <= ip <= RANGE[1]
    assert pod.status.pod_ip == status[0]["ips"][0]
    brief = lab.exec("st-a", ["ip", "-br", "addr"])
    assert any(line.startswith("net1") and f"{ip}/24" in line for line in brief.splitlines()), brief
    link = lab.exec("st-a", ["ip", "-o", "link", "show", "net1"])
    assert " mtu 9000 " in link, link
    offset = str(int(ip) - int(ipaddress.ip_address("198.18.206.0")))
    alloc = lab.allocations(POOL)[offset]
    assert alloc["podref"] == f"{NAD_NS}/st-a" and alloc["ifname"] == "net1" and len(alloc["id"]) == 64
    assert any(m.startswith(f"Add net1 [{ip}/24] from {NAD_NS}/{NAD}") for m in lab.events("st-a", reason="AddedInterface"))
    assert "ADD finished CNI request" in lab.daemon_log("hp1")


def test_second_pod_gets_next_address_and_delete_frees(lab: LabSession) -> None:
    lab.create_pod("st-b", node="kr2")
    pod = lab.wait_pod("st-b")
    ip_b = json.loads(pod.metadata.annotations["k8s.v1.cni.cncf.io/network-status"])[1]["ips"][0]
    before = lab.allocations(POOL)
    assert {a["podref"] for a in before.values()} >= {f"{NAD_NS}/st-a", f"{NAD_NS}/st-b"}
    lab.delete_pod("st-b")
    import time
    deadline = time.monotonic() + 20
    while any(a["podref"] == f"{NAD_NS}/st-b" for a in lab.allocations(POOL).values()):
        assert time.monotonic() < deadline, lab.allocations(POOL)
        time.sleep(0.2)
    assert ip_b not in lab.node_sh("kr2", "ip -br addr")


def test_missing_nad_and_bad_annotation(lab: LabSession) -> None:
    lab.create_pod("no-nad", node="kr1", networks="nope")
    lab.wait_pod("no-nad", error="cannot find a network-attachment-definition (nope) in namespace (longhorn-system)")
    lab.create_pod("bad-ann", node="kr1", networks='[ { "name": "storage-205" ]')
    lab.wait_pod("bad-ann", error="parsePodNetworkAnnotation: failed to parse pod Network Attachment Selection "
                                  "Annotation JSON format")
    for p in ("no-nad", "bad-ann"):
        lab.delete_pod(p)
