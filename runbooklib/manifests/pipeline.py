"""Load -> patch -> verify -> check, in one call; then write, diff or hand the docs to apply."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbooklib.artifacts import ProgressFn
from runbooklib.manifests.consistency import check_consistency
from runbooklib.manifests.diff import unified_diff
from runbooklib.manifests.docs import Doc, load_docs
from runbooklib.manifests.patch import (
    ImagePin,
    PatchResult,
    multus_image_pin,
    patch_multus,
    patch_whereabouts,
    whereabouts_image_pin,
)
from runbooklib.manifests.source import ManifestFile, UpstreamManifests, load_upstream
from runbooklib.params import Params
from runbooklib.results import Finding, Severity


@dataclass
class PreparedManifests:
    upstream: UpstreamManifests
    multus: PatchResult
    whereabouts: PatchResult
    findings: list[Finding] = field(default_factory=list)
    pins: list[ImagePin] = field(default_factory=list)
    pinned: bool = False

    def files(self) -> dict[str, str]:
        """File name -> text as it would be applied (CRDs unchanged, then the two patched files)."""
        out = {c.name: c.text for c in self.upstream.crds}
        out[self.multus.name] = self.multus.text
        out[self.whereabouts.name] = self.whereabouts.text
        return out

    def docs(self) -> list[Doc]:
        """Every object, in file order (see `runbooklib.cluster.apply.order_for_apply`)."""
        return [d for text in self.files().values() for d in load_docs(text)]

    def diffs(self) -> dict[str, str]:
        return {self.multus.name: unified_diff(self.upstream.multus.text, self.multus.text, self.multus.name),
                self.whereabouts.name: unified_diff(self.upstream.whereabouts.text, self.whereabouts.text, self.whereabouts.name)}

    @property
    def failed(self) -> bool:
        return any(f.severity is Severity.FAIL for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": [{"name": m.name, "source": m.source, "sha256": m.sha256, "verified": m.verified,
                         "matches_pin": m.matches_pin} for m in self.upstream.all()],
            "verification": {"multus": self.multus.to_dict(), "whereabouts": self.whereabouts.to_dict()},
            "pinned_images": self.pinned,
            "findings": [f.to_dict() for f in self.findings],
        }


def image_pins(params: Params) -> list[ImagePin]:
    return [multus_image_pin(params.versions.multus), whereabouts_image_pin(params.versions.whereabouts)]


def _source_findings(files: list[ManifestFile]) -> list[Finding]:
    out = []
    for m in files:
        if m.matches_pin is False:
            out.append(Finding("manifests.source", "manifest is not the pinned upstream file", Severity.WARN, m.source,
                               f"sha256 {m.sha256} differs from the params' pin {m.pinned_sha256}",
                               {"sha256": m.sha256, "pinned": m.pinned_sha256}))
    return out


def prepare_manifests(params: Params, *, multus_manifest: str | os.PathLike[str] | None = None,
                      whereabouts_manifest: str | os.PathLike[str] | None = None, pin_images: bool = False,
                      cache_dir: Path | None = None, progress: ProgressFn | None = None) -> PreparedManifests:
    """Load the upstream files (verified), patch and verify them (raises `ManifestPatchError`),
    then run the consistency checks on the result."""
    up = load_upstream(params, multus_manifest=multus_manifest, whereabouts_manifest=whereabouts_manifest,
                       cache_dir=cache_dir, progress=progress)
    pins = image_pins(params)
    mp = patch_multus(up.multus.text, params.k3s, pin=pins[0] if pin_images else None, name=up.multus.name)
    wp = patch_whereabouts(up.whereabouts.text, params.k3s, pin=pins[1] if pin_images else None, name=up.whereabouts.name)
    findings = _source_findings(up.all())
    findings += check_consistency(mp.text, wp.text, params.k3s, pins=pins)
    return PreparedManifests(up, mp, wp, findings, pins, pin_images)


def write_patched(prepared: PreparedManifests, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write every file (patched + CRDs) into `out_dir`, each atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in prepared.files().items():
        dest = out / name
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)
        written.append(dest)
    return written
