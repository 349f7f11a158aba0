"""The containernetworking/plugins release on the controller: fetched + sha256-verified (via
`runbooklib.artifacts`), then listed (name, sha256, mode of every executable member).

The tarball is verified BEFORE anything in it is read. A local directory of plugin binaries is
packed into a tarball in the cache so that nodes always receive one verified file.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from runbooklib.artifacts import default_cache_dir, fetch_artifact, sha256_file
from runbooklib.errors import ArtifactError
from runbooklib.params import Params

# containernetworking/plugins v1.6.2 linux build (scripts/release.sh + build_linux.sh at the tag)
WELL_KNOWN_PLUGINS = (
    "bandwidth", "firewall", "portmap", "sbr", "tuning", "vrf",
    "bridge", "dummy", "host-device", "ipvlan", "loopback", "macvlan", "ptp", "tap", "vlan",
    "dhcp", "host-local", "static",
)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
RESERVED = ("flannel",)  # comes from the k3s multicall binary, never from the tarball


@dataclass(frozen=True)
class PluginMember:
    name: str  # file name in /opt/cni/bin
    member: str  # name inside the tarball (e.g. "./macvlan")
    sha256: str
    size: int


@dataclass(frozen=True)
class PluginBundle:
    tarball: Path
    sha256: str
    source: str
    verified: bool
    members: dict[str, PluginMember]
    skipped: list[str] = field(default_factory=list)  # non-executable or unsafe members
    warnings: list[str] = field(default_factory=list)


def load_plugin_bundle(params: Params, *, cache_dir: Path | None = None) -> PluginBundle:
    """Fetch (or take locally), verify, and list the plugin tarball named in `params.artifacts.cni_plugins`.

    Raises `ChecksumMismatch` / `ArtifactError` before anything is unpacked anywhere."""
    art = params.artifacts.cni_plugins
    cache = cache_dir or default_cache_dir()
    if art.local and params.resolve(art.local).is_dir():
        tarball = pack_directory(params.resolve(art.local), cache)
        sha, source, verified = sha256_file(tarball), str(params.resolve(art.local)), False
    else:
        base = Path(params.source_path).parent if params.source_path else None
        fetched = fetch_artifact(art, base_dir=base, cache_dir=cache)
        tarball, sha, source, verified = fetched.path, fetched.sha256, fetched.source, fetched.verified
    return list_bundle(tarball, sha, source, verified)


def list_bundle(tarball: Path, sha: str, source: str, verified: bool) -> PluginBundle:
    members: dict[str, PluginMember] = {}
    skipped: list[str] = []
    try:
        with tarfile.open(tarball, "r:*") as tf:
            for info in tf:
                name = posixpath.basename(posixpath.normpath(info.name))
                if info.isdir():
                    continue
                if not info.isfile() or posixpath.dirname(posixpath.normpath(info.name)) not in ("", ".") \
                        or not SAFE_NAME.match(name) or name in RESERVED:
                    skipped.append(info.name)
                    continue
                if not info.mode & 0o111:  # LICENSE, README.md
                    skipped.append(info.name)
                    continue
                fh = tf.extractfile(info)
                if fh is None:
                    skipped.append(info.name)
                    continue
                h = hashlib.sha256()
                while chunk := fh.read(1 << 16):
                    h.update(chunk)
                members[name] = PluginMember(name=name, member=info.name, sha256=h.hexdigest(), size=info.size)
    except (tarfile.TarError, OSError) as e:
        raise ArtifactError(source, f"not a readable tarball: {e}") from None
    if not members:
        raise ArtifactError(source, "the tarball holds no executable plugin files")
    missing = [p for p in WELL_KNOWN_PLUGINS if p not in members]
    warnings = [f"the plugin tarball lacks {', '.join(missing)} (part of the upstream v1.6.2 release)"] if missing else []
    return PluginBundle(tarball, sha, source, verified, members, skipped, warnings)


def pack_directory(directory: Path, cache_dir: Path) -> Path:
    """Pack the executable regular files of `directory` (links followed) into a reproducible tarball."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tf:
        for path in sorted(directory.iterdir()):
            if not path.is_file() or not SAFE_NAME.match(path.name):
                continue
            data = path.read_bytes()
            info = tarfile.TarInfo(f"./{path.name}")
            info.size, info.mode, info.mtime = len(data), path.stat().st_mode & 0o7777, 0
            tf.addfile(info, io.BytesIO(data))
    digest = hashlib.sha256(buf.getvalue()).hexdigest()
    out = cache_dir / digest / f"cni-plugins-from-{directory.name}.tgz"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, delete=False) as tmp:
            tmp.write(buf.getvalue())
        Path(tmp.name).replace(out)
    return out
