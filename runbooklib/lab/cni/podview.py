"""A DaemonSet pod's container as the applied manifest defines it: its hostPath mounts and configMaps.

`ContainerView.from_pod(pod, "kube-multus", configmaps)` gives the mounts (hostPath -> mountPath),
the configMap files, the env; `to_node(path)` maps a container path to the node path behind it
through the longest matching mountPath (used for what a container WRITES, e.g. the init container's
`cp` into `/host/opt/cni/bin`). Lookups that must follow symlinks inside the container are done in a
real private mount namespace built from the same mounts (nodeside/view.py).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
ConfigMapGetter = Callable[[str, str], Obj | None]


@dataclass
class ContainerView:
    container: str
    mounts: list[tuple[str, str]] = field(default_factory=list)       # (hostPath, mountPath)
    files: dict[str, str] = field(default_factory=dict)               # container path -> content
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)

    @classmethod
    def from_pod(cls, pod: Obj, container: str, configmaps: ConfigMapGetter | None = None) -> ContainerView:
        spec = pod.get("spec", {})
        ns = pod.get("metadata", {}).get("namespace", "default")
        volumes = {v.get("name"): v for v in spec.get("volumes") or []}
        c = next((x for x in (spec.get("initContainers") or []) + (spec.get("containers") or [])
                  if x.get("name") == container), None)
        if c is None:
            raise KeyError(f"no container {container!r} in pod {pod.get('metadata', {}).get('name')}")
        view = cls(container, env={e["name"]: str(e.get("value", "")) for e in c.get("env") or [] if "value" in e},
                   command=[str(x) for x in (c.get("command") or []) + (c.get("args") or [])])
        for m in c.get("volumeMounts") or []:
            vol = volumes.get(m.get("name")) or {}
            mp = posixpath.normpath(str(m.get("mountPath", "")))
            if "hostPath" in vol:
                view.mounts.append((posixpath.normpath(str(vol["hostPath"].get("path", ""))), mp))
            elif "configMap" in vol and configmaps is not None:
                cm = configmaps(ns, vol["configMap"].get("name", "")) or {}
                data = cm.get("data") or {}
                items = vol["configMap"].get("items") or [{"key": k, "path": k} for k in data]
                for it in items:
                    if it.get("key") in data:
                        view.files[posixpath.join(mp, it.get("path", it["key"]))] = str(data[it["key"]])
        return view

    def to_node(self, path: str) -> str | None:
        """The node path behind container path `path` (None if no hostPath mount covers it)."""
        p = posixpath.normpath(path)
        best: tuple[str, str] | None = None
        for host, mp in self.mounts:
            if (p == mp or p.startswith(mp.rstrip("/") + "/")) and (best is None or len(mp) > len(best[1])):
                best = (host, mp)
        if best is None:
            return None
        rest = p[len(best[1]):].lstrip("/")
        return posixpath.join(best[0], rest) if rest else best[0]

    def mount_specs(self) -> list[dict[str, str]]:
        return [{"host_path": h, "mount_path": m} for h, m in self.mounts]


def find_container(pod: Obj, predicate: Callable[[Obj], bool]) -> str | None:
    spec = pod.get("spec", {})
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        if predicate(c):
            return str(c.get("name"))
    return None


def command_text(c: Obj) -> str:
    return " ".join(str(x) for x in (c.get("command") or []) + (c.get("args") or []))


def is_multus_daemon(pod: Obj) -> bool:
    return find_container(pod, lambda c: "multus-daemon" in command_text(c)) is not None


def is_whereabouts(pod: Obj) -> bool:
    return find_container(pod, lambda c: "install-cni.sh" in command_text(c)) is not None
