"""Thread-safe, optionally persistent object store with Kubernetes object semantics.

:class:`ObjectStore` keeps every object of every resource type in memory and, when
given a ``state_dir``, mirrors each one to ``<state_dir>/objects/<group>/<plural>/
<namespace or _cluster>/<name>.json`` with atomic writes (temp file + rename), so a
restarted API keeps its objects. The ``resourceVersion`` counter lives in
``<state_dir>/resourceVersion`` and never goes backwards across restarts.

Semantics: ``create`` fills uid / resourceVersion / generation / creationTimestamp,
resolves ``generateName`` and answers 409 AlreadyExists; ``update`` answers 409
Conflict on a stale ``resourceVersion``, keeps ``status`` (or, for the ``status``
subresource, everything but ``status``), bumps ``generation`` on spec changes and is
a no-op when nothing changed; ``delete`` cascades to namespaced objects of a deleted
Namespace, custom objects of a deleted CRD and objects whose ``ownerReferences``
point at the deleted object.

In-process users (lab controllers) call ``get/list/create/update/modify/delete``
directly and ``subscribe(fn)`` to be called as ``fn(verb, resource_type, obj)``
(verb ``create``/``update``/``delete``) after each change, outside the store lock.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import os
import random
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from . import resources as r
from .errors import ApiError
from .selectors import Requirement, matches_fields, matches_labels, parse_field_selector, parse_label_selector

Obj = dict[str, Any]
Listener = Callable[[str, r.ResourceType, Obj], None]
log = logging.getLogger(__name__)
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(n: int = 5) -> str:
    return "".join(random.choice(_NAME_CHARS) for _ in range(n))


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _without_rv(obj: Obj) -> Obj:
    out = dict(obj)
    out["metadata"] = {k: v for k, v in obj.get("metadata", {}).items() if k != "resourceVersion"}
    return out


def _spec_part(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


class ObjectStore:
    """All objects of the lab API; see the module docstring."""

    def __init__(self, state_dir: Path | None = None) -> None:
        self._lock = threading.RLock()
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {}
        self._listeners: list[Listener] = []
        self._dir = Path(state_dir) / "objects" if state_dir else None
        self._rv_file = Path(state_dir) / "resourceVersion" if state_dir else None
        self._rv = 0
        self._load()

    # -- persistence ---------------------------------------------------------------------------
    def _path(self, key: str, namespace: str, name: str) -> Path | None:
        if self._dir is None:
            return None
        return self._dir / key / (namespace or "_cluster") / f"{quote(name, safe='')}.json"

    def _load(self) -> None:
        if self._dir is None or self._rv_file is None:
            return
        if self._rv_file.exists():
            self._rv = int(self._rv_file.read_text().strip() or 0)
        for path in sorted(self._dir.glob("*/*/*/*.json")):
            obj = json.loads(path.read_text())
            key = f"{path.parts[-4]}/{path.parts[-3]}"
            ns = "" if path.parts[-2] == "_cluster" else path.parts[-2]
            self._objects.setdefault(key, {})[(ns, unquote(path.stem))] = obj
            self._rv = max(self._rv, int(obj.get("metadata", {}).get("resourceVersion", 0)))

    def _persist(self, key: str, namespace: str, name: str, obj: Obj | None) -> None:
        path = self._path(key, namespace, name)
        if path is None or self._rv_file is None:
            return
        if obj is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write(path, json.dumps(obj, indent=1, sort_keys=True))
        atomic_write(self._rv_file, str(self._rv))

    # -- listeners -----------------------------------------------------------------------------
    def subscribe(self, fn: Listener) -> None:
        """Call ``fn(verb, resource_type, obj)`` after every create/update/delete."""
        self._listeners.append(fn)

    def unsubscribe(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _notify(self, verb: str, rt: r.ResourceType, obj: Obj) -> None:
        for fn in list(self._listeners):
            try:
                fn(verb, rt, copy.deepcopy(obj))
            except Exception:  # a broken subscriber must not break the API
                log.exception("store subscriber %r failed on %s %s", fn, verb, rt.plural)

    # -- reads ---------------------------------------------------------------------------------
    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def _ns(self, rt: r.ResourceType, namespace: str | None) -> str:
        return (namespace or "default") if rt.namespaced else ""

    def try_get(self, rt: r.ResourceType, namespace: str | None, name: str) -> Obj | None:
        with self._lock:
            obj = self._objects.get(rt.key, {}).get((self._ns(rt, namespace), name))
            return copy.deepcopy(obj) if obj is not None else None

    def get(self, rt: r.ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self.try_get(rt, namespace, name)
        if obj is None:
            raise ApiError.not_found(rt.plural, name, rt.group)
        return obj

    def list(self, rt: r.ResourceType, namespace: str | None = None,
             label_selector: str | list[Requirement] | None = None, field_selector: str | None = None) -> list[Obj]:
        """Objects of ``rt`` (all namespaces when ``namespace`` is None), sorted by namespace/name."""
        labels = parse_label_selector(label_selector) if not isinstance(label_selector, list) else label_selector
        fields = parse_field_selector(field_selector)
        with self._lock:
            items = sorted(self._objects.get(rt.key, {}).items())
            return [copy.deepcopy(o) for (ns, _), o in items
                    if (namespace is None or not rt.namespaced or ns == namespace)
                    and matches_labels(o, labels) and matches_fields(o, fields)]

    # -- writes --------------------------------------------------------------------------------
    def _bump(self) -> str:
        self._rv += 1
        return str(self._rv)

    def create(self, rt: r.ResourceType, obj: Obj, namespace: str | None = None) -> Obj:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            namespace = namespace or meta.get("namespace") or "default"
            if meta.get("namespace") not in (None, "", namespace):
                raise ApiError.bad_request("the namespace of the provided object does not match the namespace "
                                           "sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        ns = meta.get("namespace", "")
        with self._lock:
            if rt.namespaced and ("", ns) not in self._objects.get(r.NAMESPACES.key, {}):
                raise ApiError(404, "NotFound", f'namespaces "{ns}" not found',
                               {"name": ns, "kind": "namespaces"})
            bucket = self._objects.setdefault(rt.key, {})
            if not meta.get("name"):
                if not meta.get("generateName"):
                    raise ApiError(422, "Invalid", f"{rt.kind}.{rt.group or 'core'} is invalid: metadata.name: "
                                                   "Required value: name or generateName is required")
                meta["name"] = meta["generateName"] + random_suffix()
                while (ns, meta["name"]) in bucket:
                    meta["name"] = meta["generateName"] + random_suffix()
            name = meta["name"]
            if (ns, name) in bucket:
                raise ApiError(409, "AlreadyExists", f'{rt.plural}{"." + rt.group if rt.group else ""} "{name}" '
                               "already exists", {"name": name, "group": rt.group, "kind": rt.plural})
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            meta.update(uid=str(uuid.uuid4()), resourceVersion=self._bump(), generation=1,
                        creationTimestamp=now_iso())
            for k in ("deletionTimestamp", "selfLink"):
                meta.pop(k, None)
            _defaults(rt, obj)
            bucket[(ns, name)] = obj
            self._persist(rt.key, ns, name, obj)
            result = copy.deepcopy(obj)
        self._notify("create", rt, result)
        return result

    def update(self, rt: r.ResourceType, obj: Obj, *, subresource: str | None = None,
               namespace: str | None = None) -> Obj:
        """Replace an object (PUT); a non-empty, stale ``metadata.resourceVersion`` gives 409."""
        with self._lock:
            result, changed = self._update_locked(rt, obj, subresource, namespace)
        if changed:
            self._notify("update", rt, result)
        return result

    def modify(self, rt: r.ResourceType, namespace: str | None, name: str, fn: Callable[[Obj], Obj],
               *, subresource: str | None = None) -> Obj:
        """Atomically read, transform with ``fn`` and update (used for PATCH and by controllers)."""
        with self._lock:
            current = self.get(rt, namespace, name)
            new = fn(copy.deepcopy(current))
            meta = new.setdefault("metadata", {})
            if meta.get("resourceVersion") in (None, ""):
                meta["resourceVersion"] = current["metadata"]["resourceVersion"]
            result, changed = self._update_locked(rt, new, subresource, namespace)
        if changed:
            self._notify("update", rt, result)
        return result

    def _update_locked(self, rt: r.ResourceType, obj: Obj, subresource: str | None,
                       namespace: str | None) -> tuple[Obj, bool]:
        meta = obj.get("metadata", {})
        ns, name = self._ns(rt, namespace or meta.get("namespace")), meta.get("name", "")
        old = self._objects.get(rt.key, {}).get((ns, name))
        if old is None:
            raise ApiError.not_found(rt.plural, name, rt.group)
        rv = meta.get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {rt.plural} "{name}": the object '
                           "has been modified; please apply your changes to the latest version and try again",
                           {"name": name, "group": rt.group, "kind": rt.plural})
        if subresource == "status":
            new = copy.deepcopy(old)
            new["status"] = copy.deepcopy(obj.get("status", {}))
        else:
            new = copy.deepcopy(obj)
            if "status" in rt.subresources:
                new.pop("status", None)
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
        new["apiVersion"], new["kind"] = rt.api_version, rt.kind
        nmeta = new.setdefault("metadata", {})
        for k in ("uid", "creationTimestamp", "name", "namespace", "generation", "resourceVersion"):
            if k in old["metadata"]:
                nmeta[k] = old["metadata"][k]
            else:
                nmeta.pop(k, None)
        if _without_rv(new) == _without_rv(old):
            return copy.deepcopy(old), False
        if _spec_part(new) != _spec_part(old):
            nmeta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        nmeta["resourceVersion"] = self._bump()
        self._objects[rt.key][(ns, name)] = new
        self._persist(rt.key, ns, name, new)
        return copy.deepcopy(new), True

    def delete(self, rt: r.ResourceType, namespace: str | None, name: str) -> Obj:
        """Delete an object and cascade to its dependents; returns the deleted object."""
        ns = self._ns(rt, namespace)
        with self._lock:
            obj = self._objects.get(rt.key, {}).pop((ns, name), None)
            if obj is None:
                raise ApiError.not_found(rt.plural, name, rt.group)
            obj["metadata"]["deletionTimestamp"] = now_iso()
            self._bump()
            self._persist(rt.key, ns, name, None)
            dependents = self._dependents(rt, obj)
        self._notify("delete", rt, obj)
        for key, (dns, dname) in dependents:
            dtype = self._type_for_key(key)
            if dtype is not None and self.try_get(dtype, dns or None, dname) is not None:
                self.delete(dtype, dns or None, dname)
        return obj

    def _dependents(self, rt: r.ResourceType, obj: Obj) -> list[tuple[str, tuple[str, str]]]:
        out: list[tuple[str, tuple[str, str]]] = []
        uid = obj["metadata"].get("uid")
        crd_key = f"{obj.get('spec', {}).get('group')}/{obj.get('spec', {}).get('names', {}).get('plural')}"
        for key, bucket in self._objects.items():
            for (ns, name), child in bucket.items():
                refs = child.get("metadata", {}).get("ownerReferences") or []
                if (rt == r.NAMESPACES and ns == obj["metadata"]["name"]) or (rt == r.CRDS and key == crd_key) \
                        or any(ref.get("uid") == uid for ref in refs):
                    out.append((key, (ns, name)))
        return out

    def _type_for_key(self, key: str) -> r.ResourceType | None:
        for rt in r.BUILTIN:
            if rt.key == key:
                return rt
        for crd in self._objects.get(r.CRDS.key, {}).values():
            for rt in r.from_crd(crd):
                if rt.key == key:
                    return rt
        return None

    def all_of(self, key: str) -> list[Obj]:
        with self._lock:
            return [copy.deepcopy(o) for o in self._objects.get(key, {}).values()]


def _defaults(rt: r.ResourceType, obj: Obj) -> None:
    """Server-side defaults the real API server (or its controllers) would set at create time."""
    if rt == r.CRDS:
        spec = obj.get("spec", {})
        obj["status"] = {
            "acceptedNames": spec.get("names", {}),
            "conditions": [{"type": t, "status": "True", "reason": r_, "message": m,
                            "lastTransitionTime": now_iso()}
                           for t, r_, m in (("NamesAccepted", "NoConflicts", "no conflicts found"),
                                            ("Established", "InitialNamesAccepted", "the initial names have been "
                                                                                    "accepted"))],
            "storedVersions": [v["name"] for v in spec.get("versions", []) if v.get("storage")],
        }
    elif rt == r.NAMESPACES:
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj["status"] = {"phase": "Active"}
    elif rt == r.PODS:
        obj.setdefault("status", {}).setdefault("phase", "Pending")
