"""Multus logic of the lab (pure): daemon config, generated conf, annotation, NADs, network-status, view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from runbooklib.lab.cni import multus
from runbooklib.lab.cni.podview import ContainerView, is_multus_daemon, is_whereabouts

UPSTREAM = Path(__file__).resolve().parents[2] / ".." / "shared" / "upstream"


def test_generated_conf_and_missing_primary_logs() -> None:
    cfg = multus.daemon_config(json.dumps({"chrootDir": "/hostroot", "cniVersion": "0.3.1", "logLevel": "verbose",
                                           "logToStderr": True, "cniConfigDir": "/host/etc/cni/net.d",
                                           "multusAutoconfigDir": "/host/etc/cni/net.d", "multusConfigFile": "auto",
                                           "socketDir": "/host/run/multus/"}))
    assert cfg["binDir"] == "/opt/cni/bin"
    primary = {"name": "cbr0", "plugins": [{"type": "flannel"}, {"type": "portmap", "capabilities": {"portMappings": True}}]}
    conf = multus.generate_conf(cfg, "/host/etc/cni/net.d/10-flannel.conflist", primary)
    assert conf == {"capabilities": {"portMappings": True}, "cniVersion": "0.3.1", "logLevel": "verbose",
                    "logToStderr": True, "name": "multus-cni-network",
                    "clusterNetwork": "/host/etc/cni/net.d/10-flannel.conflist", "type": "multus-shim"}
    logs = multus.no_master_plugin_logs("/host/etc/cni/net.d")
    assert all("could not find a plugin configuration in /host/etc/cni/net.d" in line for line in logs)


def test_annotation_forms() -> None:
    sels = multus.parse_networks("storage-205, other/net-b@eth9", "longhorn-system")
    assert [(s.namespace, s.name, s.interface) for s in sels] == [("longhorn-system", "storage-205", ""),
                                                                  ("other", "net-b", "eth9")]
    sels = multus.parse_networks('[{"name":"storage-205","interface":"st0"}]', "default")
    assert (sels[0].namespace, sels[0].interface) == ("default", "st0")
    with pytest.raises(multus.MultusError, match="^parsePodNetworkAnnotation: failed to parse pod Network Attachment "
                                                 "Selection Annotation JSON format: "):
        multus.parse_networks('[ { "name": "runtimeconfig-def", "ips": [ "10.1.1.104/24" ] ]', "default")
    with pytest.raises(multus.MultusError, match="failed at '/'"):
        multus.parse_networks("a/b/c", "default")


def test_nad_delegate_and_errors() -> None:
    nad = {"spec": {"config": json.dumps({"cniVersion": "0.3.1", "type": "macvlan", "master": "ens2"})}}
    dl = multus.delegate_from_nad(nad, multus.Selection("storage-205", "longhorn-system"))
    assert dl["name"] == "storage-205" and dl["plugins"][0]["type"] == "macvlan" and dl["single"]
    with pytest.raises(multus.MultusError, match="failed to unmarshal Spec.Config: "):
        multus.delegate_from_nad({"spec": {"config": '{"type": "macvlan", }'}}, multus.Selection("x", "y"))
    assert multus.nad_not_found("storage-205", "longhorn-system") == (
        'cannot find a network-attachment-definition (storage-205) in namespace (longhorn-system): '
        'network-attachment-definitions.k8s.cni.cncf.io "storage-205" not found')


def test_network_status_shape() -> None:
    flannel = {"cniVersion": "1.0.0", "interfaces": [{"name": "cni0", "mac": "aa"}, {"name": "veth1", "mac": "bb"},
                                                    {"name": "eth0", "mac": "cc", "sandbox": "/run/netns/x"}],
               "ips": [{"address": "10.42.0.22/24", "gateway": "10.42.0.1", "interface": 2}],
               "routes": [{"dst": "10.42.0.0/16"}, {"dst": "0.0.0.0/0", "gw": "10.42.0.1"}]}
    mac = {"cniVersion": "0.3.1", "interfaces": [{"name": "net1", "mac": "dd", "sandbox": "/run/netns/x"}],
           "ips": [{"version": "4", "address": "198.18.205.240/24", "interface": 0}], "dns": {}}
    entries = [multus.status_entry("cbr0", "eth0", flannel, default=True),
               multus.status_entry("longhorn-system/storage-205", "net1", mac)]
    value = multus.network_status_value(entries)
    parsed = json.loads(value)
    assert parsed[0] == {"name": "cbr0", "interface": "eth0", "ips": ["10.42.0.22"], "mac": "cc", "default": True,
                         "dns": {}, "gateway": ["10.42.0.1"]}
    assert parsed[1] == {"name": "longhorn-system/storage-205", "interface": "net1", "ips": ["198.18.205.240"],
                         "mac": "dd", "dns": {}}
    assert value.startswith('[{\n    "name": "cbr0"') and '},{' in value


def test_container_view_from_upstream_manifest() -> None:
    path = UPSTREAM / "multus-daemonset-thick.yml"
    if not path.exists():
        pytest.skip("upstream manifest not available")
    ds = next(d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "DaemonSet")
    pod = {"metadata": {"namespace": "kube-system", "name": "kube-multus-ds-x"}, "spec": ds["spec"]["template"]["spec"]}
    assert is_multus_daemon(pod) and not is_whereabouts(pod)
    cm = {"data": {"daemon-config.json": '{"cniVersion": "0.3.1"}'}}
    v = ContainerView.from_pod(pod, "kube-multus", lambda ns, name: cm if name == "multus-daemon-config" else None)
    assert v.to_node("/host/etc/cni/net.d/00-multus.conf") == "/etc/cni/net.d/00-multus.conf"
    assert v.to_node("/opt/cni/bin/flannel") == "/opt/cni/bin/flannel"
    assert v.to_node("/host/run/multus/") == "/run/multus"
    assert v.to_node("/hostroot/var/lib/rancher") == "/var/lib/rancher"
    assert v.files == {"/etc/cni/net.d/multus.d/daemon-config.json": '{"cniVersion": "0.3.1"}'}
    init = ContainerView.from_pod(pod, "install-multus-binary")
    assert init.to_node("/host/opt/cni/bin/multus-shim") == "/opt/cni/bin/multus-shim"
