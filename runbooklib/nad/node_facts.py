"""What a NAD needs from a node, gathered in ONE round trip per node, parsed into typed facts.

The probe is one `sh -c` script: `ip -j link` (or /sys/class/net when iproute2 has no JSON),
the file type of each needed binary in the CNI bin dir, and each binary's answer to
`CNI_COMMAND=VERSION`. `parse_probe_output` is pure, so recorded outputs make unit tests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from runbooklib.remote.shell import q


@dataclass(frozen=True)
class LinkFacts:
    name: str
    mtu: int
    admin_up: bool = True
    lower_up: bool = True
    operstate: str = "UP"

    @property
    def up(self) -> bool:
        return self.admin_up and (self.lower_up or self.operstate in ("UP", "UNKNOWN"))


@dataclass(frozen=True)
class BinaryFacts:
    """One plugin binary: `kind` is file | symlink | dir | missing | other."""

    name: str
    path: str
    kind: str
    executable: bool = False
    link_target: str = ""
    target_kind: str = ""  # for symlinks: what the target resolves to on the host
    version_exit: int | None = None
    version_output: str = ""

    @property
    def supported_versions(self) -> tuple[str, ...] | None:
        """From the VERSION answer; ("0.1.0",) for `unknown CNI_COMMAND: VERSION` (libcni's rule)."""
        text = self.version_output.strip()
        if "unknown CNI_COMMAND" in text:
            return ("0.1.0",)
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    data = json.loads(line)
                except ValueError:
                    continue
                versions = data.get("supportedVersions") if isinstance(data, dict) else None
                if isinstance(versions, list):
                    return tuple(str(v) for v in versions)
        return None


@dataclass
class NodeCniFacts:
    """Facts of one node, or `error` when it could not be reached (then nothing else is known)."""

    node: str
    links: dict[str, LinkFacts] = field(default_factory=dict)
    bin_dir: str = "/opt/cni/bin"
    binaries: dict[str, BinaryFacts] | None = None  # None: not gathered
    error: str | None = None

    @property
    def reachable(self) -> bool:
        return self.error is None


def probe_script(bin_dir: str, binaries: Sequence[str]) -> str:
    """The one script run per node. Output is line-oriented with `@@` markers."""
    names = " ".join(q(b) for b in binaries)
    return f"""BIN={q(bin_dir)}
echo '@@links'
if ip -j link show 2>/dev/null; then :; else
  echo '@@sys'
  for d in /sys/class/net/*; do
    n=${{d##*/}}; printf '%s\\t%s\\t%s\\t%s\\n' "$n" "$(cat "$d/mtu" 2>/dev/null)" "$(cat "$d/operstate" 2>/dev/null)" "$(cat "$d/flags" 2>/dev/null)"
  done
fi
echo '@@bins'
if command -v timeout >/dev/null 2>&1; then T='timeout 10'; else T=''; fi
for b in {names}; do
  p="$BIN/$b"; kind=missing; exe=0; tk=''
  if [ -L "$p" ]; then kind=symlink; if [ -f "$p" ]; then tk=file; elif [ -d "$p" ]; then tk=dir; else tk=dangling; fi
  elif [ -f "$p" ]; then kind=file; elif [ -d "$p" ]; then kind=dir; elif [ -e "$p" ]; then kind=other; fi
  [ -x "$p" ] && [ ! -d "$p" ] && exe=1
  printf '@@bin\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$b" "$kind" "$exe" "$tk" "$(readlink "$p" 2>/dev/null)"
  if [ "$exe" = 1 ]; then
    out=$(echo '{{"cniVersion":"1.1.0"}}' | CNI_COMMAND=VERSION CNI_CONTAINERID=probe CNI_NETNS=/dev/null CNI_IFNAME=probe0 CNI_PATH="$BIN" $T "$p" 2>&1); rc=$?
    printf '@@version\\t%s\\t%s\\n' "$b" "$rc"; printf '%s\\n' "$out" | head -c 4000; printf '\\n@@end\\n'
  fi
done
echo '@@done'
"""


def parse_probe_output(node: str, text: str, bin_dir: str = "/opt/cni/bin") -> NodeCniFacts:
    """Typed facts from the probe's output (pure)."""
    facts = NodeCniFacts(node=node, bin_dir=bin_dir, binaries={})
    section = ""
    link_json: list[str] = []
    sys_lines: list[str] = []
    version_of: str | None = None
    version_rc: int | None = None
    version_lines: list[str] = []
    assert facts.binaries is not None
    for line in text.splitlines():
        if version_of is not None:
            if line == "@@end":
                b = facts.binaries[version_of]
                facts.binaries[version_of] = BinaryFacts(b.name, b.path, b.kind, b.executable, b.link_target, b.target_kind,
                                                         version_rc, "\n".join(version_lines))
                version_of, version_lines = None, []
            else:
                version_lines.append(line)
            continue
        if line in ("@@links", "@@sys", "@@bins", "@@done"):
            section = line
            continue
        if section == "@@links":
            link_json.append(line)
        elif section == "@@sys":
            sys_lines.append(line)
        elif section == "@@bins" and line.startswith("@@bin\t"):
            parts = (line.split("\t") + [""] * 6)[1:6]
            name, kind, exe, tk, target = parts
            facts.binaries[name] = BinaryFacts(name, f"{bin_dir.rstrip('/')}/{name}", kind or "missing", exe == "1", target, tk)
        elif section == "@@bins" and line.startswith("@@version\t"):
            _, name, rc = (line.split("\t") + ["", ""])[:3]
            version_of = name if name in facts.binaries else None
            version_rc = int(rc) if rc.strip().lstrip("-").isdigit() else None
    facts.links = _links_from_ip_json("\n".join(link_json)) or _links_from_sys(sys_lines)
    return facts


def _links_from_ip_json(text: str) -> dict[str, LinkFacts]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return links_from_ip_json(data)


def links_from_ip_json(data: Any) -> dict[str, LinkFacts]:
    """`ip -j link show` output (parsed JSON) → links by name."""
    out: dict[str, LinkFacts] = {}
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict) or "ifname" not in item:
            continue
        flags = item.get("flags") or []
        out[str(item["ifname"])] = LinkFacts(str(item["ifname"]), int(item.get("mtu") or 0), "UP" in flags,
                                             "LOWER_UP" in flags, str(item.get("operstate") or "UNKNOWN"))
    return out


def _links_from_sys(lines: list[str]) -> dict[str, LinkFacts]:
    out: dict[str, LinkFacts] = {}
    for line in lines:
        parts = line.split("\t")
        if len(parts) < 4 or not parts[1].isdigit():
            continue
        name, mtu, operstate, flags = parts[:4]
        try:
            admin_up = bool(int(flags, 16) & 0x1)
        except ValueError:
            admin_up = operstate.lower() == "up"
        out[name] = LinkFacts(name, int(mtu), admin_up, operstate.lower() == "up", operstate.upper())
    return out


def facts_from_case_nodes(nodes: dict[str, Any]) -> dict[str, NodeCniFacts]:
    """Facts from the handed cases' shorthand `{node: {interfaces: {ifname: mtu}}}` (no binaries)."""
    out: dict[str, NodeCniFacts] = {}
    for name, data in nodes.items():
        links = {ifname: LinkFacts(ifname, int(mtu)) for ifname, mtu in (data.get("interfaces") or {}).items()}
        out[name] = NodeCniFacts(name, links=links, binaries=None)
    return out
