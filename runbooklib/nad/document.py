"""NetworkAttachmentDefinition objects: built from params, read from a cluster or a YAML file.

Whatever the origin, a NAD becomes a `NadDocument` (namespace, name, the raw `spec.config`
string, where it came from) so the same validator runs on params, files and live objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from runbooklib.errors import RunbookError
from runbooklib.params import NadParams, Params

NAD_GROUP = "k8s.cni.cncf.io"
NAD_VERSION = "v1"
NAD_PLURAL = "network-attachment-definitions"
NAD_KIND = "NetworkAttachmentDefinition"
NAD_API_VERSION = f"{NAD_GROUP}/{NAD_VERSION}"


@dataclass(frozen=True)
class NadDocument:
    """One NAD as text: `config_raw` is `spec.config` exactly as stored (may be broken JSON)."""

    namespace: str
    name: str
    config_raw: str
    origin: str = ""  # "params nads[0]", "cluster", "file x.yaml[1]"

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


def nad_config(nad: NadParams) -> dict[str, Any]:
    """The `spec.config` object of the reference runbook, key order included."""
    ipam: dict[str, Any] = {"type": nad.ipam.type, "range": nad.ipam.range}
    if nad.ipam.range_start:
        ipam["range_start"] = nad.ipam.range_start
    if nad.ipam.range_end:
        ipam["range_end"] = nad.ipam.range_end
    if nad.ipam.exclude:
        ipam["exclude"] = list(nad.ipam.exclude)
    if nad.ipam.network_name:
        ipam["network_name"] = nad.ipam.network_name
    if not nad.ipam.enable_overlapping_ranges:
        ipam["enable_overlapping_ranges"] = False
    if nad.ipam.configuration_path:
        ipam["configuration_path"] = nad.ipam.configuration_path
    config: dict[str, Any] = {"cniVersion": nad.cni_version, "type": nad.type, "master": nad.master, "mode": nad.mode}
    if nad.mtu is not None:
        config["mtu"] = nad.mtu
    config["ipam"] = ipam
    return config


def config_text(config: dict[str, Any]) -> str:
    return json.dumps(config, indent=2)


def build_nad(nad: NadParams) -> dict[str, Any]:
    """The NetworkAttachmentDefinition object for one NAD in the params."""
    return {
        "apiVersion": NAD_API_VERSION,
        "kind": NAD_KIND,
        "metadata": {"name": nad.name, "namespace": nad.namespace},
        "spec": {"config": config_text(nad_config(nad))},
    }


def build_nads(params: Params) -> list[dict[str, Any]]:
    return [build_nad(n) for n in params.nads]


class _LiteralDumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_LiteralDumper.add_representer(str, _str_presenter)


def render_nad_yaml(objects: dict[str, Any] | list[dict[str, Any]]) -> str:
    """YAML for reports and `kubectl apply -f`: `spec.config` as a literal block."""
    docs = objects if isinstance(objects, list) else [objects]
    return "---\n".join(yaml.dump(d, Dumper=_LiteralDumper, sort_keys=False) for d in docs)


def document_from_params(params: Params, index: int) -> NadDocument:
    nad = params.nads[index]
    return NadDocument(nad.namespace, nad.name, config_text(nad_config(nad)), origin=f"params nads[{index}]")


def documents_from_params(params: Params) -> list[NadDocument]:
    return [document_from_params(params, i) for i in range(len(params.nads))]


def document_from_object(obj: dict[str, Any], origin: str = "cluster") -> NadDocument:
    """A NAD object as the API or a YAML file gives it (dict form)."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    raw = spec.get("config", "")
    if not isinstance(raw, str):  # somebody wrote config as a YAML mapping: keep it visible
        raw = json.dumps(raw)
    return NadDocument(str(meta.get("namespace") or "default"), str(meta.get("name") or ""), raw, origin)


class NadFileError(RunbookError):
    """A NAD YAML file given by the user cannot be read or holds no NetworkAttachmentDefinition."""


def documents_from_yaml(path: str | Path) -> list[NadDocument]:
    """Every NetworkAttachmentDefinition in a (multi-document) YAML file.

    Raises `NadFileError` when the file is missing, is not YAML, or holds no NAD at all (validating
    nothing must not read as "ok")."""
    p = Path(path)
    out: list[NadDocument] = []
    try:
        docs = list(yaml.safe_load_all(p.read_text()))
    except OSError as e:
        raise NadFileError(f"{p}: cannot read: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise NadFileError(f"{p}: not valid YAML: {e}") from None
    for i, doc in enumerate(docs):
        if isinstance(doc, dict) and doc.get("kind") == NAD_KIND:
            out.append(document_from_object(doc, origin=f"file {p.name}[{i}]"))
        elif isinstance(doc, dict) and doc.get("kind") == "List":
            for j, item in enumerate(doc.get("items") or []):
                if isinstance(item, dict) and item.get("kind") == NAD_KIND:
                    out.append(document_from_object(item, origin=f"file {p.name}[{i}].items[{j}]"))
    if not out:
        raise NadFileError(f"{p}: no {NAD_KIND} in the file (kind: {NAD_KIND}, apiVersion: {NAD_API_VERSION})")
    return out
