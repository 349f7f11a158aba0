"""NAD building/rendering from params, reading from objects and YAML; strict JSON with Go texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from runbooklib.nad import (
    build_nad,
    documents_from_params,
    documents_from_yaml,
    go_syntax_error,
    nad_config,
    parse_strict,
    render_nad_yaml,
    repair_json,
    validate_documents,
)
from runbooklib.params import load_params

HOMELAB = Path(__file__).resolve().parents[2] / "params" / "homelab.yaml"


@pytest.fixture
def params():  # type: ignore[no-untyped-def]
    return load_params(HOMELAB, require_files=False)


def test_config_is_the_reference_runbooks(params) -> None:  # type: ignore[no-untyped-def]
    config = nad_config(params.nads[0])
    assert list(config) == ["cniVersion", "type", "master", "mode", "mtu", "ipam"]
    assert config == {"cniVersion": "0.3.1", "type": "macvlan", "master": "ens2", "mode": "bridge", "mtu": 9000,
                      "ipam": {"type": "whereabouts", "range": "192.168.205.0/24", "range_start": "192.168.205.240",
                               "range_end": "192.168.205.254"}}


def test_optional_ipam_keys_only_when_set(params) -> None:  # type: ignore[no-untyped-def]
    nad = params.nads[0].model_copy(deep=True)
    nad.ipam.exclude = ["192.168.205.250/32"]
    nad.ipam.enable_overlapping_ranges = False
    nad.ipam.network_name = "storage"
    nad.mtu = None
    config = nad_config(nad)
    assert "mtu" not in config
    assert config["ipam"]["exclude"] == ["192.168.205.250/32"]
    assert config["ipam"]["enable_overlapping_ranges"] is False
    assert config["ipam"]["network_name"] == "storage"


def test_object_and_yaml_round_trip(params, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    obj = build_nad(params.nads[0])
    assert obj["apiVersion"] == "k8s.cni.cncf.io/v1" and obj["kind"] == "NetworkAttachmentDefinition"
    assert obj["metadata"] == {"name": "storage-205", "namespace": "longhorn-system"}
    text = render_nad_yaml(obj)
    assert "config: |" in text
    assert yaml.safe_load(text) == obj
    f = tmp_path / "nads.yaml"
    f.write_text(text + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    [d] = documents_from_yaml(f)
    assert d.ref == "longhorn-system/storage-205" and json.loads(d.config_raw) == nad_config(params.nads[0])
    assert d == documents_from_params(params)[0].__class__(d.namespace, d.name, d.config_raw, d.origin)
    assert validate_documents([d]).problems == []


def test_yaml_nad_with_broken_config_is_reported(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata: {name: a, namespace: b}\n"
                 "spec:\n  config: '{\"cniVersion\": \"0.3.1\" \"type\": \"macvlan\"}'\n")
    [d] = documents_from_yaml(f)
    [fail] = validate_documents([d]).problems
    assert "invalid character '\"' after object key:value pair" in fail.detail
    assert json.loads(fail.evidence["right_value"]) == {"cniVersion": "0.3.1", "type": "macvlan"}


@pytest.mark.parametrize("text,message", [
    ('{"a": 1,}', "invalid character '}' looking for beginning of object key string"),
    ('{"a" 1}', "invalid character '1' after object key"),
    ('[1 2]', "invalid character '2' after array element"),
    ('{"a": tru}', "invalid character '}' in literal true (expecting 'e')"),
    ('{"a": 01}', "invalid character '1' after object key:value pair"),
    ("{'a': 1}", "invalid character '\\'' looking for beginning of object key string"),
    ('{"a": 1', "unexpected end of JSON input"),
    ('{"a": 1} x', "invalid character 'x' after top-level value"),
    ('{"a": NaN}', "invalid character 'N' looking for beginning of value"),
])
def test_go_error_texts(text: str, message: str) -> None:
    problem = go_syntax_error(text)
    assert problem is not None and problem.message == message
    assert parse_strict(text)[1] is not None


@pytest.mark.parametrize("text", ['{}', '[]', '{"a": [1, 2.5e3, -0, true, null, "x\\u00e9"]}', ' {"a": {}} '])
def test_valid_json_passes(text: str) -> None:
    assert go_syntax_error(text) is None
    assert parse_strict(text)[0] == json.loads(text)


def test_repair_cases() -> None:
    assert repair_json('{"a": [1, 2,], }') == {"a": [1, 2]}
    assert repair_json('[{"a": 1]') == [{"a": 1}]
    assert repair_json("{'a': 'b'}") == {"a": "b"}
    assert repair_json('{"a": 1 "b": 2}') == {"a": 1, "b": 2}
    assert repair_json('{"a": "unterminated') is None
