"""Small helpers over parsed manifest documents (plain dicts from YAML)."""

from __future__ import annotations

from typing import Any

import yaml

Doc = dict[str, Any]


def load_docs(text: str) -> list[Doc]:
    """Every non-empty YAML document in `text`, in file order."""
    return [d for d in yaml.safe_load_all(text) if d]


def obj_ref(doc: Doc) -> str:
    """`Kind ns/name` (or `Kind name` for cluster-scoped objects)."""
    meta = doc.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{doc.get('kind')} {ns + '/' if ns else ''}{meta.get('name')}"


def find(docs: list[Doc], kind: str, name: str | None = None) -> Doc | None:
    for d in docs:
        if d.get("kind") == kind and (name is None or (d.get("metadata") or {}).get("name") == name):
            return d
    return None


def pod_spec(ds: Doc) -> Doc:
    return ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}


def volume(ds: Doc, name: str) -> Doc | None:
    for v in pod_spec(ds).get("volumes") or []:
        if v.get("name") == name:
            return v
    return None


def host_path(ds: Doc, volume_name: str) -> str | None:
    v = volume(ds, volume_name)
    return ((v or {}).get("hostPath") or {}).get("path")


def containers(ds: Doc, *, init: bool = False) -> list[Doc]:
    return list(pod_spec(ds).get("initContainers" if init else "containers") or [])


def container(ds: Doc, name: str | None = None, *, init: bool = False) -> Doc | None:
    cs = containers(ds, init=init)
    if name is None:
        return cs[0] if cs else None
    return next((c for c in cs if c.get("name") == name), None)


def mount_path(c: Doc | None, volume_name: str) -> str | None:
    for m in (c or {}).get("volumeMounts") or []:
        if m.get("name") == volume_name:
            return m.get("mountPath")
    return None


def env_value(c: Doc | None, name: str) -> str | None:
    for e in (c or {}).get("env") or []:
        if e.get("name") == name:
            return e.get("value")
    return None


def hostpath_volume_for(ds: Doc, host: str) -> str | None:
    """Name of the hostPath volume whose path is `host` (trailing slashes ignored)."""
    want = host.rstrip("/") or "/"
    for v in pod_spec(ds).get("volumes") or []:
        p = (v.get("hostPath") or {}).get("path")
        if p is not None and (p.rstrip("/") or "/") == want:
            return v.get("name")
    return None


def norm(path: str | None) -> str | None:
    """Path without trailing slash (`/` stays `/`)."""
    if path is None:
        return None
    return path.rstrip("/") or "/"
