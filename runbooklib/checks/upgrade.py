"""upgrade-check: after a k3s upgrade, is the node still as node prep left it, and does a pod attach?

- the reference symlinks are alive: `<k3s bin dir>/multus-shim`, `passthru` and the whereabouts link
  (a k3s upgrade rebuilds `data/cni` and drops them; repair recreates them through node prep);
- `/opt/cni/bin/flannel` is still a copy of the current multicall binary (sha256);
- the bin dir layout: `data/cni` (k3s >= v1.28.15/v1.29.10/v1.30.6/v1.31.2) or only
  `data/current/bin` (older: redeploy after every upgrade); containerd's `bin_dir` if readable
  (C12: stuck on the previous release), and its flannel's VERSION answer vs the conflist;
- nothing references a release-tied dir `data/<hash>/bin` (C09: DaemonSet, 00-multus.conf, NADs, logs);
- Multus >= 4.0 when the cluster conflist's cniVersion is >= 1.0.0 (C13);
- the DaemonSets are ready; a test pod attaches (added by `run_upgrade_check`).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from typing import Any

from runbooklib.checks.evidence import ClusterEvidence, NodeEvidence, primary_conf
from runbooklib.checks.model import (
    CheckResult,
    Ctx,
    Nad,
    daemon_bin_dir,
    node_finding,
    unreachable_cluster,
    unreachable_node,
    version_tuple,
)
from runbooklib.checks.plugins import check_shim_links
from runbooklib.checks.whereabouts import check_link
from runbooklib.manifests.checks_multus import BinLayout
from runbooklib.nad.node_facts import BinaryFacts
from runbooklib.results import Finding, Severity

CHECK = "upgrade-check"
VERSIONED = re.compile(r"(?P<dir>/[\w./-]*?/data/(?!cni\b)(?P<seg>[^/\s\]\"',]+)/bin)\b")
SPECIAL = ("cni", "current", "previous")


def _relabel(findings: list[Finding]) -> list[Finding]:
    for f in findings:
        f.evidence = {**f.evidence, "from": f.check}
        f.check = CHECK
    return findings


def hash_dirs(ev: NodeEvidence, data_dir: str) -> list[str]:
    base = posixpath.normpath(data_dir)
    return sorted(p for p, d in ev.fs.items() if posixpath.dirname(p) == base and posixpath.basename(p) not in SPECIAL
                  and d.startswith("dir"))


def check_flannel_copy(ctx: Ctx, ev: NodeEvidence) -> Finding | None:
    flannel = posixpath.join(ctx.k3s.opt_cni_bin.rstrip("/"), "flannel")
    mc = ctx.k3s.multicall_binary
    have, want = ev.sha256.get(flannel), ev.sha256.get(posixpath.normpath(mc))
    ev_ = {"flannel": flannel, "flannel_sha256": have, "multicall": mc, "multicall_sha256": want}
    if want is None and have is None:
        return None  # not in the evidence (recorded case)
    if want is None:
        return node_finding(CHECK, ev.node, f"multicall binary {mc} not found", Severity.FAIL,
                            "is k3s installed (and started once) on this node?", ev_, [f"ls -l {mc}"])
    if have is None:
        return node_finding(CHECK, ev.node, f"{flannel} is missing", Severity.FAIL,
                            "the Multus daemon runs the cluster network's flannel from its bin dir",
                            ev_, ctx.prep_fix(ev.node, CHECK), repair=True)
    if have != want:
        return node_finding(CHECK, ev.node, f"{flannel} is stale", Severity.FAIL,
                            f"sha256 {have[:12]}… differs from the current multicall binary {want[:12]}… (k3s was upgraded)",
                            ev_, ctx.prep_fix(ev.node, CHECK), repair=True)
    return node_finding(CHECK, ev.node, f"{flannel} matches the current multicall binary", Severity.OK,
                        f"sha256 {want[:12]}…", ev_, [])


def _right_bin_dir(ctx: Ctx) -> dict[str, str]:
    return {"k3s >= v1.28.15+k3s1 / v1.29.10+k3s1 / v1.30.6+k3s1 / v1.31.2+k3s1": ctx.k3s.cni_bin_dir,
            "older k3s": f"{ctx.k3s.data_dir}/current/bin, redeploy plugins after every upgrade"}


def check_layout(ctx: Ctx, ev: NodeEvidence) -> list[Finding]:
    data = ctx.k3s.data_dir.rstrip("/")
    stable = ev.view.resolve(f"{data}/cni")
    current = ev.view.resolve(f"{data}/current")
    ev_ = {"data/cni": stable.kind, "data/current": current.final if current.kind == "dir" else current.kind,
           "params.k3s.cni_bin_dir": ctx.k3s.cni_bin_dir}
    out = []
    if VERSIONED.search(ctx.k3s.cni_bin_dir + "/") and "/data/current/" not in ctx.k3s.cni_bin_dir + "/":
        out.append(node_finding(CHECK, ev.node, f"params k3s.cni_bin_dir {ctx.k3s.cni_bin_dir} is a release-tied dir",
                                Severity.FAIL, "data/<hash>/bin changes with every k3s upgrade (C09)",
                                {**ev_, "right_value": _right_bin_dir(ctx)}, ["set k3s.cni_bin_dir in the params"]))
    if stable.kind == "dir":
        out.append(node_finding(CHECK, ev.node, f"stable CNI bin dir {data}/cni exists", Severity.OK,
                                "k3s >= the October 2024 releases: plugins there survive upgrades", ev_, []))
    elif current.kind == "dir":
        sev = Severity.FAIL if ctx.k3s.cni_bin_dir.rstrip("/") == f"{data}/cni" else Severity.WARN
        out.append(node_finding(CHECK, ev.node, f"no {data}/cni: older k3s layout (data/current/bin)", sev,
                                "plugins and links in data/current/bin are lost on every upgrade: redeploy after each one",
                                {**ev_, "right_value": _right_bin_dir(ctx)},
                                [f"upgrade k3s to >= v1.28.15 (stable {data}/cni), or set k3s.cni_bin_dir to "
                                 f"{data}/current/bin and run node prep after every upgrade"]))
    elif stable.kind != "unknown":
        out.append(node_finding(CHECK, ev.node, f"neither {data}/cni nor {data}/current exists", Severity.FAIL,
                                "k3s has not unpacked its data dir on this node", ev_, ["systemctl status k3s k3s-agent"]))
    return out


def _flannel_versions(cd_version: str | None) -> tuple[str, ...] | None:
    return BinaryFacts("flannel", "", "file", True, version_output=cd_version or "").supported_versions


def check_containerd(ctx: Ctx, ev: NodeEvidence) -> list[Finding]:
    cd = ev.containerd
    if cd is None:
        return []
    data = ctx.k3s.data_dir.rstrip("/")
    ev_: dict[str, Any] = {"path": cd.path, "state": cd.state, "bin_dirs": cd.bin_dirs, "conf_dir": cd.conf_dir,
                           "template": cd.template_exists}
    if cd.state == "missing":
        return [node_finding(CHECK, ev.node, f"no containerd config at {cd.path}: bin_dir not checked", Severity.OK,
                             "k3s writes it when it starts containerd; without it the k3s defaults apply", ev_, [])]
    if cd.state == "unreadable":
        return [node_finding(CHECK, ev.node, f"{cd.path} is not readable", Severity.WARN, "probed without sudo",
                             ev_, ["set the sudo password env var named in the params, or run as root"])]
    if not cd.bin_dirs:
        return [node_finding(CHECK, ev.node, "containerd config sets no CNI bin_dir", Severity.WARN,
                             "containerd then uses /opt/cni/bin (e.g. --flannel-backend=none): multus-shim must be there",
                             ev_, [])]
    current = ev.view.resolve(f"{data}/current").final
    out = []
    for bd in cd.bin_dirs:
        real = ev.view.resolve(bd)
        m = VERSIONED.search(bd.rstrip("/") + "/")
        stale = bool(m) and m.group("seg") not in ("current",) and real.final.rstrip("/") != f"{current}/bin"
        if stale:
            out.append(node_finding(CHECK, ev.node, f"containerd bin_dir {bd} is not the running release's", Severity.FAIL,
                                    f"data/current -> {current}; bin_dir still names {bd} (C12: 'incompatible CNI versions')"
                                    + ("; a config.toml.tmpl exists and may pin it" if cd.template_exists else ""),
                                    {**ev_, "error_match": "incompatible CNI versions",
                                     "right_value": {"bin_dir": f"{ctx.k3s.cni_bin_dir} (or {current}/bin on older k3s)"}},
                                    ["systemctl stop k3s   # or k3s-agent",
                                     f"mv {cd.path}.tmpl /root/config.toml.tmpl.bak   # only if a template pins bin_dir",
                                     f"rm {cd.path}   # k3s regenerates it", "systemctl start k3s"]))
        else:
            out.append(node_finding(CHECK, ev.node, f"containerd bin_dir {bd}", Severity.OK,
                                    f"resolves to {real.final}", ev_, []))
    conf = primary_conf(ev)
    want = str((conf.data if conf else {}).get("cniVersion") or "")
    supported = _flannel_versions(cd.flannel_version) if cd.flannel_version is not None else None
    if cd.flannel_version is not None and want:
        if supported is None or want not in supported:
            out.append(node_finding(CHECK, ev.node, "containerd's flannel does not support the conflist cniVersion",
                                    Severity.FAIL, f'incompatible CNI versions; config is "{want}", plugin supports '
                                    f"{list(supported) if supported else '(no VERSION answer)'}",
                                    {**ev_, "version_output": (cd.flannel_version or "")[-300:]},
                                    ["see the bin_dir finding: point containerd at the running release's plugins"]))
    return out


def _versioned_refs(cluster: ClusterEvidence, nodes: dict[str, NodeEvidence], nads: Sequence[Nad]) -> dict[str, list[str]]:
    """Every place that names a release-tied dir (data/<hash>/bin or data/current/bin)."""
    refs: dict[str, list[str]] = {}

    def scan(where: str, text: str) -> None:
        for m in VERSIONED.finditer(text):
            refs.setdefault(m.group("dir"), []).append(where)

    if cluster.reachable:
        for d in cluster.docs():
            scan(f"{d.get('kind')} {(d.get('metadata') or {}).get('name')}", json.dumps(d.get("spec") or d.get("data") or {}))
        for line in cluster.log_lines():
            if "failed to find plugin" in line:
                scan(f"Multus log: {line[:200]}", line)
    for nad in nads:
        scan(f"NAD {nad.ref}", json.dumps(nad.config or {}))
    for ev in nodes.values():
        for name, conf in ev.cni_confs.items():
            if conf.state == "ok":
                scan(f"{ev.node}:{name}", json.dumps(conf.data))
    return refs


def check_versioned_refs(ctx: Ctx, cluster: ClusterEvidence, nodes: dict[str, NodeEvidence], nads: Sequence[Nad],
                         logs: Sequence[str] = ()) -> list[Finding]:
    refs = _versioned_refs(cluster, nodes, nads)
    for line in logs:
        for m in VERSIONED.finditer(line):
            refs.setdefault(m.group("dir"), []).append(f"log: {line[:200]}")
    out = []
    for d, where in sorted(refs.items()):
        out.append(Finding(CHECK, f"{d} is tied to one k3s release", Severity.FAIL, d,
                           "referenced by " + "; ".join(sorted(set(where))[:5])
                           + " - data/<hash>/bin (and data/current/bin) change with every k3s upgrade (C09)",
                           {"dir": d, "referenced_by": sorted(set(where)), "right_value": _right_bin_dir(ctx)},
                           [f"use {ctx.k3s.opt_cni_bin} for the Multus daemon (layout A) and {ctx.k3s.cni_bin_dir} for "
                            "containerd; never reference data/<hash>/bin",
                            f"runbook manifests apply --params {ctx.params_file}"]))
    for ev in nodes.values():
        out += _leftovers(ctx, ev, refs)
    if not out:
        out.append(Finding(CHECK, "nothing references a release-tied k3s dir", Severity.OK, "cluster",
                           "DaemonSets, daemon config, NADs, Multus conf files and logs checked", {}))
    return out


def _leftovers(ctx: Ctx, ev: NodeEvidence, refs: dict[str, list[str]]) -> list[Finding]:
    """Files someone put into an old data/<hash>/bin that the current release lacks (C09)."""
    if not ev.reachable:
        return []
    data = ctx.k3s.data_dir.rstrip("/")
    current = ev.view.resolve(f"{data}/current").final
    cur_names = {n for n in ev.view.list_dir(f"{current}/bin") if ev.view.describe(f"{current}/bin/{n}") != "missing"}
    out = []
    for h in hash_dirs(ev, data):
        if h == current:
            continue
        extra = sorted(n for n in ev.view.list_dir(f"{h}/bin")
                       if n not in cur_names and ev.view.describe(f"{h}/bin/{n}") not in (None, "missing")
                       and not (ev.view.describe(f"{h}/bin/{n}") or "").startswith("symlink"))
        if not extra:
            continue
        referenced = any(d.startswith(h) for d in refs)
        out.append(node_finding(CHECK, ev.node, f"extra binaries in the old release dir {h}/bin",
                                Severity.FAIL if referenced else Severity.WARN,
                                f"{', '.join(extra)} exist only in {h}/bin, not in the current release {current}/bin"
                                + ("; something still references that dir" if referenced else ""),
                                {"dir": f"{h}/bin", "extra": extra, "current": current,
                                 "right_value": _right_bin_dir(ctx)},
                                [f"install them where they survive upgrades ({ctx.k3s.opt_cni_bin} for the Multus daemon)"]))
    return out


def multus_version(cluster: ClusterEvidence) -> tuple[str, tuple[int, ...] | None]:
    """(image, version) of the kube-multus container; thick images without a version tag count as 4."""
    from runbooklib.manifests.docs import container

    ds = cluster.multus_ds or {}
    c = container(ds, "kube-multus") or {}
    image = str(c.get("image") or "")
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    v = version_tuple(tag)
    if v:
        return image, v
    return image, (4,) if "thick" in image or "thick" in tag else None


def check_multus_cni_version(cluster: ClusterEvidence, nodes: dict[str, NodeEvidence], *, image: str | None = None,
                             conf_versions: Sequence[str] = ()) -> list[Finding]:
    """C13: Multus < 4.0 cannot handle CNI 1.0.0 results (k3s flannel's conflist is 1.0.0)."""
    if image is None:
        if not cluster.reachable or cluster.multus_ds is None:
            return []
        image, version = multus_version(cluster)
    else:
        tag = image.rsplit(":", 1)[1] if ":" in image else ""
        version = version_tuple(tag) or ((4,) if "thick" in image else None)
    versions = list(conf_versions)
    for ev in nodes.values():
        conf = primary_conf(ev)
        if conf is not None and conf.state == "ok" and conf.data.get("cniVersion"):
            versions.append(str(conf.data["cniVersion"]))
        for c in ev.cni_confs.values():
            versions += [str(d.get("cniVersion")) for d in c.data.get("delegates") or [] if d.get("cniVersion")]
    top = max(versions, key=version_tuple, default="")
    ev_ = {"multus_image": image, "multus_version": ".".join(map(str, version)) if version else None,
           "cluster_cniVersion": top}
    if version is None:
        return [Finding(CHECK, f"Multus version unknown from image {image}", Severity.WARN, "DaemonSet kube-multus-ds",
                        "cannot tell whether it handles CNI 1.0.0 results", ev_, ["pin a versioned image, e.g. v4.2.2-thick"])]
    if version < (4,) and version_tuple(top) >= (1, 0, 0):
        return [Finding(CHECK, f"Multus {ev_['multus_version']} cannot handle cniVersion {top} results", Severity.FAIL,
                        "DaemonSet kube-multus-ds",
                        f'Multus 3.x handles results up to 0.4.0; the cluster network uses {top}: pods fail with '
                        f'\'unsupported CNI result version "{top}"\' (C13)',
                        {**ev_, "error_match": f'unsupported CNI result version "{top}"',
                         "right_value": {"multus_version": ">= v4.0 (thick images are v4.x)"}},
                        ["upgrade Multus to v4.2.2 thick (runbook run install); do not lower the k3s conflist cniVersion"])]
    return [Finding(CHECK, f"Multus {ev_['multus_version']} handles cniVersion {top or '(unknown)'}", Severity.OK,
                    "DaemonSet kube-multus-ds", "", ev_)]


def check_daemonsets(cluster: ClusterEvidence) -> list[Finding]:
    out = []
    for d in cluster.daemonsets:
        ready = bool(d.get("is_ready"))
        out.append(Finding(CHECK, str(d.get("line")), Severity.OK if ready else Severity.FAIL,
                           f"DaemonSet {d.get('namespace')}/{d.get('name')}", "", {"daemonset": d},
                           [] if ready else [f"kubectl -n {d.get('namespace')} rollout status daemonset/{d.get('name')}",
                                             f"kubectl -n {d.get('namespace')} logs -l app=multus --tail=50"
                                             if d.get("name") == "kube-multus-ds" else
                                             f"kubectl -n {d.get('namespace')} logs ds/{d.get('name')} --tail=50"]))
    return out


def check_upgrade(ctx: Ctx, nodes: dict[str, NodeEvidence], cluster: ClusterEvidence, nads: Sequence[Nad],
                  logs: Sequence[str] = ()) -> CheckResult:
    """Pure: everything but the test pod."""
    dbd = daemon_bin_dir(cluster, ctx.k3s)
    findings: list[Finding] = []
    if not cluster.reachable:
        findings.append(unreachable_cluster(CHECK, cluster, "DaemonSets, Multus version and the test pod"))
    table = []
    for name, ev in nodes.items():
        if not ev.reachable:
            findings.append(unreachable_node(CHECK, ev))
            table.append({"node": name, "status": "unreachable"})
            continue
        node_f: list[Finding] = []
        node_f += _relabel(check_shim_links(ctx, ev, dbd))
        node_f.append(_relabel([check_link(ctx, ev)])[0])
        if dbd.layout is not BinLayout.B:
            fc = check_flannel_copy(ctx, ev)
            if fc is not None:
                node_f.append(fc)
        node_f += check_layout(ctx, ev)
        node_f += check_containerd(ctx, ev)
        findings += node_f
        table.append({"node": name, **{f.title[:60]: f.severity.value for f in node_f if f.severity is not Severity.OK},
                      "status": max((f.severity for f in node_f), key=["ok", "warn", "fail"].index, default=Severity.OK).value})
    findings += check_versioned_refs(ctx, cluster, nodes, nads, logs)
    findings += check_multus_cni_version(cluster, nodes)
    if cluster.reachable:
        findings += check_daemonsets(cluster)
    return CheckResult(CHECK, findings, dict(nodes), cluster, [f"daemon bin dir: {dbd.bin_dir} ({dbd.label})"],
                       {"nodes": table})
