"""What the Multus and Whereabouts DaemonSet pods do to their node, as the APPLIED manifest says.

Each runs in the container's view on the node (hostPath volumes at their mountPaths, in a private
mount namespace), so a re-pointed or forgotten hostPath has the same effect as on a real node.
- Multus init container `install-multus-binary`: its `cp <image file> <dest>` commands (v4.2.2) or
  `install_multus -d <dir> -t thick` (v4.2.3+) copy the lab's `multus-shim` / `passthru`.
- Whereabouts container: `install-cni.sh` as in v0.9.1 script/lib.sh: `whereabouts.d/` with
  `whereabouts.kubeconfig` and `whereabouts.conf` under `$CNI_CONF_DIR` (default
  /host/etc/cni/net.d), the kubeconfig path written with its first `/host` removed, then
  `cp -f /whereabouts $CNI_BIN_DIR` (default /host/opt/cni/bin/).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from runbooklib.lab.cni import nodeexec
from runbooklib.lab.cni.podview import ContainerView, command_text, find_container

Obj = dict[str, object]
MULTUS_IMAGE_BIN = "/usr/src/multus-cni/bin"


def _cp_ops(script: str) -> list[dict[str, str]]:
    ops: list[dict[str, str]] = []
    for part in script.split("&&"):
        words = shlex.split(part.strip())
        if not words:
            continue
        if words[0] == "cp":
            args = [w for w in words[1:] if not w.startswith("-")]
            if len(args) == 2:
                ops.append({"op": "copy", "src": args[0], "dst": args[1]})
        elif words[0].endswith("install_multus"):
            d = words[words.index("-d") + 1] if "-d" in words else "/host/opt/cni/bin"
            t = words[words.index("-t") + 1] if "-t" in words else "thin"
            first = "multus-shim" if t == "thick" else "multus"
            for name in (first, "passthru"):
                ops.append({"op": "copy", "src": f"{MULTUS_IMAGE_BIN}/{name}", "dst": f"{d.rstrip('/')}/{name}"})
    return ops


def multus_init_ops(command: list[str]) -> list[dict[str, str]]:
    if len(command) >= 3 and command[0] in ("sh", "/bin/sh") and command[1] == "-c":
        return _cp_ops(command[2])
    return _cp_ops(" ".join(shlex.quote(c) for c in command))


def run_multus_init(h: nodeexec.NodeHandle, pod: dict, pyz: bytes) -> list[str]:
    """Run the Multus init container's copies; returns the node paths written (or raises)."""
    name = find_container(pod, lambda c: "multus-shim" in command_text(c) or "install_multus" in command_text(c))
    if name is None:
        return []
    v = ContainerView.from_pod(pod, name)
    ops = multus_init_ops(v.command)
    files = {f"{MULTUS_IMAGE_BIN}/{n}": pyz for n in ("multus-shim", "passthru", "multus")}
    results = nodeexec.view(h, v.mount_specs(), files, ops)
    errs = [f"cp: {op['src']} -> {op['dst']}: {r['error']}" for op, r in zip(ops, results, strict=True) if "error" in r]
    if errs:
        raise nodeexec.NodeExecError("; ".join(errs))
    return [str(v.to_node(op["dst"]) or op["dst"]) for op in ops]


def whereabouts_kubeconfig(server: str, token: str, namespace: str) -> str:
    """The installer's kubeconfig text (generateKubeConfig), with the lab API as the server."""
    return ("# Kubeconfig file for the Whereabouts CNI plugin.\n"
            "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n"
            f"    server: {server}\n    insecure-skip-tls-verify: true\n"
            f"users:\n- name: whereabouts\n  user:\n    token: \"{token}\"\n"
            "contexts:\n- name: whereabouts-context\n  context:\n    cluster: local\n    user: whereabouts\n"
            f"    namespace: {namespace}\ncurrent-context: whereabouts-context\n")


def whereabouts_conf(kubeconfig_literal: str, cron: str = "30 4 * * *") -> str:
    return json.dumps({"datastore": "kubernetes", "kubernetes": {"kubeconfig": kubeconfig_literal},
                       "reconciler_cron_expression": cron}, indent=2) + "\n"


def run_whereabouts_install(h: nodeexec.NodeHandle, pod: dict, pyz: bytes, server: str, token: str) -> list[str]:
    name = find_container(pod, lambda c: "install-cni.sh" in command_text(c))
    if name is None:
        return []
    v = ContainerView.from_pod(pod, name)
    conf_dir = v.env.get("CNI_CONF_DIR", "/host/etc/cni/net.d").rstrip("/")
    bin_dir = v.env.get("CNI_BIN_DIR", "/host/opt/cni/bin/")
    kubeconfig = f"{conf_dir}/whereabouts.d/whereabouts.kubeconfig"
    literal = kubeconfig.replace("/host", "", 1)
    namespace = str(pod.get("metadata", {}).get("namespace", "kube-system"))
    ops = [
        {"op": "mkdir", "path": f"{conf_dir}/whereabouts.d"},
        {"op": "write", "path": kubeconfig, "content": whereabouts_kubeconfig(server, token, namespace), "mode": 0o600},
        {"op": "write", "path": f"{conf_dir}/whereabouts.d/whereabouts.conf", "content": whereabouts_conf(literal),
         "mode": 0o600},
        {"op": "copy", "src": "/whereabouts", "dst": bin_dir},
    ]
    results = nodeexec.view(h, v.mount_specs(), {"/whereabouts": pyz}, ops)
    errs = [f"{op['op']} {op.get('path') or op.get('dst')}: {r['error']}"
            for op, r in zip(ops, results, strict=True) if "error" in r]
    if errs:
        raise nodeexec.NodeExecError("; ".join(errs))
    return [str(v.to_node(str(op.get("path") or op.get("dst")))) for op in ops]


def pyz_bytes(path: Path) -> bytes:
    return path.read_bytes()
