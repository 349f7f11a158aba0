"""The lab's whereabouts executable against an in-process lab API (no root, no lab nodes)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from runbooklib.lab.api import LabApiServer
from runbooklib.lab.api import resources as r
from runbooklib.lab.cni import effects, pyz

UPSTREAM = Path(__file__).resolve().parents[2] / ".." / "shared" / "upstream"
CRDS = ("whereabouts.cni.cncf.io_ippools.yaml", "whereabouts.cni.cncf.io_overlappingrangeipreservations.yaml")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LabApiServer]:
    if not all((UPSTREAM / c).exists() for c in CRDS):
        pytest.skip("upstream CRDs not available")
    srv = LabApiServer(tmp_path / "api").start()
    for c in CRDS:
        srv.store.create(r.CRDS, yaml.safe_load((UPSTREAM / c).read_text()))
    yield srv
    srv.stop()


@pytest.fixture
def plugin(tmp_path: Path, api: LabApiServer) -> dict[str, str]:
    exe = tmp_path / "bin" / "whereabouts"
    exe.parent.mkdir()
    exe.write_bytes(pyz.build_bytes("test"))
    exe.chmod(0o755)
    wd = tmp_path / "whereabouts.d"
    wd.mkdir()
    (wd / "whereabouts.kubeconfig").write_text(effects.whereabouts_kubeconfig(api.url, "runbook-lab", "kube-system"))
    (wd / "whereabouts.conf").write_text(effects.whereabouts_conf(str(wd / "whereabouts.kubeconfig")))
    return {"exe": str(exe), "conf": str(wd / "whereabouts.conf")}


def call(plugin: dict[str, str], command: str, cid: str, pod: str, ipam: dict, ifname: str = "net1") -> tuple[int, dict]:
    conf = {"cniVersion": "0.3.1", "name": "storage-205", "type": "macvlan",
            "ipam": {"type": "whereabouts", "configuration_path": plugin["conf"], **ipam}}
    env = {"PATH": os.environ["PATH"], "CNI_COMMAND": command, "CNI_CONTAINERID": cid, "CNI_NETNS": "/run/netns/x",
           "CNI_IFNAME": ifname, "CNI_PATH": "/opt/cni/bin",
           "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE=longhorn-system;K8S_POD_NAME={pod}"}
    p = subprocess.run([plugin["exe"]], input=json.dumps(conf).encode(), env=env, capture_output=True, check=False)  # noqa: S603
    return p.returncode, json.loads(p.stdout or b"{}")


def pool(api: LabApiServer, name: str) -> dict:
    rt = next(t for crd in api.store.all_of(r.CRDS.key) for t in r.from_crd(crd) if t.plural == "ippools")
    return api.store.get(rt, "kube-system", name)


def test_allocate_in_range_then_free(api: LabApiServer, plugin: dict[str, str]) -> None:
    ipam = {"range": "198.18.206.0/24", "range_start": "198.18.206.253", "range_end": "198.18.206.254"}
    rc, out = call(plugin, "ADD", "c1", "a", ipam)
    assert rc == 0 and out["ips"] == [{"version": "4", "address": "198.18.206.253/24"}]
    rc, out = call(plugin, "ADD", "c2", "b", ipam)
    assert rc == 0 and out["ips"][0]["address"] == "198.18.206.254/24"
    allocs = pool(api, "198.18.206.0-24")["spec"]["allocations"]
    assert allocs == {"253": {"id": "c1", "podref": "longhorn-system/a", "ifname": "net1"},
                      "254": {"id": "c2", "podref": "longhorn-system/b", "ifname": "net1"}}
    rc, out = call(plugin, "ADD", "c3", "c", ipam)
    assert rc == 1 and out["msg"] == ("Could not allocate IP in range: ip: 198.18.206.253 / - 198.18.206.254 / "
                                      "range: 198.18.206.0/24 / excludeRanges: []")
    assert call(plugin, "DEL", "c1", "a", ipam)[0] == 0
    assert set(pool(api, "198.18.206.0-24")["spec"]["allocations"]) == {"254"}
    rc, out = call(plugin, "ADD", "c3", "c", ipam)
    assert rc == 0 and out["ips"][0]["address"] == "198.18.206.253/24"


def test_config_not_found(plugin: dict[str, str]) -> None:
    plugin = {**plugin, "conf": "/nonexistent/whereabouts.conf"}
    if any(os.path.exists(p) for p in ("/etc/kubernetes/cni/net.d/whereabouts.d/whereabouts.conf",
                                       "/etc/cni/net.d/whereabouts.d/whereabouts.conf",
                                       "/host/etc/cni/net.d/whereabouts.d/whereabouts.conf")):
        pytest.skip("this host has a whereabouts.conf in a default location")
    rc, out = call(plugin, "ADD", "c1", "a", {"range": "198.18.206.0/24"})
    assert rc == 1 and out["msg"] == "config file not found"


def test_kubeconfig_missing(tmp_path: Path, plugin: dict[str, str]) -> None:
    conf = tmp_path / "other.conf"
    conf.write_text(effects.whereabouts_conf("/etc/cni/net.d/whereabouts.d/does-not-exist.kubeconfig"))
    rc, out = call({**plugin, "conf": str(conf)}, "ADD", "c1", "a", {"range": "198.18.206.0/24"})
    assert rc == 1 and "stat /etc/cni/net.d/whereabouts.d/does-not-exist.kubeconfig: no such file or directory" in out["msg"]
