"""failed-to-find-plugin: `failed to find plugin "<type>" in path [<binDir>]`.

For a plugin (or every plugin the cluster network and the NADs need), on each node: the daemon's
bin dir is a real directory; the plugin is a real executable file there (layout A: not a symlink
whose chain leaves the directory); it answers `CNI_COMMAND=VERSION` with the needed cniVersion;
the k3s bin dir's `multus-shim`/`passthru` resolve. From the cluster: the live DaemonSet's cnibin
hostPath, mountPath and daemon-config `binDir` agree (layout A, B or a mixture), Whereabouts
installs into the same dir, and the Multus log tails are searched for the error.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from runbooklib.checks.binfiles import BinEntry, bin_entry, links_leaving
from runbooklib.checks.evidence import ClusterEvidence, NodeEvidence, primary_conf
from runbooklib.checks.model import (
    FROM_DAEMONSETS,
    REFERENCE_PLUGINS,
    CheckResult,
    Ctx,
    DaemonBinDir,
    Nad,
    daemon_bin_dir,
    daemonset_fix,
    node_finding,
    unreachable_cluster,
    unreachable_node,
)
from runbooklib.manifests.checks_multus import BinLayout, check_multus_bin_dir
from runbooklib.manifests.checks_node import FLANNEL_DELEGATES
from runbooklib.manifests.checks_whereabouts import check_whereabouts_bin_dir
from runbooklib.results import Finding, Severity

CHECK = "failed-to-find-plugin"
ERROR_RE = re.compile(r'failed to find plugin "(?P<plugin>[^"]+)" in path \[(?P<path>[^\]]*)\]')


def needed_plugins(ev: NodeEvidence, nads: Sequence[Nad], plugin: str | None = None) -> dict[str, str]:
    """plugin -> the highest cniVersion a config that uses it asks for ("" when unknown).

    The cluster network's conflist (thick Multus runs its delegates too, C02) plus flannel's own
    delegates, and every NAD's `type` and `ipam.type` (C04)."""
    need: dict[str, str] = {}

    def add(name: str | None, version: str | None) -> None:
        if not name:
            return
        cur = need.get(name, "")
        v = str(version or "")
        need[name] = max(cur, v, key=_vkey)

    conf = primary_conf(ev)
    if conf is not None and conf.state == "ok":
        types = list(conf.data.get("types") or [])
        for t in types:
            add(t, conf.data.get("cniVersion"))
        if "flannel" in types:
            for d in FLANNEL_DELEGATES:
                add(d, conf.data.get("cniVersion"))
    for nad in nads:
        add(nad.plugin_type, nad.cni_version)
        add(nad.ipam_type, nad.cni_version)
    if plugin:
        return {plugin: need.get(plugin, "")}
    return need


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split(".") if p.isdigit()) if v else ()


def _is_link(desc: str | None) -> bool:
    return bool(desc and desc.startswith("symlink"))


def _fix_for(ctx: Ctx, node: str, entry: BinEntry, bin_dir: str) -> tuple[list[str], bool | str]:
    """(fix commands, how it is repaired: True = node prep, a DaemonSet name = restart its pod there)."""
    if entry.name in FROM_DAEMONSETS and entry.state == "missing":
        return daemonset_fix(entry.name), FROM_DAEMONSETS[entry.name]
    if entry.name in REFERENCE_PLUGINS or entry.name == "flannel" or entry.state != "missing":
        return ctx.prep_fix(node, CHECK), True
    return [f"install the {entry.name} CNI plugin as a regular executable file in {bin_dir} on {node} "
            "(Multus does not ship delegate plugins)"], False


def _check_dir(ctx: Ctx, ev: NodeEvidence, dbd: DaemonBinDir) -> list[Finding]:
    view = ev.view
    bd = dbd.bin_dir
    desc = view.describe(bd)
    r = view.resolve(bd)
    ev_ = {"path": bd, "layout": dbd.label}
    if _is_link(desc) and dbd.layout is not BinLayout.B:
        return [node_finding(CHECK, ev.node, f"{bd} is a symlink, not a real directory", Severity.FAIL,
                             f"{'; '.join(r.via)}: a mixture of layout A (the daemon mounts {bd}) and the k3s "
                             f"bin dir; k3s's entries are absolute symlinks into {ctx.k3s.data_dir}/<hash> that do not "
                             "resolve inside the Multus daemon pod (C01)",
                             {**ev_, "chain": list(r.via), "right_value": "real directory (not a symlink)"},
                             ctx.prep_fix(ev.node, CHECK), repair=True)]
    if r.kind != "dir":
        return [node_finding(CHECK, ev.node, f"{bd} is {r.kind}, not a directory", Severity.FAIL,
                             f"the Multus daemon looks every delegate up in {bd}", ev_, ctx.prep_fix(ev.node, CHECK),
                             repair=True)]
    return [node_finding(CHECK, ev.node, f"{bd} is a real directory", Severity.OK, "", ev_, [])]


def _version_problem(ev: NodeEvidence, name: str, needed: str) -> str | None:
    if ev.binaries is None or name not in ev.binaries:
        return None
    b = ev.binaries[name]
    if b.version_exit is None and not b.version_output:
        return None  # not executed (missing / not executable: reported already)
    supported = b.supported_versions
    if supported is None:
        tail = b.version_output.strip().splitlines()[-1:] if b.version_output.strip() else ["(no output)"]
        return f"does not answer CNI_COMMAND=VERSION with JSON (exit {b.version_exit}): {tail[0][:200]}"
    if needed and needed not in supported:
        return (f'incompatible CNI versions; config is "{needed}", plugin supports '
                f"[{' '.join(chr(34) + v + chr(34) for v in supported)}]")
    return None


def check_node_plugins(ctx: Ctx, ev: NodeEvidence, dbd: DaemonBinDir, needed: dict[str, str],
                       logs: Sequence[str] = ()) -> tuple[list[Finding], dict[str, str]]:
    """One node: the bin dir and each needed plugin. Returns findings and plugin -> state."""
    out = _check_dir(ctx, ev, dbd)
    dir_missing = ev.view.resolve(dbd.bin_dir).kind == "missing"
    mounted = (ctx.k3s.data_dir,) if dbd.layout is BinLayout.B else ()
    per_plugin: dict[str, str] = {}
    for name, version in sorted(needed.items()):
        e = bin_entry(ev.view, dbd.bin_dir, name, mounted=mounted)
        problem = None if e.ok else e.describe()
        severity = Severity.FAIL
        if e.state == "link-inside" and dbd.layout is not BinLayout.B:
            problem, severity = e.describe() + "; layout A keeps real files (node prep copies them)", Severity.WARN
        vproblem = _version_problem(ev, name, version) if e.ok else None
        if vproblem:
            problem, severity = vproblem, Severity.FAIL
        per_plugin[name] = "ok" if problem is None else (e.state if not vproblem else "version")
        if e.state == "unknown":
            per_plugin[name] = "unknown"
            continue
        if problem is None or (dir_missing and e.state == "missing"):
            continue  # a missing bin dir is one finding, not one per plugin
        hits = [line for line in logs if f'failed to find plugin "{name}"' in line][-3:]
        fix, repair = _fix_for(ctx, ev.node, e, dbd.bin_dir)
        out.append(node_finding(CHECK, ev.node, f"plugin {name} in {dbd.bin_dir}: {problem.split(';')[0].split(' (')[0]}", severity,
                                f"{e.path} is {problem}" if not vproblem else f"{e.path} {problem}",
                                {"path": e.path, "state": per_plugin[name], "chain": list(e.chain), "final": e.final,
                                 "needed_cniVersion": version, "log_lines": hits, "layout": dbd.label,
                                 "right_value": f"{e.path}: regular executable file"
                                                + (f" supporting cniVersion {version}" if version else "")},
                                fix, repair=repair))
    for e in links_leaving(ev.view, dbd.bin_dir, mounted=mounted):
        if e.name in needed:
            continue  # reported above
        out.append(node_finding(CHECK, ev.node, f"{e.path} is a symlink out of the bin dir", Severity.FAIL,
                                f"{e.path} is {e.describe()}",
                                {"path": e.path, "state": e.state, "chain": list(e.chain), "final": e.final,
                                 "right_value": f"{e.path}: regular executable file (copied with dereference)", "log_lines":
                                 [line for line in logs if f'failed to find plugin "{e.name}"' in line][-3:]},
                                ctx.prep_fix(ev.node, CHECK), repair=True))
    good = sorted(n for n, s in per_plugin.items() if s == "ok")
    if good:
        out.append(node_finding(CHECK, ev.node, f"{len(good)} needed plugin(s) are real executables in {dbd.bin_dir}",
                                Severity.OK, ", ".join(good), {"plugins": good}, []))
    out += check_shim_links(ctx, ev, dbd)
    return out, per_plugin


def check_shim_links(ctx: Ctx, ev: NodeEvidence, dbd: DaemonBinDir) -> list[Finding]:
    """containerd runs `multus-shim` from the k3s bin dir: it must resolve (layout A: a host-side
    link to the copy in /opt/cni/bin; layout B: the file the init container copied there)."""
    out = []
    cbd = ctx.k3s.cni_bin_dir.rstrip("/")
    for name, severity in (("multus-shim", Severity.FAIL), ("passthru", Severity.WARN)):
        path = posixpath.join(cbd, name)
        desc = ev.view.describe(path)
        if desc is None and ev.view.resolve(path).kind == "unknown":
            continue
        r = ev.view.resolve(path)
        expected = posixpath.join(dbd.bin_dir, name)
        base = {"path": path, "chain": list(r.via), "final": r.final, "expected": f"symlink -> {expected}"}
        if r.kind == "file" and (dbd.layout is BinLayout.B or desc == f"symlink -> {expected}"):
            out.append(node_finding(CHECK, ev.node, f"{path} resolves", Severity.OK, " ; ".join(r.via) or "regular file",
                                    base, []))
            continue
        if r.kind == "file":
            out.append(node_finding(CHECK, ev.node, f"{path} is not the link to {expected}", Severity.WARN,
                                    f"{path} is {desc}: it works for containerd now, but goes stale when the Multus "
                                    f"DaemonSet updates {expected}", base, ctx.prep_fix(ev.node, CHECK), repair=True))
            continue
        what = "missing" if desc in (None, "missing") else f"dangling ({' ; '.join(r.via)})"
        in_opt = ev.view.resolve(expected).kind == "file"
        link_ok = desc == f"symlink -> {expected}" or dbd.layout is BinLayout.B
        fix = ([] if in_opt else daemonset_fix(name)) + ([] if link_ok else ctx.prep_fix(ev.node, CHECK))
        detail = (f"{path} is {what}: containerd looks for {name} in {cbd}"
                  + ("; the pod sandbox fails with 'failed to find plugin \"multus-shim\"'" if name == "multus-shim" else "")
                  + ("" if in_opt else f"; {expected} is missing too (the Multus DaemonSet's init container copies it)"))
        f = node_finding(CHECK, ev.node, f"{path} does not resolve", severity, detail, {**base, "target_present": in_opt},
                         fix, repair=True if not link_ok else FROM_DAEMONSETS[name])
        if not in_opt:
            f.evidence["daemonset"] = FROM_DAEMONSETS[name]
        out.append(f)
    return out


def check_daemon(ctx: Ctx, cluster: ClusterEvidence, dbd: DaemonBinDir) -> list[Finding]:
    """The live DaemonSet: cnibin hostPath = mountPath = binDir; Whereabouts installs there too."""
    if not cluster.reachable:
        return [unreachable_cluster(CHECK, cluster, "the Multus DaemonSet's binDir and mounts")]
    if cluster.multus_ds is None:
        return [Finding(CHECK, "no kube-multus-ds DaemonSet in the cluster", Severity.FAIL, "DaemonSet kube-system/kube-multus-ds",
                        "Multus thick is not installed (or not under that name)", {},
                        [f"runbook run install --params {ctx.params_file}"])]
    out = []
    wb = check_whereabouts_bin_dir(cluster.docs(), dbd.bin_dir) if cluster.whereabouts_ds is not None else []
    for f in check_multus_bin_dir(cluster.docs(), ctx.k3s) + wb:
        f.evidence = {**f.evidence, "from": f.check}
        f.check = CHECK
        if f.severity is not Severity.OK:
            f.fix = [*f.fix, f"then: runbook manifests apply --params {ctx.params_file}"]
        out.append(f)
    return out


def check_logs(cluster: ClusterEvidence, bin_dir: str) -> list[Finding]:
    if not cluster.reachable or not cluster.multus_logs:
        return []
    hits = [(m["plugin"], m["path"], line) for line in cluster.log_lines() if (m := ERROR_RE.search(line))]
    n = sum(len(v) for v in cluster.multus_logs.values())
    if not hits:
        return [Finding(CHECK, "no 'failed to find plugin' in the Multus logs", Severity.OK, "pods -l app=multus",
                        f"searched the last {n} log line(s) of {len(cluster.multus_logs)} container(s)", {})]
    plugins = sorted({h[0] for h in hits})
    paths = sorted({h[1] for h in hits})
    other = [p for p in paths if bin_dir not in p.split()]
    detail = (f"{len(hits)} line(s) for {', '.join(plugins)} in path {', '.join('[' + p + ']' for p in paths)}"
              + (f"; searched a different dir than the daemon's {bin_dir} now uses (old config?)" if other else ""))
    return [Finding(CHECK, "Multus logs report 'failed to find plugin'", Severity.WARN, "pods -l app=multus", detail,
                    {"plugins": plugins, "paths": paths, "log_lines": [h[2] for h in hits][-10:]},
                    ["the node findings above say why; after a repair, new pods should not log it again"])]


def check_failed_to_find_plugin(ctx: Ctx, nodes: dict[str, NodeEvidence], cluster: ClusterEvidence,
                                nads: Sequence[Nad], plugin: str | None = None) -> CheckResult:
    """Pure: every finding of the check over gathered (or recorded) evidence."""
    dbd = daemon_bin_dir(cluster, ctx.k3s)
    findings: list[Finding] = check_daemon(ctx, cluster, dbd)
    logs = cluster.log_lines() if cluster.reachable else []
    table: list[dict[str, str]] = []
    for name, ev in nodes.items():
        if not ev.reachable:
            findings.append(unreachable_node(CHECK, ev))
            table.append({"node": name, "status": "unreachable"})
            continue
        needed = needed_plugins(ev, nads, plugin)
        node_findings, per_plugin = check_node_plugins(ctx, ev, dbd, needed, logs)
        findings += node_findings
        table.append({"node": name, **per_plugin})
    findings += check_logs(cluster, dbd.bin_dir)
    notes = [f"daemon bin dir: {dbd.bin_dir} ({dbd.label})"]
    return CheckResult(CHECK, findings, dict(nodes), cluster, notes, {"plugins per node": table})
