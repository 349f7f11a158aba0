"""Break scenarios on the lab (root): for each, a pod with the storage NAD on the broken node fails
with the upstream error text (pod event, and the Multus daemon log where the daemon is involved);
after the matching repair the same pod starts (the lab kubelet retries sandbox creation)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from podnet_lab import LabSession, cleanup_stale_podnet_labs, make_session

from runbooklib.lab import scenarios

pytestmark = pytest.mark.lab
NODE = "kr2"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    if os.geteuid() != 0:
        pytest.skip("lab test needs root")
    cleanup_stale_podnet_labs()
    s = make_session(tmp_path_factory.mktemp("scen"), "scen")
    try:
        s.install()
        yield s
    finally:
        s.down()


def _restart_multus(lab: LabSession, node: str) -> None:
    import time
    old = lab.multus_pod(node).metadata.name
    lab.core.delete_namespaced_pod(old, "kube-system")
    deadline = time.monotonic() + 30
    while True:
        try:
            p = lab.multus_pod(node)
            if p.metadata.name != old and p.status.phase == "Running":
                return
        except StopIteration:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.2)


REPAIRS = {
    "opt-cni-bin-symlink": lambda lab: lab.node_prep([NODE]),
    "whereabouts-link-missing": lambda lab: lab.node_prep([NODE]),
    "multus-shim-dangling": lambda lab: _restart_multus(lab, NODE),
    "plugin-missing": lambda lab: lab.node_prep([NODE]),
    "mtu-lowered": lambda lab: scenarios.repair_node(lab.state, "mtu-lowered", NODE),
    "k3s-upgrade": lambda lab: lab.node_prep([NODE]),
}
IN_DAEMON_LOG = {"opt-cni-bin-symlink", "whereabouts-link-missing", "plugin-missing", "mtu-lowered"}


@pytest.mark.parametrize("name", list(REPAIRS))
def test_break_fails_with_upstream_text_then_repair(lab: LabSession, name: str) -> None:
    sc, node = scenarios.break_node(lab.state, name, NODE)
    pod = f"t-{name}"
    lab.create_pod(pod, node=node)
    lab.wait_pod(pod, error=sc.expect)
    msgs = [m for m in lab.events(pod, reason="FailedCreatePodSandBox") if sc.expect in m]
    assert msgs and msgs[0].startswith("Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup "
                                       "network for sandbox ")
    assert 'plugin type="multus-shim" name="multus-cni-network" failed (add): ' in msgs[0]
    if name in IN_DAEMON_LOG:
        assert sc.expect in lab.daemon_log(node)
    assert lab.core.read_namespaced_pod(pod, "longhorn-system").status.phase == "Pending"
    REPAIRS[name](lab)
    lab.wait_pod(pod, timeout=60)
    assert "net1" in lab.exec(pod, ["ip", "-br", "addr"])
    lab.delete_pod(pod)


def test_flannel_stale_then_node_prep_refreshes(lab: LabSession) -> None:
    sums = "sha256sum /opt/cni/bin/flannel /var/lib/rancher/k3s/data/current/bin/cni | cut -d' ' -f1"
    scenarios.break_node(lab.state, "flannel-stale", NODE)
    a, b = lab.node_sh(NODE, sums).split()
    assert a != b                                 # the copy is stale ...
    lab.create_pod("t-stale", node=NODE)
    lab.wait_pod("t-stale")                       # ... but a stale copy still runs (as on k3s, until it breaks)
    lab.node_prep([NODE])
    a, b = lab.node_sh(NODE, sums).split()
    assert a == b
    lab.delete_pod("t-stale")


def test_conf_dir_hostpath_left_at_etc_cni(lab: LabSession) -> None:
    """Multus DaemonSet with the `cni` hostPath left at /etc/cni/net.d: the daemon finds no primary conf."""
    import time

    from kubernetes import client as k8s
    ds = k8s.AppsV1Api(lab.client)
    obj = ds.read_namespaced_daemon_set("kube-multus-ds", "kube-system")
    vols = obj.spec.template.spec.volumes
    cni = next(v for v in vols if v.name == "cni")
    good = cni.host_path.path
    cni.host_path.path = "/etc/cni/net.d"
    ds.replace_namespaced_daemon_set("kube-multus-ds", "kube-system", obj)
    deadline = time.monotonic() + 30
    text = "could not find a plugin configuration in /host/etc/cni/net.d"
    while text not in lab.daemon_log(NODE):
        assert time.monotonic() < deadline, lab.daemon_log(NODE)
        time.sleep(0.3)
    assert lab.multus_pod(NODE).status.phase != "Running"
    obj = ds.read_namespaced_daemon_set("kube-multus-ds", "kube-system")
    next(v for v in obj.spec.template.spec.volumes if v.name == "cni").host_path.path = good
    ds.replace_namespaced_daemon_set("kube-multus-ds", "kube-system", obj)
    deadline = time.monotonic() + 30
    while not (lab.multus_pod(NODE).status.phase == "Running"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    lab.create_pod("t-after", node=NODE)
    lab.wait_pod("t-after")
    lab.delete_pod("t-after")
