"""config-not-found: `error adding container to network "<nad>": config file not found`.

Whereabouts (running on the host, chrooted by the Multus daemon) looks for its flat file at, in
order: the NAD's `ipam.configuration_path`, `/etc/kubernetes/cni/net.d/whereabouts.d/whereabouts.conf`,
`/etc/cni/net.d/whereabouts.d/whereabouts.conf`, `/host/etc/cni/net.d/whereabouts.d/whereabouts.conf`;
the first that exists wins (upstream-facts §3.1). On k3s the installer writes it into the k3s conf
dir's `whereabouts.d`, so either `/etc/cni/net.d/whereabouts.d` links there (node prep, layout A)
or every NAD names the k3s paths. The kubeconfig the winning file (or the NAD) names must resolve
on the host too (C06).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import Any

from runbooklib.checks.evidence import WB_DEFAULT_SEARCH, ClusterEvidence, NodeEvidence
from runbooklib.checks.model import CheckResult, Ctx, Nad, node_finding, unreachable_cluster, unreachable_node
from runbooklib.results import Finding, Severity

CHECK = "config-not-found"
ANY_NAD = "(a NAD without configuration_path)"


def search_paths(nad: Nad | None) -> list[str]:
    first = [str(nad.ipam["configuration_path"])] if nad is not None and nad.ipam.get("configuration_path") else []
    return first + list(WB_DEFAULT_SEARCH)


def explain_order(paths: Sequence[str], has_cp: bool, winner: str | None) -> str:
    labels = [f"{i + 1}. {p}" + (" (ipam.configuration_path)" if has_cp and i == 0 else "")
              + (" <- used" if p == winner else "") for i, p in enumerate(paths)]
    return "whereabouts tries, in order (first that exists wins): " + "; ".join(labels)


def _right_values(ctx: Ctx) -> dict[str, Any]:
    k = ctx.k3s
    return {"option_1": {k.whereabouts_link: f"symlink -> {k.whereabouts_target}"},
            "option_2": {"ipam.configuration_path": f"{k.whereabouts_target}/whereabouts.conf",
                         "ipam.kubernetes.kubeconfig": f"{k.whereabouts_target}/whereabouts.kubeconfig"}}


def check_link(ctx: Ctx, ev: NodeEvidence) -> Finding:
    k = ctx.k3s
    link, target = k.whereabouts_link.rstrip("/"), k.whereabouts_target
    view = ev.view
    desc = view.describe(link)
    r, t = view.resolve(link), view.resolve(target)
    base = {"path": link, "expected": f"symlink -> {target}", "chain": list(r.via), "final": r.final}
    if desc == f"symlink -> {target}" and t.kind == "dir":
        return node_finding(CHECK, ev.node, f"{link} -> {target}", Severity.OK, "the node-prep link is in place", base, [])
    if r.kind == "dir" and r.final == t.final and t.kind == "dir":
        return node_finding(CHECK, ev.node, f"{link} resolves to {target} through a linked parent", Severity.OK,
                            f"{' ; '.join(r.via)} (the k3s-io/docs #341 variant: /etc/cni linked to the k3s dir)", base, [])
    if desc is not None and desc.startswith("dir"):
        return node_finding(CHECK, ev.node, f"{link} is a real directory, not a link to {target}", Severity.WARN,
                            f"whereabouts reads the files in it, but the installer keeps writing the k3s dir {target}: "
                            "they drift apart (stale token in the kubeconfig)", base, ctx.prep_fix(ev.node, CHECK), repair=True)
    what = ("missing" if r.kind == "missing" and not r.via else
            f"a link that does not resolve to {target} ({' ; '.join(r.via) or desc})")
    return node_finding(CHECK, ev.node, f"{link} is {what.split(' (')[0]}", Severity.FAIL,
                        f"{link} is {what}; /etc/cni/net.d/whereabouts.d/whereabouts.conf (search path 3) is then "
                        "not there", {**base, "right_value": _right_values(ctx)}, ctx.prep_fix(ev.node, CHECK), repair=True)


def _kubeconfig_finding(ctx: Ctx, ev: NodeEvidence, nad: Nad | None, winner: str, ref: str) -> Finding:
    conf = ev.wb_confs.get(winner)
    nad_kc = ((nad.ipam.get("kubernetes") or {}) if nad else {}).get("kubeconfig") if nad else None
    target = f"{ev.node}:{ref}"
    if conf is None or conf.state == "missing":
        return node_finding(CHECK, target, f"{winner} was not read", Severity.WARN, "not in the evidence", {"path": winner}, [])
    if conf.state == "unreadable":
        return node_finding(CHECK, target, f"{winner} exists but could not be read", Severity.WARN,
                            "the probe ran without sudo (mode 600 file): its kubeconfig path is unchecked",
                            {"path": winner}, ["set the sudo password env var named in the params, or run as root"])
    if conf.state == "invalid":
        return node_finding(CHECK, target, f"{winner} is not valid JSON", Severity.FAIL, conf.error,
                            {"path": winner, "error": conf.error},
                            ["kubectl -n kube-system rollout restart daemonset/whereabouts   # its installer rewrites the file"])
    kc = nad_kc or conf.data.get("kubeconfig") or ""
    source = "the NAD's ipam.kubernetes.kubeconfig" if nad_kc else f"{winner}"
    ev_ = {"path": winner, "kubeconfig": kc, "kubeconfig_from": source, "datastore": conf.data.get("datastore")}
    if not kc:
        return node_finding(CHECK, target, "no kubeconfig configured for whereabouts", Severity.FAIL,
                            "whereabouts fails with 'you have not configured the storage engine (looks like you're using "
                            "an invalid `kubernetes.kubeconfig` parameter in your config)'", ev_,
                            ["kubectl -n kube-system rollout restart daemonset/whereabouts   # regenerates whereabouts.conf"])
    r = ev.view.resolve(kc)
    ev_.update(chain=list(r.via), final=r.final)
    if r.kind == "file":
        return node_finding(CHECK, target, f"kubeconfig {kc} resolves on the host", Severity.OK,
                            f"named by {source}" + (f"; via {' ; '.join(r.via)}" if r.via else ""), ev_, [])
    if r.kind == "unknown":
        return node_finding(CHECK, target, f"kubeconfig {kc} was not probed", Severity.WARN, "", ev_, [])
    k = ctx.k3s
    return node_finding(CHECK, target, f"kubeconfig {kc} does not resolve on the host", Severity.FAIL,
                        f"{source} names {kc}, which is {r.kind} on {ev.node}"
                        + (f" (via {' ; '.join(r.via)})" if r.via else "")
                        + "; whereabouts cannot create its Kubernetes client (C06)",
                        {**ev_, "right_value": f"{k.whereabouts_target}/whereabouts.kubeconfig, reachable as {kc}"},
                        ctx.prep_fix(ev.node, CHECK) if kc.startswith(k.whereabouts_link.rstrip("/") + "/") else
                        [f"set ipam.kubernetes.kubeconfig to {k.whereabouts_target}/whereabouts.kubeconfig in {ref}"],
                        repair=kc.startswith(k.whereabouts_link.rstrip("/") + "/"))


def check_nad_on_node(ctx: Ctx, ev: NodeEvidence, nad: Nad | None) -> list[Finding]:
    ref = nad.ref if nad else ANY_NAD
    paths = search_paths(nad)
    has_cp = bool(nad and nad.ipam.get("configuration_path"))
    kinds = {p: ev.view.resolve(p).kind for p in paths}
    winner = next((p for p in paths if kinds[p] in ("file", "dir")), None)
    order = explain_order(paths, has_cp, winner)
    target = f"{ev.node}:{ref}"
    ev_: dict[str, Any] = {"nad": ref, "searched_paths": paths, "kinds": kinds, "winner": winner}
    out: list[Finding] = []
    if winner is None:
        k = ctx.k3s
        out.append(node_finding(CHECK, target, "whereabouts.conf not found at any path whereabouts searches", Severity.FAIL,
                                f"pods using {ref} on {ev.node} fail with 'config file not found'. {order}",
                                {**ev_, "error_match": "config file not found", "right_value": _right_values(ctx)},
                                [*ctx.prep_fix(ev.node, CHECK),
                                 f"# or, in every NAD: \"configuration_path\": \"{k.whereabouts_target}/whereabouts.conf\", "
                                 f"\"kubernetes\": {{\"kubeconfig\": \"{k.whereabouts_target}/whereabouts.kubeconfig\"}}"],
                                repair=True))
        return out
    if has_cp and winner != paths[0]:
        out.append(node_finding(CHECK, target, f"configuration_path {paths[0]} does not exist on {ev.node}", Severity.WARN,
                                f"whereabouts falls back to {winner}. {order}", ev_,
                                [f"fix ipam.configuration_path in {ref} (e.g. {ctx.k3s.whereabouts_target}/whereabouts.conf)"]))
    if kinds[winner] == "dir":
        out.append(node_finding(CHECK, target, f"{winner} is a directory", Severity.FAIL,
                                f"whereabouts takes the first path that exists, and then cannot read it as a file. {order}",
                                ev_, [f"configuration_path must name the file, e.g. {winner.rstrip('/')}/whereabouts.conf"]))
        return out
    r = ev.view.resolve(winner)
    expected = ev.view.resolve(f"{ctx.k3s.whereabouts_target}/whereabouts.conf").final
    if r.final != expected and ev.view.resolve(expected).kind == "file":
        out.append(node_finding(CHECK, target, f"an earlier search path wins: {winner}", Severity.WARN,
                                f"{winner} (-> {r.final}) shadows the file the installer keeps current ({expected}). {order}",
                                ev_, [f"remove or fix {winner} on {ev.node}, or set configuration_path in {ref}"]))
    else:
        out.append(node_finding(CHECK, target, f"whereabouts finds {winner}", Severity.OK, order,
                                {**ev_, "final": r.final, "chain": list(r.via)}, []))
    out.append(_kubeconfig_finding(ctx, ev, nad, winner, ref))
    return out


def check_config_not_found(ctx: Ctx, nodes: dict[str, NodeEvidence], cluster: ClusterEvidence,
                           nads: Sequence[Nad]) -> CheckResult:
    """Pure: the link, then per NAD using whereabouts and per node: which file, and its kubeconfig."""
    findings: list[Finding] = []
    if not cluster.reachable:
        findings.append(unreachable_cluster(CHECK, cluster, "the live NADs (only the params' NADs are)"))
    wb_nads: list[Nad | None] = [n for n in nads if n.ipam_type == "whereabouts"]
    notes = []
    if not wb_nads:
        wb_nads = [None]
        notes.append("no NAD uses whereabouts: checked the default search paths")
    table = []
    for name, ev in nodes.items():
        if not ev.reachable:
            findings.append(unreachable_node(CHECK, ev))
            table.append({"node": name, "link": "unreachable"})
            continue
        link = check_link(ctx, ev)
        findings.append(link)
        row = {"node": name, "link": link.severity.value}
        for nad in wb_nads:
            fs = check_nad_on_node(ctx, ev, nad)
            findings += fs
            winner = next((f.evidence.get("winner") for f in fs if "winner" in f.evidence), None)
            row[nad.ref if nad else ANY_NAD] = posixpath.normpath(winner) if winner else "NOT FOUND"
        table.append(row)
    return CheckResult(CHECK, findings, dict(nodes), cluster, notes, {"whereabouts.conf used per node": table})
