"""Artifact fetching: sha256 given or published (`<hex>  <name>`), local files, cache, nothing kept on mismatch."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runbooklib.artifacts import fetch_artifact, parse_sha256_file
from runbooklib.errors import ArtifactError, ChecksumMismatch
from runbooklib.params import Artifact

PAYLOAD = b"plugin tarball bytes\n" * 5000
NAME = "cni-plugins-linux-amd64-v1.6.2.tgz"
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    (root / NAME).write_bytes(PAYLOAD)
    (root / f"{NAME}.sha256").write_text(f"{DIGEST}  {NAME}\n")
    (root / "wrong.sha256").write_text(f"{'0' * 64}  {NAME}\n")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetch_with_published_sha256(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    seen: list[tuple[int, int | None]] = []
    dest = tmp_path / "out" / NAME
    got = fetch_artifact(Artifact(url=f"{base}/{NAME}", sha256_url=f"{base}/{NAME}.sha256"), cache_dir=tmp_path / "cache",
                         dest=dest, progress=lambda _src, done, total: seen.append((done, total)))
    assert got.verified and got.sha256 == DIGEST and dest.read_bytes() == PAYLOAD
    assert seen and seen[-1] == (len(PAYLOAD), len(PAYLOAD))


def test_fetch_with_given_sha256_uses_cache_second_time(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    art = Artifact(url=f"{base}/{NAME}", sha256=DIGEST)
    first = fetch_artifact(art, cache_dir=tmp_path / "cache")
    (root / NAME).unlink()  # the server no longer has it: the verified cache serves
    second = fetch_artifact(art, cache_dir=tmp_path / "cache")
    assert not first.from_cache and second.from_cache and second.path.read_bytes() == PAYLOAD


def test_mismatch_given_sha256_writes_nothing(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    dest = tmp_path / "out" / NAME
    with pytest.raises(ChecksumMismatch) as ei:
        fetch_artifact(Artifact(url=f"{base}/{NAME}", sha256="f" * 64), cache_dir=tmp_path / "cache", dest=dest)
    assert ei.value.expected == "f" * 64 and ei.value.actual == DIGEST
    assert "sha256 mismatch" in str(ei.value) and "nothing was installed" in str(ei.value)
    assert not dest.exists() and not dest.parent.exists()
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []  # no partial download left


def test_mismatch_published_sha256_writes_nothing(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    dest = tmp_path / "out" / NAME
    with pytest.raises(ChecksumMismatch):
        fetch_artifact(Artifact(url=f"{base}/{NAME}", sha256_url=f"{base}/wrong.sha256"), cache_dir=tmp_path / "cache", dest=dest)
    assert not dest.exists()


def test_url_without_checksum_refused(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    with pytest.raises(ArtifactError, match="unverified"):
        fetch_artifact(Artifact(url=f"{base}/{NAME}"), cache_dir=tmp_path / "cache")


def test_download_error_is_an_artifact_error(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    with pytest.raises(ArtifactError, match="cannot download"):
        fetch_artifact(Artifact(url=f"{base}/missing.tgz", sha256=DIGEST), cache_dir=tmp_path / "cache")


def test_local_file_checked_and_relative_to_base(tmp_path: Path) -> None:
    (tmp_path / "m.yml").write_bytes(PAYLOAD)
    got = fetch_artifact(Artifact(local="m.yml", sha256=DIGEST), base_dir=tmp_path)
    assert got.verified and got.path == tmp_path / "m.yml"
    unverified = fetch_artifact(Artifact(local=str(tmp_path / "m.yml")))
    assert not unverified.verified and unverified.sha256 == DIGEST
    dest = tmp_path / "copy.yml"
    with pytest.raises(ChecksumMismatch):
        fetch_artifact(Artifact(local="m.yml", sha256="0" * 64), base_dir=tmp_path, dest=dest)
    assert not dest.exists()


def test_parse_sha256_file_formats() -> None:
    assert parse_sha256_file(f"{DIGEST}  {NAME}\n", NAME) == DIGEST
    assert parse_sha256_file(f"{DIGEST} *{NAME}\n", NAME) == DIGEST
    assert parse_sha256_file(DIGEST.upper()) == DIGEST
    other = "1" * 64
    assert parse_sha256_file(f"{other}  other.tgz\n{DIGEST}  ./{NAME}\n", NAME) == DIGEST
    with pytest.raises(ArtifactError):
        parse_sha256_file(f"{other}  a\n{'2' * 64}  b\n", NAME)
    with pytest.raises(ArtifactError):
        parse_sha256_file("not a checksum")
