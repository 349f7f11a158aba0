"""Where the upstream manifests come from: the params' pinned artifacts, or local override files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from runbooklib.artifacts import ProgressFn, fetch_artifact, sha256_file
from runbooklib.errors import ArtifactError
from runbooklib.params import Artifact, Params


@dataclass(frozen=True)
class ManifestFile:
    name: str  # file name, e.g. multus-daemonset-thick.yml
    text: str
    source: str  # URL or local path
    sha256: str
    verified: bool  # matched the params' sha256 (or the published one)
    pinned_sha256: str | None = None  # what params pin (for overrides: compare and report)

    @property
    def matches_pin(self) -> bool | None:
        return None if self.pinned_sha256 is None else self.sha256 == self.pinned_sha256


@dataclass(frozen=True)
class UpstreamManifests:
    multus: ManifestFile
    whereabouts: ManifestFile
    crds: list[ManifestFile] = field(default_factory=list)

    def all(self) -> list[ManifestFile]:
        return [*self.crds, self.multus, self.whereabouts]


def _name_of(art: Artifact) -> str:
    ref = art.local or art.url or "manifest"
    return os.path.basename(ref.rstrip("/").split("?", 1)[0])


def _from_artifact(params: Params, art: Artifact, cache_dir: Path | None, progress: ProgressFn | None) -> ManifestFile:
    base = Path(params.source_path).parent if params.source_path else None
    got = fetch_artifact(art, base_dir=base, cache_dir=cache_dir, progress=progress)
    try:
        text = got.read_text()
    except UnicodeDecodeError:
        raise ArtifactError(got.source, "not a UTF-8 text file (is it a manifest?)") from None
    return ManifestFile(_name_of(art), text, got.source, got.sha256, got.verified, art.sha256)


def _from_local(path: str | os.PathLike[str], art: Artifact) -> ManifestFile:
    p = Path(path).expanduser()
    try:
        digest = sha256_file(p)
        text = p.read_bytes().decode("utf-8")
    except OSError as e:
        raise ArtifactError(str(p), f"cannot read the manifest: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ArtifactError(str(p), "not a UTF-8 text file (is it a manifest?)") from None
    return ManifestFile(p.name, text, str(p), digest,
                        verified=bool(art.sha256) and digest == art.sha256, pinned_sha256=art.sha256)


def load_upstream(params: Params, *, multus_manifest: str | os.PathLike[str] | None = None,
                  whereabouts_manifest: str | os.PathLike[str] | None = None,
                  cache_dir: Path | None = None, progress: ProgressFn | None = None) -> UpstreamManifests:
    """The Multus thick manifest, the Whereabouts daemonset manifest and its CRDs, each verified
    against the params' sha256. A `*_manifest` override is read as given (its sha256 is reported
    and compared with the pin, not enforced), for trying a different upstream file."""
    arts = params.artifacts
    multus = (_from_local(multus_manifest, arts.multus_manifest) if multus_manifest
              else _from_artifact(params, arts.multus_manifest, cache_dir, progress))
    wb = (_from_local(whereabouts_manifest, arts.whereabouts_manifest) if whereabouts_manifest
          else _from_artifact(params, arts.whereabouts_manifest, cache_dir, progress))
    crds = [_from_artifact(params, a, cache_dir, progress) for a in arts.whereabouts_crds]
    return UpstreamManifests(multus, wb, crds)
