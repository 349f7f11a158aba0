#!/usr/bin/python3
"""Lab stand-in for k3s's multicall CNI binary (`data/<hash>/bin/cni`). Data, not a library module:
`k3sfs.seed_k3s` copies this file into each lab node with the @...@ placeholders filled in.

Like rancher/plugins' main_linux.go it dispatches on the base name of argv[0]: the names k3s
registers run the REAL containernetworking plugin binaries (Debian's, in /usr/lib/cni); `flannel`
runs the minimal flannel CNI plugin below (subnet.env -> bridge + host-local delegate, like
flannel-io/cni-plugin); any other name prints the version banner to stderr and exits.
"""

import json
import os
import sys

K3S_VERSION = "@K3S_VERSION@"
BUILD = "@BUILD@"
PLUGINS_VERSION = "v1.1.1-k3s-lab (Debian containernetworking-plugins binaries)"
REAL_PLUGIN_DIR = "/usr/lib/cni"
REGISTERED = ("bandwidth", "bridge", "firewall", "flannel", "host-local", "loopback", "portmap")
SUPPORTED = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"]
SUBNET_FILE = "/run/flannel/subnet.env"
DATA_DIR = "/var/lib/cni/flannel"


def _error(code: int, msg: str, details: str = "") -> None:
    json.dump({"cniVersion": "1.0.0", "code": code, "msg": msg, "details": details}, sys.stdout)
    sys.stdout.write("\n")
    sys.exit(1)


def _read_subnet_env(path: str) -> dict[str, str]:
    env: dict[str, str] = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                env[k] = v
    for key in ("FLANNEL_NETWORK", "FLANNEL_SUBNET"):
        if key not in env:
            raise ValueError(f"{path} is missing key {key}")
    return env


def _network_of(cidr: str) -> str:
    import ipaddress
    return str(ipaddress.ip_interface(cidr).network)


def _find_plugin(name: str) -> str:
    for d in os.environ.get("CNI_PATH", "").split(":"):
        if d and os.path.isfile(os.path.join(d, name)) and os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    _error(7, f'failed to find plugin "{name}" in path [{" ".join(os.environ.get("CNI_PATH", "").split(":"))}]')
    return ""


def _delegate(conf: dict, command: str) -> None:
    import subprocess
    plugin = _find_plugin(conf.get("type", ""))
    env = dict(os.environ, CNI_COMMAND=command)
    proc = subprocess.run([plugin], input=json.dumps(conf).encode(), env=env, capture_output=True)  # noqa: S603
    sys.stdout.buffer.write(proc.stdout)
    sys.stderr.buffer.write(proc.stderr)
    if proc.returncode != 0:
        sys.exit(proc.returncode)


def flannel_main() -> None:
    command = os.environ.get("CNI_COMMAND", "")
    if command == "VERSION":
        print(json.dumps({"cniVersion": "1.0.0", "supportedVersions": SUPPORTED}, separators=(",", ":")))
        return
    if not command:
        sys.stderr.write(f"CNI flannel plugin {PLUGINS_VERSION}\nCNI protocol versions supported: {', '.join(SUPPORTED)}\n")
        return
    for var in ("CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH") + (("CNI_NETNS",) if command != "DEL" else ()):
        if var not in os.environ:
            _error(4, f"required env variables [{var}] missing")
    try:
        n = json.loads(sys.stdin.read() or "{}")
    except ValueError as e:
        _error(6, "error unmarshaling network config", str(e))
    data_dir = n.get("dataDir", DATA_DIR)
    saved = os.path.join(data_dir, os.environ["CNI_CONTAINERID"])
    if command == "ADD":
        try:
            fenv = _read_subnet_env(n.get("subnetFile", SUBNET_FILE))
        except (OSError, ValueError) as e:
            _error(11, "failed to load flannel 'subnet.env' file", str(e))
        d = dict(n.get("delegate") or {})
        d.setdefault("name", n.get("name", ""))
        d.setdefault("type", "bridge")
        d.setdefault("ipMasq", fenv.get("FLANNEL_IPMASQ", "false") != "true")
        if "FLANNEL_MTU" in fenv:
            d.setdefault("mtu", int(fenv["FLANNEL_MTU"]))
        if d["type"] == "bridge":
            d.setdefault("isGateway", True)
        if n.get("cniVersion"):
            d["cniVersion"] = n["cniVersion"]
        if n.get("runtimeConfig"):
            d["runtimeConfig"] = n["runtimeConfig"]
        d["ipam"] = {"type": "host-local", "ranges": [[{"subnet": _network_of(fenv["FLANNEL_SUBNET"])}]],
                     "routes": [{"dst": net} for net in fenv["FLANNEL_NETWORK"].split(",")]}
        os.makedirs(data_dir, exist_ok=True)
        with open(saved, "w") as f:
            json.dump(d, f)
        _delegate(d, "ADD")
        return
    try:
        with open(saved) as f:
            d = json.load(f)
    except FileNotFoundError:
        if command == "DEL":
            return
        _error(3, f"no saved delegate config for container {os.environ['CNI_CONTAINERID']}")
    _delegate(d, command)
    if command == "DEL":
        os.unlink(saved)


def main() -> None:
    name = os.path.basename(sys.argv[0])
    if name == "flannel":
        flannel_main()
    elif name in REGISTERED:
        real = os.path.join(REAL_PLUGIN_DIR, name)
        os.execv(real, [real] + sys.argv[1:])  # noqa: S606
    else:
        sys.stderr.write(f"CNI plugins {PLUGINS_VERSION} (k3s {K3S_VERSION}, build {BUILD})\n"
                         f"CNI protocol versions supported: {', '.join(SUPPORTED)}\n")


if __name__ == "__main__":
    main()
