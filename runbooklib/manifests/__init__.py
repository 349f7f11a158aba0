"""Upstream Multus thick + Whereabouts manifests for k3s: load (sha256-verified), patch exactly like
the reference runbook's seds and verify it, check consistency, diff; `runbooklib.cluster` applies."""

from runbooklib.manifests.checks_multus import BinLayout, detect_layout
from runbooklib.manifests.checks_node import check_node_bin_dir
from runbooklib.manifests.checks_whereabouts import check_conf_paths_resolve, installer_paths
from runbooklib.manifests.consistency import check_consistency
from runbooklib.manifests.diff import unified_diff
from runbooklib.manifests.docs import load_docs
from runbooklib.manifests.nodefs import NodeFs
from runbooklib.manifests.patch import (
    ImagePin,
    ManifestPatchError,
    PatchResult,
    RuleHit,
    SedRule,
    apply_rules,
    multus_image_pin,
    multus_rules,
    patch_manifest,
    patch_multus,
    patch_whereabouts,
    sed_command,
    whereabouts_image_pin,
    whereabouts_rules,
)
from runbooklib.manifests.pipeline import PreparedManifests, image_pins, prepare_manifests, write_patched
from runbooklib.manifests.source import ManifestFile, UpstreamManifests, load_upstream

__all__ = [
    "BinLayout", "ImagePin", "ManifestFile", "ManifestPatchError", "NodeFs", "PatchResult", "PreparedManifests",
    "RuleHit", "SedRule", "UpstreamManifests", "apply_rules", "check_conf_paths_resolve", "check_consistency",
    "check_node_bin_dir", "detect_layout", "image_pins", "installer_paths", "load_docs", "load_upstream",
    "multus_image_pin", "multus_rules", "patch_manifest", "patch_multus", "patch_whereabouts", "prepare_manifests",
    "sed_command", "unified_diff", "whereabouts_image_pin", "whereabouts_rules", "write_patched",
]
