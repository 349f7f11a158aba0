"""containerd's CNI step for one pod sandbox, run INSIDE the node (its mount + network namespace).

Like containerd's CRI plugin with go-cni on k3s: the loopback network first (`loopback` from the
bin dir), then the FIRST config of the conf dir in sort order (libcni ConfFiles: `.conf`,
`.conflist`, `.json`; a `.conf` becomes a one-plugin list), each plugin looked up in the bin dir
(`/var/lib/rancher/k3s/data/cni`, the `bin_dir` k3s writes into containerd's config) and run with
`CNI_PATH` = that dir. Input (stdin JSON): command, container_id, netns, ifname, cni_args,
conf_dir, bin_dirs. Output (stdout JSON): {"result": ...} or {"error": ...}.
"""

from __future__ import annotations

import json
import os
import subprocess  # noqa: S404
import sys
from typing import Any

from runbooklib.lab.cni.nodeside.cniproto import CniArgs, CniError, as_conflist, conflist_add, conflist_del

CONF_DIR = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
BIN_DIR = "/var/lib/rancher/k3s/data/cni"
CONF_EXTENSIONS = (".conf", ".conflist", ".json")
LOOPBACK = {"cniVersion": "0.3.1", "name": "cni-loopback", "plugins": [{"type": "loopback"}]}


def conf_files(conf_dir: str) -> list[str]:
    try:
        names = sorted(os.listdir(conf_dir))
    except OSError:
        return []
    return [os.path.join(conf_dir, n) for n in names
            if n.endswith(CONF_EXTENSIONS) and os.path.isfile(os.path.join(conf_dir, n))]


def load_first(conf_dir: str) -> tuple[str, dict[str, Any]]:
    for path in conf_files(conf_dir):
        try:
            with open(path) as f:
                conf = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(conf, dict) and (conf.get("type") or conf.get("plugins")):
            return path, as_conflist(conf)
    raise CniError("cni plugin not initialized")


def ensure_netns(path: str) -> None:
    if not os.path.exists(path):
        subprocess.run(["ip", "netns", "add", os.path.basename(path)], check=True,  # noqa: S603,S607
                       capture_output=True)


def run(req: dict[str, Any]) -> dict[str, Any]:
    command = req["command"]
    conf_dir = req.get("conf_dir") or CONF_DIR
    bin_dirs = list(req.get("bin_dirs") or [BIN_DIR])
    if command == "ADD":
        ensure_netns(req["netns"])
    conf_path, conflist = load_first(conf_dir)
    base = dict(container_id=req["container_id"], netns=req["netns"], path=bin_dirs, args=req.get("cni_args", ""))
    lo = CniArgs(command=command, ifname="lo", **base)
    main = CniArgs(command=command, ifname=req.get("ifname", "eth0"), **base)
    if command == "ADD":
        conflist_add(LOOPBACK, lo)
        result = conflist_add(conflist, main, runtime_config=req.get("runtime_config"))
        return {"result": result, "conf": conf_path, "network": conflist.get("name", "")}
    conflist_del(conflist, main)
    conflist_del(LOOPBACK, lo)
    return {"result": None, "conf": conf_path, "network": conflist.get("name", "")}


def main() -> int:
    req = json.loads(sys.stdin.read())
    try:
        out = run(req)
    except CniError as e:
        out = {"error": str(e)}
    except (OSError, subprocess.CalledProcessError) as e:
        out = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(out))
    return 0
