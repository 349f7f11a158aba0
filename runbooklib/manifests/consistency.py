"""All consistency checks over the patched manifests (and, optionally, one node's file system)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbooklib.manifests.checks_images import check_image_tags
from runbooklib.manifests.checks_multus import (
    BinLayout,
    check_multus_bin_dir,
    check_multus_conf_dir,
    check_multus_init,
    detect_layout,
)
from runbooklib.manifests.checks_node import check_node_bin_dir
from runbooklib.manifests.checks_whereabouts import (
    check_whereabouts_bin_dir,
    check_whereabouts_conf_dir,
    check_whereabouts_kubeconfig_path,
)
from runbooklib.manifests.docs import Doc, load_docs
from runbooklib.manifests.nodefs import NodeFs
from runbooklib.manifests.patch import ImagePin
from runbooklib.params import K3sPaths
from runbooklib.results import Finding


def _docs(x: str | list[Doc]) -> list[Doc]:
    return load_docs(x) if isinstance(x, str) else x


def check_consistency(multus: str | list[Doc], whereabouts: str | list[Doc], k3s: K3sPaths, *,
                      pins: list[ImagePin] | None = None,
                      node_fs: NodeFs | Mapping[str, str] | None = None, node: str = "node",
                      conflist: dict[str, Any] | None = None) -> list[Finding]:
    """Warnings and errors (with reasons) for the manifests as they would be applied.

    Without `node_fs` only the manifests are compared (with each other and with params.k3s);
    with it, also the node's bin dir and the whereabouts.d symlink are checked."""
    m, w = _docs(multus), _docs(whereabouts)
    fs = NodeFs(node_fs) if node_fs is not None and not isinstance(node_fs, NodeFs) else node_fs
    findings: list[Finding] = []
    findings += check_multus_conf_dir(m, k3s)
    findings += check_multus_bin_dir(m, k3s)
    findings += check_multus_init(m)
    layout, paths = detect_layout(m, k3s)
    multus_bin = paths["binDir"] if layout is not BinLayout.MIXED else paths["hostPath"]
    findings += check_whereabouts_conf_dir(w, k3s)
    findings += check_whereabouts_kubeconfig_path(w, k3s, fs)
    findings += check_whereabouts_bin_dir(w, multus_bin)
    findings += check_image_tags(m + w, pins or [])
    if fs is not None and multus_bin:
        findings += check_node_bin_dir(node, multus_bin, fs, k3s, conflist=conflist)
    return findings
