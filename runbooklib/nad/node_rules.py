"""Rules that need node facts: master present and up, mtu <= master MTU, plugin and IPAM binaries
real files that support the NAD's cniVersion. Pure over `NodeCniFacts` (recorded or probed).

Every rule's finding carries `per_node` (node → "ok" or the problem) so a report shows all nodes.
An unreachable node is a `fail` with status `unreachable`, never a pass.
"""

from __future__ import annotations

from runbooklib.nad.config_rules import ParsedNad
from runbooklib.nad.findings import RuleBook
from runbooklib.nad.node_facts import NodeCniFacts
from runbooklib.results import Finding, Status


def validate_on_nodes(nad: ParsedNad, facts: dict[str, NodeCniFacts]) -> list[Finding]:
    """All node rules for one NAD over the nodes it may land on (`facts` keys)."""
    book = RuleBook(nad.ref)
    if nad.config is None:
        return []
    reachable = {n: f for n, f in facts.items() if f.reachable}
    book.ran("node.reachable", f"{len(facts)} node(s) answered")
    for name, f in facts.items():
        if not f.reachable:
            book.fail("node.reachable", f"node {name}", f"unreachable: {f.error}; its NIC and binaries were not checked",
                      "fix SSH to the node, or run with --offline to skip node checks", node=name, status=Status.UNREACHABLE.value)
    master_ok = _master(nad, reachable, book)
    _mtu(nad, {n: f for n, f in reachable.items() if n in master_ok}, book)
    _binaries(nad, reachable, book)
    return book.finish()


def _master(nad: ParsedNad, facts: dict[str, NodeCniFacts], book: RuleBook) -> set[str]:
    master = nad.master
    if master is None:
        return set()
    per_node: dict[str, str] = {}
    for name, f in facts.items():
        link = f.links.get(master)
        if link is None:
            per_node[name] = f"missing {master}"
        elif not link.up:
            per_node[name] = f"{master} is down (operstate {link.operstate})"
        else:
            per_node[name] = "ok"
    good = sorted(n for n, s in per_node.items() if s == "ok")
    book.ran("node.master", f"master {master} exists and is up on {len(good)}/{len(per_node)} node(s)")
    bad = {n: s for n, s in per_node.items() if s != "ok"}
    if bad:
        missing = sorted(n for n, s in bad.items() if s.startswith("missing"))
        right = (f"master exists on every node the pod can land on (nodeSelector/affinity to {','.join(good)}) "
                 "or consistent interface naming")
        what = "; ".join(f"{n}: {s}" for n, s in sorted(bad.items()))
        book.fail("node.master", "spec.config.master",
                  f"master interface {master} not usable on {len(bad)} node(s) ({what}); pods scheduled there cannot get the "
                  "attachment" + (" (macvlan: Link not found)" if missing else ""),
                  [right, "the macvlan plugin needs the same interface name on all nodes: rename the NIC "
                   "(systemd .link file) or restrict scheduling", "bring the interface up (ip link set dev "
                   f"{master} up) where it is down"],
                  per_node=per_node, nodes_with_master=good, right_value=right)
    return {n for n, s in per_node.items() if s == "ok"}


def _mtu(nad: ParsedNad, facts: dict[str, NodeCniFacts], book: RuleBook) -> None:
    master, mtu = nad.master, nad.mtu
    if master is None or mtu is None or not facts:
        return
    per_node: dict[str, str] = {}
    master_mtus: dict[str, int] = {}
    for name, f in facts.items():
        link_mtu = f.links[master].mtu
        master_mtus[name] = link_mtu
        per_node[name] = "ok" if 0 <= mtu <= link_mtu else f"mtu {mtu} > master mtu {link_mtu}"
    book.ran("node.mtu", f"mtu {mtu} <= {master} MTU on every node")
    bad = {n: s for n, s in per_node.items() if s != "ok"}
    if bad:
        lowest = min(master_mtus.values())
        right = f"<= {lowest} (minimum master MTU over target nodes) or omit to inherit the master MTU"
        book.fail("node.mtu", "spec.config.mtu",
                  f"mtu {mtu} is above the master MTU on {', '.join(sorted(bad))}: macvlan fails with "
                  f"'invalid MTU {mtu}, must be [0, master MTU({master_mtus[sorted(bad)[0]]})]'",
                  [f"set mtu {right}", f"or raise {master}'s MTU on {', '.join(sorted(bad))}",
                   "or keep the pods off those nodes"],
                  per_node=per_node, master_mtu=master_mtus, right_value={"mtu": right})


def _binaries(nad: ParsedNad, facts: dict[str, NodeCniFacts], book: RuleBook) -> None:
    wanted = [(rule, name) for rule, name in (("node.plugin", nad.plugin_type), ("node.ipam", nad.ipam_type)) if name]
    version = nad.cni_version
    for rule, binary in wanted:
        per_node: dict[str, str] = {}
        versions: dict[str, str] = {}
        supported_sets: list[set[str]] = []
        for node, f in facts.items():
            if f.binaries is None:
                continue
            b = f.binaries.get(binary)
            path = f"{f.bin_dir.rstrip('/')}/{binary}"
            if b is None or b.kind == "missing":
                per_node[node] = f"missing {path}"
            elif b.kind == "symlink" and b.target_kind != "file":
                per_node[node] = f"{path} is a dangling symlink -> {b.link_target}"
            elif b.kind not in ("file", "symlink"):
                per_node[node] = f"{path} is a {b.kind}, not a file"
            elif not b.executable:
                per_node[node] = f"{path} is not executable"
            elif b.kind == "symlink":
                per_node[node] = f"symlink -> {b.link_target}"
            else:
                per_node[node] = "ok"
            if per_node[node] in ("ok",) or per_node[node].startswith("symlink"):
                supported = b.supported_versions if b else None
                if supported is not None:
                    supported_sets.append(set(supported))
                if supported is None:
                    versions[node] = f"no VERSION answer (exit {b.version_exit if b else None}): {(b.version_output if b else '')[-200:]}"
                elif version is not None and version not in supported:
                    versions[node] = f"cniVersion {version} not supported (supports {', '.join(supported)})"
                else:
                    versions[node] = "ok"
        if not per_node:
            continue
        book.ran(rule, f"{binary} is a real file in the CNI bin dir on every node")
        bad = {n: s for n, s in per_node.items() if s != "ok" and not s.startswith("symlink")}
        links = {n: s for n, s in per_node.items() if s.startswith("symlink")}
        field = "spec.config.type" if rule == "node.plugin" else "spec.config.ipam.type"
        if bad:
            book.fail(rule, field, f"plugin {binary} is not usable on {', '.join(sorted(bad))}: "
                      + "; ".join(f"{n}: {s}" for n, s in sorted(bad.items())),
                      ["install it as a regular executable file (containernetworking/plugins v1.6.2 for macvlan; "
                       "the whereabouts daemonset installs whereabouts)", "see the plugins runbook (failed to find plugin)"],
                      per_node=per_node)
        elif links:
            book.warn(rule, field, f"{binary} is a symlink on {', '.join(sorted(links))}; the thick daemon looks it up inside "
                      "its container, where an absolute target may not exist", "install a regular file instead of a symlink",
                      per_node=per_node)
        if versions:
            book.ran(f"{rule}.version", f"{binary} supports cniVersion {version} on every node")
            vbad = {n: s for n, s in versions.items() if s != "ok"}
            common = _highest_common(supported_sets)
            if vbad:
                book.fail(f"{rule}.version", "spec.config.cniVersion",
                          f"{binary} does not accept cniVersion {version} on {', '.join(sorted(vbad))}: "
                          + "; ".join(f"{n}: {s}" for n, s in sorted(vbad.items())),
                          [f"set cniVersion {common}" if common else "use a cniVersion every node's plugin supports",
                           f"or upgrade {binary} on those nodes"],
                          per_node=versions, right_value={"cniVersion": common})


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in v.split("."))


def _highest_common(sets: list[set[str]]) -> str | None:
    if not sets:
        return None
    common = set.intersection(*sets)
    return max(common, key=_version_key) if common else None
