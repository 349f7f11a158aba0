"""Selectors, patches, URL routing and websocket framing as units."""

from __future__ import annotations

import io

import pytest

from runbooklib.lab.api import ApiError
from runbooklib.lab.api.patch import apply_patch, json_patch, merge_patch, strategic_merge
from runbooklib.lab.api.routing import parse_resource_path
from runbooklib.lab.api.selectors import matches_labels, parse_label_selector
from runbooklib.lab.api.websocket import accept_key, choose_protocol, encode_frame, read_frame


def test_label_selector_grammar() -> None:
    obj = {"metadata": {"labels": {"app": "multus", "tier": "node"}}}
    for sel, expected in (("app=multus", True), ("app==multus,tier", True), ("app!=multus", False),
                          ("app in (a, multus)", True), ("app notin (multus)", False), ("!tier", False),
                          ("missing!=x", True), ("", True), ("k8s.io/name notin (x)", True)):
        assert matches_labels(obj, parse_label_selector(sel)) is expected, sel
    for bad in ("app in ()", "app in (a", "a b", "=x", "app=bad value", "-bad=x"):
        with pytest.raises(ValueError):
            parse_label_selector(bad)


def test_merge_and_json_patch() -> None:
    doc = {"a": {"b": 1, "c": 2}, "l": [1, 2]}
    assert merge_patch(doc, {"a": {"b": None, "d": 3}, "l": [9]}) == {"a": {"c": 2, "d": 3}, "l": [9]}
    ops = [{"op": "add", "path": "/l/-", "value": 3}, {"op": "move", "from": "/a/b", "path": "/x"},
           {"op": "test", "path": "/x", "value": 1}, {"op": "copy", "from": "/x", "path": "/y"},
           {"op": "remove", "path": "/a/c"}, {"op": "replace", "path": "/l/0", "value": 0}]
    assert json_patch(doc, ops) == {"a": {}, "l": [0, 2, 3], "x": 1, "y": 1}
    assert doc == {"a": {"b": 1, "c": 2}, "l": [1, 2]}
    with pytest.raises(ApiError) as exc:
        json_patch(doc, [{"op": "test", "path": "/a/b", "value": 2}])
    assert exc.value.code == 422


def test_strategic_merge_by_name_and_directives() -> None:
    pod = {"spec": {"containers": [{"name": "a", "image": "1", "env": [{"name": "X", "value": "1"}]},
                                   {"name": "b", "image": "1"}], "volumes": [{"name": "v"}]}}
    out = strategic_merge(pod, {"spec": {
        "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
        "containers": [{"name": "a", "image": "2", "env": [{"name": "Y", "value": "2"}]},
                       {"name": "b", "$patch": "delete"}],
        "volumes": [{"name": "w"}]}})
    assert out["spec"]["containers"] == [{"name": "a", "image": "2", "env": [{"name": "X", "value": "1"},
                                                                            {"name": "Y", "value": "2"}]}]
    assert out["spec"]["volumes"] == [{"name": "v"}, {"name": "w"}]


def test_apply_patch_content_types() -> None:
    with pytest.raises(ApiError) as exc:
        apply_patch({}, [{"op": "add", "path": "/a", "value": 1}], "application/merge-patch+json")
    assert exc.value.code == 400
    with pytest.raises(ApiError) as exc:
        apply_patch({}, {}, "application/apply-patch+yaml")
    assert exc.value.code == 415
    assert apply_patch({"a": 1}, {"b": 2}, "application/strategic-merge-patch+json; charset=utf-8") == {"a": 1, "b": 2}


def test_routing() -> None:
    rp = parse_resource_path("/apis/apps/v1/namespaces/kube-system/daemonsets/x/status")
    assert rp is not None and (rp.group, rp.namespace, rp.plural, rp.name, rp.subresource) == \
        ("apps", "kube-system", "daemonsets", "x", "status")
    ns = parse_resource_path("/api/v1/namespaces/kube-system")
    assert ns is not None and (ns.namespace, ns.plural, ns.name) == (None, "namespaces", "kube-system")
    assert parse_resource_path("/api/v1/namespaces/x/status").subresource == "status"  # type: ignore[union-attr]
    assert parse_resource_path("/version") is None


def test_websocket_frames() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert choose_protocol("v4.channel.k8s.io, v5.channel.k8s.io") == "v5.channel.k8s.io"
    assert choose_protocol("channel.k8s.io") is None
    for size in (5, 300, 70000):
        payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        assert read_frame(io.BytesIO(encode_frame(payload))) == (2, payload)
    mask = b"\x01\x02\x03\x04"
    masked = bytes([0x82, 0x80 | 3]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(b"\x00hi"))
    assert read_frame(io.BytesIO(masked)) == (2, b"\x00hi")
