"""The checks' node probe: ONE `sh -c` round trip per node that runs, in order,

1. node prep's facts script (`runbooklib.nodes.facts`: paths, /opt/cni/bin entries, sha256s),
2. the NAD probe (`runbooklib.nad.node_facts`: `ip -j link`, plugin kinds, `CNI_COMMAND=VERSION`),
3. this module's part: every component of the interesting paths with its symlink chain (node_fs
   form), the whereabouts search paths (whereabouts.conf content + the kubeconfig it names, stat
   only), the k3s conf dir's .conf/.conflist files, the k3s data dir, and containerd's CNI
   `bin_dir`/`conf_dir` lines plus `CNI_COMMAND=VERSION` of `<bin_dir>/flannel`.

Each part's output is parsed by its own module's parser; `parse_probe` is pure.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from runbooklib.checks.evidence import (
    WB_DEFAULT_SEARCH,
    ConfFile,
    ContainerdConf,
    NodeEvidence,
    summarize_cni_conf,
    summarize_wb_conf,
)
from runbooklib.nad.node_facts import parse_probe_output, probe_script
from runbooklib.nodes.facts import facts_script, parse_facts
from runbooklib.params import Params
from runbooklib.remote.shell import q

M_NAD, M_CHECKS, M_DONE = "@@RBL-NADPROBE", "@@RBL-CHECKS", "@@RBL-CHECKS-END"

_FUNCS = r"""
cs_s() {
  if [ -L "$1" ]; then printf 'S\t%s\tlink\t%s\n' "$1" "$(readlink -- "$1")"
  elif [ -d "$1" ]; then printf 'S\t%s\tdir\t\n' "$1"
  elif [ -f "$1" ]; then if [ -x "$1" ]; then printf 'S\t%s\tfile-x\t\n' "$1"; else printf 'S\t%s\tfile\t\n' "$1"; fi
  elif [ -e "$1" ]; then printf 'S\t%s\tother\t\n' "$1"
  else printf 'S\t%s\tmissing\t\n' "$1"; fi
}
cs_w() (
  _n=${2:-0}; [ "$_n" -gt 8 ] && exit 0
  _acc=; _rest=${1#/}
  while [ -n "$_rest" ]; do
    _c=${_rest%%/*}
    case $_rest in */*) _rest=${_rest#*/};; *) _rest=;; esac
    if [ -z "$_c" ] || [ "$_c" = . ]; then continue; fi
    _acc="$_acc/$_c"
    cs_s "$_acc"
    if [ -L "$_acc" ]; then
      _t=$(readlink -- "$_acc"); case $_t in /*) ;; *) _t="${_acc%/*}/$_t";; esac
      cs_w "$_t" $((_n + 1))
    fi
    [ -e "$_acc" ] || [ -L "$_acc" ] || exit 0
  done
)
cs_l() {
  [ -d "$1" ] || return 0
  printf 'D\t%s\n' "$1"
  for _e in "$1"/* "$1"/.[!.]*; do
    [ -e "$_e" ] || [ -L "$_e" ] || continue
    case ${_e##*/} in *[!A-Za-z0-9._+-]*) continue;; esac
    cs_w "$_e"
  done
  _r=$(readlink -f -- "$1" 2>/dev/null)
  if [ -n "$_r" ] && [ "$_r" != "$1" ] && [ "$2" != norec ]; then cs_l "$_r" norec; fi
}
cs_n() {
  [ -d "$1" ] || return 0
  printf 'D\t%s\n' "$1"
  for _e in "$1"/*; do
    [ -e "$_e" ] || [ -L "$_e" ] || continue
    case ${_e##*/} in *[!A-Za-z0-9._+-]*) continue;; esac
    cs_s "$_e"
  done
}
cs_cat() {
  if [ -f "$2" ]; then
    if [ -r "$2" ]; then printf '@@file\t%s\t%s\tok\n' "$1" "$2"; head -c 65536 -- "$2"; printf '\n@@endfile\n'
    else printf '@@file\t%s\t%s\tunreadable\n@@endfile\n' "$1" "$2"; fi
  fi
}
cs_kc() {
  _k=$(sed -n 's/.*"kubeconfig"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$1" 2>/dev/null | head -n 1)
  if [ -n "$_k" ]; then cs_w "$_k"; fi
}
cs_ver() {
  if [ -x "$2" ]; then
    if command -v timeout >/dev/null 2>&1; then _T='timeout 10'; else _T=; fi
    _o=$(echo '{"cniVersion":"1.1.0"}' | CNI_COMMAND=VERSION $_T "$2" 2>&1); _rc=$?
    printf '@@ver\t%s\t%s\n%s\n@@endver\n' "$1" "$_rc" "$(printf '%s' "$_o" | head -c 2000)"
  fi
}
"""


@dataclass(frozen=True)
class ProbePlan:
    """What the probe looks at (all from params + the cluster's NADs)."""

    bin_dir: str
    binaries: tuple[str, ...]
    walk: tuple[str, ...]
    list_dirs: tuple[str, ...]
    wb_search: tuple[str, ...]
    kubeconfigs: tuple[str, ...]
    conf_dir: str
    data_dir: str
    containerd_config: str


def containerd_config_path(params: Params) -> str:
    agent = params.k3s.conf_dir.split("/etc/cni", 1)[0]
    return f"{agent}/etc/containerd/config.toml"


def probe_plan(params: Params, *, bin_dir: str | None = None, binaries: Iterable[str] = (),
               config_paths: Iterable[str] = (), kubeconfigs: Iterable[str] = ()) -> ProbePlan:
    k = params.k3s
    opt, cbd, data = k.opt_cni_bin.rstrip("/"), k.cni_bin_dir.rstrip("/"), k.data_dir.rstrip("/")
    bdir = (bin_dir or opt).rstrip("/")
    walk = [opt, cbd, f"{cbd}/multus-shim", f"{cbd}/passthru", f"{data}/current", f"{data}/previous",
            k.multicall_binary, k.whereabouts_link.rstrip("/"), k.whereabouts_target, "/etc/cni", bdir]
    search = list(dict.fromkeys([*config_paths, *WB_DEFAULT_SEARCH, f"{k.whereabouts_target}/whereabouts.conf"]))
    return ProbePlan(bin_dir=bdir, binaries=tuple(dict.fromkeys(binaries)), walk=tuple(dict.fromkeys(walk)),
                     list_dirs=tuple(dict.fromkeys([opt, cbd, bdir, k.whereabouts_target])),
                     wb_search=tuple(search), kubeconfigs=tuple(dict.fromkeys(kubeconfigs)),
                     conf_dir=k.conf_dir.rstrip("/"), data_dir=data, containerd_config=containerd_config_path(params))


def checks_script(plan: ProbePlan) -> str:
    """Part 3 of the probe (this module's own)."""
    lines = ["export LC_ALL=C", _FUNCS.strip()]
    lines += [f"cs_w {q(p)}" for p in plan.walk]
    lines += [f"cs_l {q(d)}" for d in plan.list_dirs]
    lines.append(f"cs_n {q(plan.data_dir)}")
    lines.append(f"for _h in {q(plan.data_dir)}/*/bin; do case ${{_h%/bin}} in */current|*/previous|*/cni) continue;; esac; "
                 "cs_n \"$_h\"; done")
    for p in plan.wb_search:
        lines.append(f"cs_w {q(p)}; cs_cat wb {q(p)}; [ -f {q(p)} ] && [ -r {q(p)} ] && cs_kc {q(p)}")
    lines += [f"cs_w {q(k)}" for k in plan.kubeconfigs]
    lines.append(f"cs_w {q(plan.conf_dir)}")
    lines.append(f"for _f in {q(plan.conf_dir)}/*.conf {q(plan.conf_dir)}/*.conflist; do "
                 "[ -f \"$_f\" ] && cs_cat cni \"$_f\"; done")
    ct = plan.containerd_config
    lines += [
        f"cs_w {q(ct)}; cs_w {q(ct + '.tmpl')}",
        f"if [ -f {q(ct)} ]; then if [ -r {q(ct)} ]; then printf 'CT\\tok\\n'; "
        f"grep -E '^[[:space:]]*(bin_dirs?|conf_dir)[[:space:]]*=' {q(ct)} | sed 's/^/CD\\t/'; "
        f"_bd=$(sed -n 's/^[[:space:]]*bin_dirs*[[:space:]]*=[^\"]*\"\\([^\"]*\\)\".*/\\1/p' {q(ct)} | head -n 1); "
        "if [ -n \"$_bd\" ]; then cs_w \"$_bd\"; cs_ver cdflannel \"$_bd/flannel\"; fi; "
        "else printf 'CT\\tunreadable\\n'; fi; else printf 'CT\\tmissing\\n'; fi",
    ]
    return "\n".join(lines) + "\n"


def probe_command(params: Params, plan: ProbePlan) -> str:
    """The whole probe as one `sh -c` string (facts, NAD probe, checks), each part in a subshell."""
    script = "\n".join([
        "(", facts_script(params), ")",
        f"echo {M_NAD}",
        "(", probe_script(plan.bin_dir, plan.binaries), ")",
        f"echo {M_CHECKS}",
        "(", checks_script(plan), ")",
        f"echo {M_DONE}",
    ])
    return f"sh -c {q(script)}"


# ---------------------------------------------------------------------------------------------
# parsing


def _describe(kind: str, target: str) -> str:
    return {"link": f"symlink -> {target}", "dir": "dir", "file-x": "file (exec)", "file": "file",
            "missing": "missing"}.get(kind, kind)


def _split(text: str) -> tuple[str, str, str, bool]:
    facts, _, rest = text.partition(f"\n{M_NAD}\n") if f"\n{M_NAD}\n" in text else (text, "", "")
    nad, _, rest2 = rest.partition(f"\n{M_CHECKS}\n") if rest else ("", "", "")
    checks, done, _ = rest2.partition(M_DONE)
    return facts, nad, checks, bool(done)


def parse_checks_part(ev: NodeEvidence, text: str) -> None:
    """Fill `ev` from part 3's output (pure)."""
    block: list[str] | None = None
    head: list[str] = []
    cd_lines: list[str] = []
    listed: list[str] = []
    ct_state = "missing"
    for line in text.splitlines():
        if block is not None:
            if line in ("@@endfile", "@@endver"):
                _finish_block(ev, head, block)
                block = None
            else:
                block.append(line)
            continue
        parts = line.split("\t")
        if parts[0] == "S" and len(parts) >= 3:
            path = posixpath.normpath(parts[1])
            ev.fs[path] = _describe(parts[2], parts[3] if len(parts) > 3 else "")
        elif parts[0] == "D" and len(parts) > 1:
            listed.append(posixpath.normpath(parts[1]))
        elif parts[0] in ("@@file", "@@ver"):
            head, block = parts, []
        elif parts[0] == "CT" and len(parts) > 1:
            ct_state = parts[1]
        elif parts[0] == "CD" and len(parts) > 1:
            cd_lines.append("\t".join(parts[1:]))
    _mark_listed(ev, listed)
    if ev.containerd is None:
        ev.containerd = ContainerdConf(path="")
    ev.containerd.state = ct_state
    for raw in cd_lines:
        key, _, value = raw.partition("=")
        key, value = key.strip(), value.strip()
        vals = [v for v in (s.strip().strip("'\"") for s in value.strip("[]").split(",")) if v]
        if key.startswith("bin_dir"):
            ev.containerd.bin_dirs += vals
        elif key == "conf_dir" and vals:
            ev.containerd.conf_dir = vals[0]


def _mark_listed(ev: NodeEvidence, listed: list[str]) -> None:
    """A listed directory is complete: record it as `dir (contains: ...)` so absent names read as missing."""
    for d in dict.fromkeys(listed):
        if ev.fs.get(d, "dir") != "dir":
            continue
        names = sorted(posixpath.basename(p) for p, desc in ev.fs.items() if posixpath.dirname(p) == d and desc != "missing")
        ev.fs[d] = f"dir (contains: {', '.join(names)})"


def _finish_block(ev: NodeEvidence, head: list[str], body: list[str]) -> None:
    text = "\n".join(body)
    if head[0] == "@@ver":
        if ev.containerd is None:
            ev.containerd = ContainerdConf(path="")
        ev.containerd.flannel_version = text.strip()
        rc = head[2] if len(head) > 2 else ""
        ev.containerd.flannel_version_rc = int(rc) if rc.lstrip("-").isdigit() else None
        return
    tag, path, state = (head + ["", "", ""])[1:4]
    if tag == "wb":
        ev.wb_confs[path] = summarize_wb_conf(path, text) if state == "ok" else ConfFile(path, state)
    elif tag == "cni":
        name = posixpath.basename(path)
        ev.cni_confs[name] = summarize_cni_conf(path, text) if state == "ok" else ConfFile(path, state)


def parse_probe(node: str, text: str, params: Params, plan: ProbePlan, *, used_sudo: bool = False) -> NodeEvidence:
    """Evidence of one node from the probe's whole output (pure)."""
    facts_text, nad_text, checks_text, done = _split(text)
    ev = NodeEvidence(node, bin_dir=plan.bin_dir, used_sudo=used_sudo)
    ev.containerd = ContainerdConf(path=plan.containerd_config)
    facts = parse_facts(node, facts_text, params)
    for pf in [*facts.paths.values(), *facts.opt_entries.values()]:
        if pf.sha256 and pf.sha256 != "unreadable":
            ev.sha256[posixpath.normpath(pf.path)] = pf.sha256
    ev.notes += facts.warnings
    if nad_text:
        ev.binaries = parse_probe_output(node, nad_text, plan.bin_dir).binaries
    parse_checks_part(ev, checks_text)
    ev.containerd.path = plan.containerd_config
    ev.containerd.template_exists = ev.kind(plan.containerd_config + ".tmpl") == "file"
    if not done:
        ev.notes.append("the probe did not finish: some evidence is missing")
    return ev


def needed_binaries(extra: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(extra))
