"""Fetch upstream artifacts (manifests, plugin tarballs) and verify their sha256 before any use.

An `Artifact` (from params) is either `local` (a file, optionally checked against `sha256`) or a
`url` with `sha256` or `sha256_url` (the release's published checksum, `<hex>  <name>` lines).
Downloads go to a temporary file in the cache dir, are hashed while streaming and are only renamed
into the cache (and copied to `dest`) once the checksum matches: a mismatch leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runbooklib.errors import ArtifactError, ChecksumMismatch
from runbooklib.params import Artifact

ProgressFn = Callable[[str, int, int | None], None]
"""progress(source, bytes_done, bytes_total_or_None)"""

CHUNK = 1 << 16
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class FetchedArtifact:
    """A verified artifact on local disk."""

    path: Path
    sha256: str
    source: str
    verified: bool  # False only for a local file without a sha256 to compare with
    from_cache: bool = False

    def read_text(self) -> str:
        return self.path.read_bytes().decode("utf-8")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "runbooklib" / "artifacts"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_sha256_file(text: str, name: str | None = None, *, source: str = "sha256 file") -> str:
    """The checksum from a release `.sha256` file (`<hex>  <name>` or `<hex> *<name>` lines, or a bare hex).

    With several lines, the one whose name matches `name` (basename) wins."""
    entries: list[tuple[str, str]] = []
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if not parts or not _HEX64.match(parts[0]):
            continue
        fname = parts[1].lstrip("*").strip() if len(parts) > 1 else ""
        entries.append((parts[0].lower(), os.path.basename(fname)))
    if not entries:
        raise ArtifactError(source, "no sha256 found (expected '<64 hex digits>  <file name>')")
    if name is not None:
        named = [h for h, f in entries if f == os.path.basename(name)]
        if named:
            return named[0]
    if len(entries) == 1:
        return entries[0][0]
    raise ArtifactError(source, f"{len(entries)} checksums listed and none is for {name!r}")


def _url_basename(url: str) -> str:
    return os.path.basename(urllib.parse.urlparse(url).path) or "artifact"


def _open(url: str, timeout_s: float):  # noqa: ANN202 - urllib response
    try:
        return urllib.request.urlopen(url, timeout=timeout_s)  # noqa: S310 - params validate the scheme
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise ArtifactError(url, f"cannot download: {getattr(e, 'reason', e)}") from None


def fetch_text(url: str, *, timeout_s: float = 30.0, limit: int = 1 << 20) -> str:
    with _open(url, timeout_s) as resp:
        return resp.read(limit).decode("utf-8", "replace")


def expected_sha256(artifact: Artifact, *, timeout_s: float = 30.0) -> str | None:
    """The sha256 the artifact must have: given directly, or read from `sha256_url`."""
    if artifact.sha256:
        return artifact.sha256.lower()
    if artifact.sha256_url:
        name = _url_basename(artifact.url) if artifact.url else None
        return parse_sha256_file(fetch_text(artifact.sha256_url, timeout_s=timeout_s), name, source=artifact.sha256_url)
    return None


def fetch_artifact(
    artifact: Artifact,
    *,
    base_dir: Path | None = None,
    cache_dir: Path | None = None,
    dest: Path | None = None,
    progress: ProgressFn | None = None,
    timeout_s: float = 60.0,
) -> FetchedArtifact:
    """Get `artifact` onto local disk, verified. `local` wins over `url` when both are set.

    `base_dir` resolves a relative `local` (use the params file's folder, or `params.resolve`).
    `dest` (optional) receives a copy, written atomically and only after verification.
    Raises `ChecksumMismatch` (nothing written) or `ArtifactError`."""
    if artifact.local:
        local = Path(os.path.expanduser(artifact.local))
        if not local.is_absolute() and base_dir is not None:
            local = base_dir / local
        fetched = _verify_local(local, artifact.sha256)
    elif artifact.url:
        fetched = _fetch_url(artifact, cache_dir or default_cache_dir(), progress, timeout_s)
    else:
        raise ArtifactError("(artifact)", "neither url nor local given")
    if dest is not None:
        _copy_atomic(fetched.path, dest)
        fetched = FetchedArtifact(dest, fetched.sha256, fetched.source, fetched.verified, fetched.from_cache)
    return fetched


def _verify_local(path: Path, expected: str | None) -> FetchedArtifact:
    if not path.is_file():
        raise ArtifactError(str(path), "local file does not exist")
    actual = sha256_file(path)
    if expected and actual != expected.lower():
        raise ChecksumMismatch(str(path), expected.lower(), actual)
    return FetchedArtifact(path, actual, str(path), verified=bool(expected))


def _fetch_url(artifact: Artifact, cache_dir: Path, progress: ProgressFn | None, timeout_s: float) -> FetchedArtifact:
    url = artifact.url or ""
    expected = expected_sha256(artifact, timeout_s=timeout_s)
    if expected is None:
        raise ArtifactError(url, "no sha256 or sha256_url: refusing to use an unverified download")
    cached = cache_dir / expected / _url_basename(url)
    if cached.is_file() and sha256_file(cached) == expected:
        return FetchedArtifact(cached, expected, url, verified=True, from_cache=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=cache_dir)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, _open(url, timeout_s) as resp:
            total = _content_length(resp)
            done, last = 0, 0.0
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                h.update(chunk)
                done += len(chunk)
                now = time.monotonic()
                if progress is not None and now - last >= 0.5:
                    progress(url, done, total)
                    last = now
            if progress is not None:
                progress(url, done, total)
        actual = h.hexdigest()
        if actual != expected:
            raise ChecksumMismatch(url, expected, actual)
        cached.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, cached)
    finally:
        tmp.unlink(missing_ok=True)
    return FetchedArtifact(cached, expected, url, verified=True)


def _content_length(resp: object) -> int | None:
    headers = getattr(resp, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    return int(value) if value and value.isdigit() else None


def _copy_atomic(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp_name)
        os.replace(tmp_name, dest)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def print_progress(source: str, done: int, total: int | None) -> None:
    """A plain progress printer for CLI use (stderr)."""
    import sys

    pct = f" {100 * done // total:3d}%" if total else ""
    print(f"\r  {_url_basename(source)}: {done / 1e6:7.1f} MB{pct}", end="", file=sys.stderr, flush=True)
    if total and done >= total:
        print(file=sys.stderr)
