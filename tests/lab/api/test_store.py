"""ObjectStore semantics and persistence, in-process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from runbooklib.lab.api import ApiError, LabApiServer, ObjectStore, resources

CM = resources.CONFIGMAPS


def seeded(path: Path) -> ObjectStore:
    store = ObjectStore(path)
    store.create(resources.NAMESPACES, {"metadata": {"name": "default"}})
    return store


def test_restart_keeps_objects_and_resource_version(tmp_path: Path) -> None:
    store = seeded(tmp_path)
    store.create(CM, {"metadata": {"name": "system:odd/name"}, "data": {"a": "1"}}, "default")
    store.create(CM, {"metadata": {"name": "gone"}}, "default")
    store.delete(CM, "default", "gone")
    rv = int(store.resource_version)
    again = ObjectStore(tmp_path)
    assert again.get(CM, "default", "system:odd/name")["data"] == {"a": "1"}
    assert again.try_get(CM, "default", "gone") is None
    assert int(again.resource_version) == rv
    created = again.create(CM, {"metadata": {"name": "new"}}, "default")
    assert int(created["metadata"]["resourceVersion"]) > rv
    assert not list(tmp_path.rglob(".tmp-*"))


def test_update_semantics(tmp_path: Path) -> None:
    store = seeded(tmp_path)
    obj = store.create(resources.DAEMONSETS, {"metadata": {"name": "d"}, "spec": {"x": 1},
                                              "status": {"numberReady": 1}}, "default")
    same = store.update(resources.DAEMONSETS, obj)
    assert same["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]  # no-op update
    meta_only = store.update(resources.DAEMONSETS, {**obj, "metadata": {**obj["metadata"], "labels": {"a": "b"}}})
    assert meta_only["metadata"]["generation"] == 1
    spec = store.update(resources.DAEMONSETS, {**meta_only, "spec": {"x": 2}, "status": {"numberReady": 9}})
    assert spec["metadata"]["generation"] == 2 and spec["status"] == {"numberReady": 1}
    with pytest.raises(ApiError) as exc:
        store.update(resources.DAEMONSETS, obj)
    assert exc.value.code == 409 and exc.value.reason == "Conflict"
    st = store.update(resources.DAEMONSETS, {**spec, "spec": {"x": 3}, "status": {"numberReady": 5}},
                      subresource="status")
    assert st["spec"] == {"x": 2} and st["status"] == {"numberReady": 5}


def test_generate_name_and_errors(tmp_path: Path) -> None:
    store = seeded(tmp_path)
    a = store.create(CM, {"metadata": {"generateName": "x-"}}, "default")
    assert a["metadata"]["name"].startswith("x-") and len(a["metadata"]["name"]) == 7
    with pytest.raises(ApiError) as exc:
        store.create(CM, {"metadata": {}}, "default")
    assert exc.value.code == 422
    with pytest.raises(ApiError) as exc:
        store.create(CM, a, "default")
    assert exc.value.code == 409 and exc.value.reason == "AlreadyExists"
    with pytest.raises(ApiError) as exc:
        store.get(CM, "default", "nope")
    assert exc.value.code == 404 and exc.value.status()["message"] == 'configmaps "nope" not found'


def test_subscribers_and_threads(tmp_path: Path) -> None:
    api = LabApiServer(tmp_path, controllers=False)
    events: list[tuple[str, str, str]] = []
    api.on_change(lambda verb, rt, obj: events.append((verb, rt.kind, obj["metadata"]["name"])))

    def worker(i: int) -> None:
        for j in range(20):
            api.store.create(CM, {"metadata": {"name": f"c{i}-{j}"}}, "default")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(api.store.list(CM, "default")) == 100 and len(events) == 100
    rvs: list[Any] = [o["metadata"]["resourceVersion"] for o in api.store.list(CM, "default")]
    assert len(set(rvs)) == 100
    api.store.delete(CM, "default", "c0-0")
    assert events[-1] == ("delete", "ConfigMap", "c0-0")
