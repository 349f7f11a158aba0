"""Facts + desired state -> operations per node (pyinfra-style: exact commands, or a no-op reason).

Every operation is one shell script run with `set -e` (one round trip), built only from quoted
paths. Changes are atomic: new content goes to a temp name in the same directory, is verified,
then renamed over the old path (`mv -T`); anything replaced is first copied (or moved) under
`<backup_root>/<stamp>/<original path>`.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace

from runbooklib.nodes.desired import DesiredNode
from runbooklib.nodes.facts import LEFTOVER_PREFIX, NodeFacts, PathFact
from runbooklib.remote.shell import q

PLUGIN_MODE = "0755"


@dataclass
class Operation:
    """One step on one node: what it would run and why (or why nothing)."""

    name: str
    reason: str
    commands: list[str] = field(default_factory=list)
    upload: tuple[str, str] | None = None  # (local file, remote temp path), done before the commands
    error: str = ""  # set when the step cannot be done (the plan says so instead of guessing)
    notes: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.commands) and not self.error

    @property
    def script(self) -> str:
        return "set -e\n" + "\n".join(self.commands) + "\n"

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "reason": self.reason, "changes": self.changes, "commands": self.commands,
                "upload": list(self.upload) if self.upload else None, "error": self.error, "notes": self.notes,
                "depends_on": self.depends_on}


# ---------------------------------------------------------------------------------------------
# small command builders (every path goes through q())


def _backup(d: DesiredNode, pf: PathFact, op: str, *, move: bool = False) -> list[str]:
    """Keep a copy of `pf` (a symlink stays a symlink) under the backup root; `move` for dirs."""
    if not pf.exists:
        return []
    dest = d.backup_path(pf.path, op)
    verb = f"mv -T -- {q(pf.path)} {q(dest)}" if move else f"cp -a -- {q(pf.path)} {q(dest)}"
    return [f"mkdir -p -- {q(posixpath.dirname(dest))}", verb]


def _tmp(d: DesiredNode, directory: str, name: str) -> str:
    return f"{directory}/.runbooklib-tmp-{name}-{d.stamp}"


def _symlink(d: DesiredNode, link: PathFact, target: str, op: str) -> list[str]:
    """ln -sfn, atomically: link to a temp name in the same dir, then rename over the old path."""
    directory = posixpath.dirname(link.path)
    tmp = _tmp(d, directory, posixpath.basename(link.path))
    cmds = _backup(d, link, op, move=link.ltype == "dir")
    return cmds + [f"rm -f -- {q(tmp)}", f"ln -s -- {q(target)} {q(tmp)}", f"mv -T -f -- {q(tmp)} {q(link.path)}"]


def _describe(pf: PathFact) -> str:
    if pf.ltype == "missing":
        return "missing"
    if pf.is_link:
        return f"a symlink -> {pf.link_target}" + (" (dangling)" if pf.dangling else "")
    if pf.ltype == "file":
        return "a regular file" + ("" if pf.executable else " without execute permission")
    if pf.ltype == "dir":
        return "a directory"
    return f"a {pf.ltype}"


# ---------------------------------------------------------------------------------------------
# the operations, in order


def _finishing_swap(facts: NodeFacts, d: DesiredNode) -> bool:
    """/opt/cni/bin is missing and a complete replacement is parked: the plan renames it into place."""
    return facts.path("opt_cni_bin").ltype == "missing" and any(pf.path == d.newdir_ready for pf in facts.leftovers)


def op_leftovers(facts: NodeFacts, d: DesiredNode) -> Operation | None:
    """Temp/stage paths of an interrupted run (runs after opt-cni-bin-dir, which may rename a parked dir)."""
    swap = _finishing_swap(facts, d)
    stale = [pf.path for pf in facts.leftovers if not (swap and pf.path == d.newdir_ready)]
    if swap:
        stale += [f"{d.opt_cni_bin}/{n}" for n in sorted(facts.ready_entries) if n.startswith(LEFTOVER_PREFIX)]
    if not stale:
        return None
    return Operation("cleanup-leftovers", f"{len(stale)} temp/stage path(s) left by an interrupted run",
                     commands=["rm -rf -- " + " ".join(q(p) for p in stale)], depends_on=["opt-cni-bin-dir"] if swap else [])


def op_opt_dir(facts: NodeFacts, d: DesiredNode) -> tuple[Operation, dict[str, PathFact]]:
    """1. /opt/cni/bin is a real directory. Returns the op and the predicted entries afterwards."""
    opt = facts.path("opt_cni_bin")
    name = "opt-cni-bin-dir"
    entries = dict(facts.opt_entries)
    if opt.ltype == "dir":
        return Operation(name, f"{d.opt_cni_bin} is already a real directory"), entries
    if opt.ltype == "missing":
        if _finishing_swap(facts, d):
            parked = {n: replace(pf, path=f"{d.opt_cni_bin}/{n}") for n, pf in facts.ready_entries.items()
                      if not n.startswith(LEFTOVER_PREFIX)}
            return Operation(name, f"{d.opt_cni_bin} is missing and a complete replacement from an interrupted run "
                                   f"is waiting at {d.newdir_ready}: rename it into place",
                             commands=[f"mv -T -- {q(d.newdir_ready)} {q(d.opt_cni_bin)}"]), parked
        return Operation(name, f"{d.opt_cni_bin} is missing: create it",
                         commands=[f"mkdir -p -m 0755 -- {q(d.opt_cni_bin)}"]), {}
    carried = {n: pf for n, pf in entries.items() if pf.dtype == "file"}
    dropped = sorted(n for n, pf in entries.items() if pf.dtype != "file")
    cmds = [f"rm -rf -- {q(d.newdir_partial)} {q(d.newdir_ready)}",
            f"mkdir -m 0755 -- {q(d.newdir_partial)}"]
    if carried and opt.dtype == "dir":
        srcs = " ".join(q(f"{d.opt_cni_bin}/{n}") for n in sorted(carried))
        cmds.append(f"cp -L -p -- {srcs} {q(d.newdir_partial)}/")
    cmds += [f"mv -T -- {q(d.newdir_partial)} {q(d.newdir_ready)}"]
    cmds += [f"mkdir -p -- {q(posixpath.dirname(d.backup_path(d.opt_cni_bin, name)))}",
             f"mv -T -- {q(d.opt_cni_bin)} {q(d.backup_path(d.opt_cni_bin, name))}",
             f"mv -T -- {q(d.newdir_ready)} {q(d.opt_cni_bin)}"]
    op = Operation(name, f"{d.opt_cni_bin} is {_describe(opt)}: replace it by a real directory"
                         + (f", carrying over {len(carried)} file(s) as real files" if carried and opt.dtype == "dir" else ""),
                   commands=cmds)
    op.notes.append(f"the old {d.opt_cni_bin} is kept at {d.backup_path(d.opt_cni_bin, name)}")
    if dropped:
        op.notes.append(f"not carried over (dangling or not a file): {', '.join(dropped)}")
    predicted = {n: replace(pf, path=f"{d.opt_cni_bin}/{n}", ltype="file", link_target="", realpath=f"{d.opt_cni_bin}/{n}")
                 for n, pf in carried.items()} if opt.dtype == "dir" else {}
    return op, predicted


def op_plugins(entries: dict[str, PathFact], d: DesiredNode) -> Operation:
    """2. every plugin of the release is a real executable file with the release's sha256."""
    name = "cni-plugins"
    if d.bundle is None:
        return Operation(name, "the plugin release could not be used", error=d.bundle_error or "no plugin bundle")
    todo: list[tuple[str, str]] = []
    for pname, member in sorted(d.plugins.items()):
        cur = entries.get(pname) or PathFact.missing(f"{d.opt_cni_bin}/{pname}")
        if cur.real_exec_file and cur.sha256 == member.sha256:
            continue
        if cur.real_exec_file and cur.sha256 == "unreadable":
            why = "unreadable without sudo"
        elif cur.ltype == "file" and cur.executable:
            why = "differs from the release"
        else:
            why = _describe(cur)
        todo.append((pname, why))
    op = Operation(name, "", notes=list(d.plugin_warnings), depends_on=["opt-cni-bin-dir"])
    if not todo:
        op.reason = f"all {len(d.plugins)} plugins of {posixpath.basename(d.bundle.source)} are installed as real executable files"
        return op
    op.reason = f"install {len(todo)} of {len(d.plugins)} plugins: " + ", ".join(f"{n} ({w})" for n, w in todo)
    remote_tgz = f"/tmp/runbooklib-plugins-{d.node or 'node'}-{d.bundle.sha256[:12]}-{d.stamp}.tgz"
    stage = f"{d.opt_cni_bin}/.runbooklib-stage-{d.stamp}"
    op.upload = (str(d.bundle.tarball), remote_tgz)
    members = [d.plugins[n] for n, _ in todo]
    sums = "".join(f"{m.sha256}  {m.name}\\n" for m in members)
    cmds = [
        f"printf '%s  %s\\n' {q(d.bundle.sha256)} {q(remote_tgz)} | sha256sum -c --quiet -",
        f"rm -rf -- {q(stage)}",
        f"mkdir -m 0700 -- {q(stage)}",
        f"tar -xzf {q(remote_tgz)} -C {q(stage)} --no-same-owner -- " + " ".join(q(m.member) for m in members),
    ]
    cmds += [f"mv -T -- {q(stage + '/' + posixpath.normpath(m.member))} {q(stage + '/' + m.name)}"
             for m in members if posixpath.normpath(m.member) != m.name]
    cmds.append(f"(cd {q(stage)} && printf {q(sums)} | sha256sum -c --quiet -)")
    existing = [entries[n] for n, _ in todo if n in entries]
    if existing:
        bdir = posixpath.dirname(d.backup_path(existing[0].path, name))
        cmds += [f"mkdir -p -- {q(bdir)}", "cp -a -- " + " ".join(q(pf.path) for pf in existing) + f" {q(bdir)}/"]
    for m in members:
        cmds.append(f"chmod {PLUGIN_MODE} -- {q(stage + '/' + m.name)} && mv -T -f -- {q(stage + '/' + m.name)} "
                    f"{q(d.opt_cni_bin + '/' + m.name)}")
    cmds.append(f"rm -rf -- {q(stage)} {q(remote_tgz)}")
    op.commands = cmds
    return op


def op_flannel(facts: NodeFacts, entries: dict[str, PathFact], d: DesiredNode) -> Operation:
    """3. /opt/cni/bin/flannel is a real copy of the k3s multicall binary."""
    name = "flannel-copy"
    mc = facts.path("multicall")
    if mc.dtype != "file":
        return Operation(name, "", depends_on=["opt-cni-bin-dir"],
                         error=f"k3s multicall binary {d.multicall} is {_describe(mc)}: is k3s installed on this node?")
    cur = entries.get("flannel") or PathFact.missing(d.flannel)
    unknown = mc.sha256 in ("", "unreadable")
    if cur.real_exec_file and cur.sha256 == mc.sha256 and not unknown:
        return Operation(name, f"{d.flannel} is a real copy of {d.multicall} (sha256 {mc.sha256[:12]}…)",
                         depends_on=["opt-cni-bin-dir"])
    if unknown:
        why = f"{d.multicall} could not be read without sudo; copy it to be sure"
    elif cur.real_exec_file:
        why = f"{d.flannel} is stale ({cur.sha256[:12]}…, multicall binary is {mc.sha256[:12]}…): refresh it"
    else:
        why = f"{d.flannel} is {_describe(cur)}: copy the multicall binary there"
    tmp = _tmp(d, d.opt_cni_bin, "flannel")
    cmds = _backup(d, cur, name) + [
        f"cp -L -- {q(d.multicall)} {q(tmp)}",
        f"chmod {PLUGIN_MODE} -- {q(tmp)}",
    ]
    if not unknown:
        cmds.append(f"printf '%s  %s\\n' {q(mc.sha256)} {q(tmp)} | sha256sum -c --quiet - || "
                    f"{{ rm -f -- {q(tmp)}; echo 'multicall binary changed while copying; run again' >&2; exit 1; }}")
    cmds.append(f"mv -T -f -- {q(tmp)} {q(d.flannel)}")
    return Operation(name, why, commands=cmds, depends_on=["opt-cni-bin-dir"])


def op_other_links(entries: dict[str, PathFact], d: DesiredNode) -> Operation | None:
    """Part of 1/C01: no symlink in /opt/cni/bin may point outside it; resolve them into real files."""
    managed = set(d.plugins) | {"flannel"}
    links = {n: pf for n, pf in entries.items() if pf.is_link and n not in managed}
    if not links:
        return None
    op = Operation("opt-cni-bin-real-files", "", depends_on=["opt-cni-bin-dir"])
    fixable = {n: pf for n, pf in links.items() if pf.dtype == "file"}
    dangling = sorted(n for n, pf in links.items() if pf.dtype != "file")
    if dangling:
        op.notes.append(f"left alone, cannot be resolved: {', '.join(dangling)} (dangling or not a file)")
    if not fixable:
        op.reason = "no symlink in the plugin dir that can be turned into a real file"
        return op
    op.reason = ("replace symlinks by real copies (the thick daemon cannot follow them): "
                 + ", ".join(f"{n} -> {pf.link_target}" for n, pf in sorted(fixable.items())))
    for _n, pf in sorted(fixable.items()):
        tmp = _tmp(d, d.opt_cni_bin, pf.name)
        op.commands += _backup(d, pf, op.name) + [f"cp -L -p -- {q(pf.path)} {q(tmp)}", f"mv -T -f -- {q(tmp)} {q(pf.path)}"]
    return op


def op_shim_link(facts: NodeFacts, d: DesiredNode, link_name: str) -> Operation:
    """4. <k3s cni bin dir>/<multus-shim|passthru> -> /opt/cni/bin/<same>."""
    name = f"{link_name}-link"
    target = d.shim_links[link_name]
    cur = facts.path("multus_shim" if link_name == "multus-shim" else "passthru")
    dangling_note = (f"{cur.path} dangles until the Multus daemonset's init container copies {link_name} "
                     f"into {d.opt_cni_bin} (expected before Multus is installed)")
    if cur.is_link and cur.link_target == target:
        op = Operation(name, f"{cur.path} is already a symlink to {target}")
        if cur.dangling:
            op.notes.append(dangling_note)
        return op
    cmds: list[str] = []
    cbd = facts.path("cni_bin_dir")
    if cbd.dtype != "dir":
        cmds.append(f"mkdir -p -- {q(d.cni_bin_dir)}")
    cmds += _symlink(d, cur if cur.exists else PathFact.missing(f"{d.cni_bin_dir}/{link_name}"), target, name)
    op = Operation(name, f"{d.cni_bin_dir}/{link_name} is {_describe(cur)}: link it to {target}", commands=cmds)
    if facts.opt_entries.get(link_name) is None:
        op.notes.append(dangling_note)
    if cbd.dtype != "dir":
        op.notes.append(f"{d.cni_bin_dir} did not exist yet (has k3s run on this node?)")
    return op


def op_whereabouts(facts: NodeFacts, d: DesiredNode) -> Operation:
    """5. /etc/cni/net.d/whereabouts.d -> <k3s conf dir>/whereabouts.d (target and parent created)."""
    name = "whereabouts-link"
    link, target, parent = facts.path("wb_link"), facts.path("wb_target"), facts.path("wb_parent")
    if target.exists and target.dtype != "dir":
        return Operation(name, "", error=f"{d.wb_target} is {_describe(target)}, not a directory: fix it by hand")
    cmds: list[str] = []
    notes: list[str] = []
    if target.dtype != "dir":
        cmds.append(f"mkdir -p -m 0755 -- {q(d.wb_target)}")
        notes.append(f"created {d.wb_target} (the Whereabouts daemonset writes its config there)")
    if link.is_link and link.link_target == d.wb_target:
        if not cmds:
            return Operation(name, f"{d.wb_link} is already a symlink to {d.wb_target}")
        return Operation(name, f"{d.wb_link} links to {d.wb_target}, which is missing: create it", commands=cmds, notes=notes)
    if link.dtype == "dir" and target.dtype == "dir" and link.realpath and link.realpath == target.realpath:
        return Operation(name, f"{d.wb_link} already resolves to {d.wb_target} (through a symlinked parent)")
    if parent.dtype != "dir":
        cmds.append(f"mkdir -p -m 0755 -- {q(posixpath.dirname(d.wb_link))}")
    cmds += _symlink(d, link if link.exists else PathFact.missing(d.wb_link), d.wb_target, name)
    if link.ltype == "dir":
        notes.append(f"the old directory {d.wb_link} and its contents are kept at {d.backup_path(d.wb_link, name)}")
    return Operation(name, f"{d.wb_link} is {_describe(link)}: link it to {d.wb_target}", commands=cmds, notes=notes)


def plan_node(facts: NodeFacts, d: DesiredNode) -> list[Operation]:
    """Every node-prep operation for one node, in execution order (no-ops included, with their reason)."""
    dir_op, entries = op_opt_dir(facts, d)
    ops: list[Operation] = [dir_op]
    if (left := op_leftovers(facts, d)) is not None:
        ops.append(left)
    ops.append(op_plugins(entries, d))
    ops.append(op_flannel(facts, entries, d))
    if (links_op := op_other_links(entries, d)) is not None:
        ops.append(links_op)
    ops += [op_shim_link(facts, d, n) for n in d.shim_links]
    ops.append(op_whereabouts(facts, d))
    return ops
