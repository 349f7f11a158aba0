"""Node facts: ONE POSIX sh script per node, parsed into typed dataclasses (pyinfra-style facts).

`facts_command(params)` builds the script; `parse_facts(node, stdout)` turns its output into
`NodeFacts`. Output is line-oriented and tab-separated so it needs nothing but sh + coreutils on
the node:

    P <tag> <path> <ltype> <link target> <dtype> <size> <mode> <sha256> <realpath>
    E <tag> <path> ...same fields...        (one entry of a listed directory)
    K <key> <value>                          (id, user, sudo, arch, ...)
    @@IPLINK / @@END                         (`ip -j link` verbatim in between)

`ltype` is the type of the path itself (lstat: missing/link/file/dir/other), `dtype` the type
after following links; size/mode/sha256 are those of the dereferenced file.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from typing import Any

from runbooklib.params import Params
from runbooklib.remote.shell import q

LEFTOVER_PREFIX = ".runbooklib-"


def newdir_path(opt_cni_bin: str, suffix: str) -> str:
    """Where a replacement for a symlinked /opt/cni/bin is built (`partial`) and parked when complete (`ready`)."""
    opt = opt_cni_bin.rstrip("/")
    return f"{posixpath.dirname(opt) or '/'}/{LEFTOVER_PREFIX}newdir-{posixpath.basename(opt)}.{suffix}"

_DESCRIBE = r"""
d() {
  _k=$1; _t=$2; _p=$3; _w=$4
  if [ -L "$_p" ]; then _lt=link; _tg=$(readlink -- "$_p"); elif [ -d "$_p" ]; then _lt=dir; _tg=;
  elif [ -f "$_p" ]; then _lt=file; _tg=; elif [ -e "$_p" ]; then _lt=other; _tg=; else _lt=missing; _tg=; fi
  if [ -d "$_p" ]; then _dt=dir; elif [ -f "$_p" ]; then _dt=file; elif [ -e "$_p" ]; then _dt=other; else _dt=missing; fi
  _sz=; _md=; _sh=
  if [ "$_dt" != missing ]; then _sm=$(stat -L -c '%s %a' -- "$_p" 2>/dev/null); _sz=${_sm% *}; _md=${_sm#* }; fi
  if [ "$_w" = 1 ] && [ "$_dt" = file ]; then
    if [ -r "$_p" ]; then _sh=$(sha256sum < "$_p" 2>/dev/null); _sh=${_sh%% *}; else _sh=unreadable; fi
  fi
  _rp=$(readlink -f -- "$_p" 2>/dev/null)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$_k" "$_t" "$_p" "$_lt" "$_tg" "$_dt" "$_sz" "$_md" "$_sh" "$_rp"
}
l() {
  _lt0=$1; _ld=$2; _lw=$3
  [ -d "$_ld" ] || return 0
  for _e in "$_ld"/* "$_ld"/.[!.]*; do
    [ -e "$_e" ] || [ -L "$_e" ] || continue
    case ${_e##*/} in *[!A-Za-z0-9._+-]*) printf 'W\t%s\tunsafe-name\n' "$_lt0"; continue;; esac
    d E "$_lt0" "$_e" "$_lw"
  done
}
"""

PATH_TAGS = ("opt_cni_bin", "opt_parent", "multicall", "cni_bin_dir", "multus_shim", "passthru",
             "wb_link", "wb_parent", "wb_target")


@dataclass(frozen=True)
class PathFact:
    """What one path is on the node."""

    path: str
    ltype: str  # missing | link | file | dir | other (the path itself, not followed)
    link_target: str = ""
    dtype: str = "missing"  # type after following links
    size: int | None = None
    mode: int | None = None  # permission bits of the dereferenced file
    sha256: str = ""  # "" not computed, "unreadable" when the user could not read it
    realpath: str = ""

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def is_link(self) -> bool:
        return self.ltype == "link"

    @property
    def exists(self) -> bool:
        return self.ltype != "missing"

    @property
    def dangling(self) -> bool:
        return self.is_link and self.dtype == "missing"

    @property
    def executable(self) -> bool:
        return self.mode is not None and bool(self.mode & 0o111)

    @property
    def real_exec_file(self) -> bool:
        return self.ltype == "file" and self.executable

    @classmethod
    def missing(cls, path: str) -> PathFact:
        return cls(path=path, ltype="missing")


@dataclass
class NodeFacts:
    """Everything node prep needs to know about one node, from one round trip."""

    node: str
    paths: dict[str, PathFact] = field(default_factory=dict)  # by tag (PATH_TAGS)
    opt_entries: dict[str, PathFact] = field(default_factory=dict)  # /opt/cni/bin entries by name (followed)
    ready_entries: dict[str, PathFact] = field(default_factory=dict)  # entries of a parked replacement dir
    leftovers: list[PathFact] = field(default_factory=list)  # .runbooklib-* temp/stage paths
    uid: int | None = None
    user: str = ""
    sudo: str = ""  # root | nopasswd | password-or-none
    arch: str = ""
    links: list[dict[str, Any]] = field(default_factory=list)  # `ip -j link`
    warnings: list[str] = field(default_factory=list)
    raw_lines: int = 0

    def path(self, tag: str) -> PathFact:
        return self.paths.get(tag) or PathFact.missing(tag)

    def link_names(self) -> list[str]:
        return [str(link.get("ifname", "")) for link in self.links]

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeFacts:
        d = dict(data)
        d["paths"] = {k: PathFact(**v) for k, v in d.get("paths", {}).items()}
        d["opt_entries"] = {k: PathFact(**v) for k, v in d.get("opt_entries", {}).items()}
        d["ready_entries"] = {k: PathFact(**v) for k, v in d.get("ready_entries", {}).items()}
        d["leftovers"] = [PathFact(**v) for v in d.get("leftovers", [])]
        return cls(**d)


def fact_paths(params: Params) -> dict[str, tuple[str, bool]]:
    """tag -> (path, whether to hash it)."""
    k = params.k3s
    opt = k.opt_cni_bin.rstrip("/")
    cbd = k.cni_bin_dir.rstrip("/")
    return {
        "opt_cni_bin": (opt, False),
        "opt_parent": (posixpath.dirname(opt) or "/", False),
        "multicall": (k.multicall_binary, True),
        "cni_bin_dir": (cbd, False),
        "multus_shim": (f"{cbd}/multus-shim", False),
        "passthru": (f"{cbd}/passthru", False),
        "wb_link": (k.whereabouts_link.rstrip("/"), False),
        "wb_parent": (posixpath.dirname(k.whereabouts_link.rstrip("/")) or "/", False),
        "wb_target": (k.whereabouts_target, False),
    }


def leftover_dirs(params: Params) -> list[str]:
    """Directories where an interrupted apply can leave `.runbooklib-*` temp/stage entries."""
    paths = fact_paths(params)
    dirs = [paths["opt_cni_bin"][0], paths["opt_parent"][0], paths["cni_bin_dir"][0], paths["wb_parent"][0]]
    return list(dict.fromkeys(dirs))


def facts_script(params: Params) -> str:
    """The POSIX sh script that reports every fact node prep needs, in one go."""
    lines = ["export LC_ALL=C", _DESCRIBE.strip()]
    for tag, (path, want_sha) in fact_paths(params).items():
        lines.append(f"d P {tag} {q(path)} {1 if want_sha else 0}")
    opt = fact_paths(params)["opt_cni_bin"][0]
    lines.append(f"l opt {q(opt)} 1")
    lines.append(f"[ -e {q(opt)} ] || [ -L {q(opt)} ] || l ready {q(newdir_path(opt, 'ready'))} 1")
    for i, dirpath in enumerate(leftover_dirs(params)):
        lines.append(f"for _x in {q(dirpath)}/{LEFTOVER_PREFIX}*; do [ -e \"$_x\" ] || [ -L \"$_x\" ] || continue; "
                     f"d E left{i} \"$_x\" 0; done")
    lines += [
        "printf 'K\\tuid\\t%s\\n' \"$(id -u)\"",
        "printf 'K\\tuser\\t%s\\n' \"$(id -un 2>/dev/null)\"",
        "if [ \"$(id -u)\" = 0 ]; then _s=root; elif sudo -n true >/dev/null 2>&1; then _s=nopasswd; "
        "else _s=password-or-none; fi; printf 'K\\tsudo\\t%s\\n' \"$_s\"",
        "printf 'K\\tarch\\t%s\\n' \"$(uname -m)\"",
        "echo @@IPLINK", "ip -j link 2>/dev/null || echo '[]'", "echo", "echo @@END",
    ]
    return "\n".join(lines) + "\n"


def facts_command(params: Params) -> str:
    """One `sh -c` string: what is sent to the node."""
    return f"sh -c {q(facts_script(params))}"


def _int(text: str, base: int = 10) -> int | None:
    try:
        return int(text, base)
    except ValueError:
        return None


def _path_fact(fields: list[str]) -> PathFact:
    fields = fields + [""] * (10 - len(fields))
    _, _, path, ltype, target, dtype, size, mode, sha, real = fields[:10]
    return PathFact(path=path, ltype=ltype or "missing", link_target=target, dtype=dtype or "missing",
                    size=_int(size), mode=_int(mode, 8), sha256=sha, realpath=real)


def parse_facts(node: str, stdout: str, params: Params | None = None) -> NodeFacts:
    """Parse the facts script's output. Unknown lines are kept as warnings, never fatal."""
    facts = NodeFacts(node=node)
    in_ip = False
    ip_text: list[str] = []
    for line in stdout.splitlines():
        facts.raw_lines += 1
        if line == "@@IPLINK":
            in_ip = True
            continue
        if line == "@@END":
            in_ip = False
            continue
        if in_ip:
            ip_text.append(line)
            continue
        parts = line.split("\t")
        kind = parts[0]
        if kind == "P" and len(parts) >= 4:
            facts.paths[parts[1]] = _path_fact(parts)
        elif kind == "E" and len(parts) >= 4:
            pf = _path_fact(parts)
            if parts[1] == "opt":
                if pf.name.startswith(LEFTOVER_PREFIX):
                    facts.leftovers.append(pf)
                else:
                    facts.opt_entries[pf.name] = pf
            elif parts[1] == "ready":
                facts.ready_entries[pf.name] = pf
            elif parts[1].startswith("left"):
                if pf.path not in {lf.path for lf in facts.leftovers}:
                    facts.leftovers.append(pf)
        elif kind == "K" and len(parts) >= 3:
            key, value = parts[1], parts[2]
            if key == "uid":
                facts.uid = _int(value)
            elif key == "user":
                facts.user = value
            elif key == "sudo":
                facts.sudo = value
            elif key == "arch":
                facts.arch = value
        elif kind == "W":
            facts.warnings.append(f"{parts[1] if len(parts) > 1 else '?'}: entry with an unsafe name skipped")
        elif line.strip():
            facts.warnings.append(f"unparsed line: {line[:200]}")
    text = "\n".join(ip_text).strip()
    if text:
        try:
            links = json.loads(text)
            facts.links = links if isinstance(links, list) else []
        except json.JSONDecodeError:
            facts.warnings.append("ip -j link output is not JSON")
    return facts
