"""`runbook manifests patch|diff|apply`: the upstream Multus thick + Whereabouts manifests for k3s."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from runbooklib.manifests import ManifestPatchError, PreparedManifests, prepare_manifests, sed_command, write_patched
from runbooklib.manifests.patch import multus_rules, whereabouts_rules
from runbooklib.params import load_params
from runbooklib.results import Finding, Severity

EXIT_OK, EXIT_FOUND = 0, 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("manifests", help="patch, diff and apply the Multus thick + Whereabouts manifests for k3s")
    msub = p.add_subparsers(dest="manifests_command", metavar="ACTION")
    msub.required = True
    for name, help_text, func in (("patch", "patch + verify; write the files to --out", _patch),
                                  ("diff", "unified diff upstream -> patched", _diff),
                                  ("apply", "create-or-update every object, then wait for the DaemonSets", _apply)):
        a = msub.add_parser(name, help=help_text)
        a.add_argument("--params", required=True, help="params YAML file, e.g. params/homelab.yaml")
        a.add_argument("--multus-manifest", help="local Multus thick manifest instead of the params' source")
        a.add_argument("--whereabouts-manifest", help="local Whereabouts daemonset manifest instead of the params' source")
        a.add_argument("--pin-images", action="store_true",
                       help="replace moving image tags (snapshot-thick, latest) with the release tags of params.versions")
        a.add_argument("--json", action="store_true", help="print the result as JSON")
        a.add_argument("--cache-dir", type=Path, help="download cache (default ~/.cache/runbooklib/artifacts)")
        if name == "patch":
            a.add_argument("--out", type=Path, help="directory for the patched files (nothing written without it)")
        if name == "apply":
            a.add_argument("--dry-run", action="store_true", help="show what would be created/updated; write nothing")
            a.add_argument("--no-wait", action="store_true", help="do not wait for the DaemonSets")
            a.add_argument("--timeout", type=float, default=300.0, help="rollout wait in seconds (default 300)")
        a.set_defaults(func=func)


def _prepare(args: argparse.Namespace) -> PreparedManifests:
    params = load_params(args.params, require_files=False)
    return prepare_manifests(params, multus_manifest=args.multus_manifest, whereabouts_manifest=args.whereabouts_manifest,
                             pin_images=args.pin_images, cache_dir=args.cache_dir)


def _refused(args: argparse.Namespace, e: ManifestPatchError) -> int:
    if args.json:
        print(json.dumps({"refused": True, "manifest": e.manifest, "problems": e.problems, "written": []}, indent=2))
    else:
        print(f"error: {e}", file=sys.stderr)
    return EXIT_FOUND


def _print_findings(findings: list[Finding]) -> None:
    for f in findings:
        if f.severity is Severity.OK:
            continue
        print(f"  [{f.severity.value.upper()}] {f.check}: {f.title} ({f.target})")
        if f.detail:
            print(f"      {f.detail}")
        for fix in f.fix:
            print(f"      fix: {fix}")


def _print_verification(pm: PreparedManifests, params_file: str) -> None:
    params = load_params(params_file, require_files=False)
    for res, rules in ((pm.multus, multus_rules(params.k3s)), (pm.whereabouts, whereabouts_rules(params.k3s))):
        print(f"{res.name}: verified")
        print(f"  equivalent: {sed_command(rules, res.name, res.name + '.k3s')}")
        for h in res.hits:
            print(f"  rule {h.rule}: {h.count} line(s) {list(h.lines)} (expected {h.expected})")
        for v in res.changed_volumes:
            print(f"  changed hostPath {v}")
        for i in res.pinned_images:
            print(f"  pinned image {i}")
    _print_findings(pm.findings)


def _patch(args: argparse.Namespace) -> int:
    try:
        pm = _prepare(args)
    except ManifestPatchError as e:
        return _refused(args, e)
    written: list[str] = []
    if pm.failed:
        msg = "consistency checks failed: nothing written"
    elif args.out:
        written = [str(p) for p in write_patched(pm, args.out)]
        msg = f"wrote {len(written)} file(s) to {args.out}"
    else:
        msg = "verified (no --out: nothing written)"
    if args.json:
        print(json.dumps({**pm.to_dict(), "refused": False, "written": written}, indent=2))
    else:
        _print_verification(pm, args.params)
        print(msg)
    return EXIT_FOUND if pm.failed else EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    try:
        pm = _prepare(args)
    except ManifestPatchError as e:
        return _refused(args, e)
    if args.json:
        print(json.dumps({**pm.to_dict(), "diffs": pm.diffs()}, indent=2))
    else:
        for text in pm.diffs().values():
            print(text, end="")
    return EXIT_OK


def _apply(args: argparse.Namespace) -> int:
    from runbooklib.cluster import api_client_for_params, apply_manifests, summarize_apply, wait_for_rollout
    from runbooklib.cluster.rollout import print_progress

    try:
        pm = _prepare(args)
    except ManifestPatchError as e:
        return _refused(args, e)
    out: dict[str, Any] = pm.to_dict()
    if pm.failed:
        out["applied"] = []
        if args.json:
            print(json.dumps(out, indent=2))
        else:
            _print_findings(pm.findings)
            print("consistency checks failed: nothing applied", file=sys.stderr)
        return EXIT_FOUND
    params = load_params(args.params, require_files=False)
    api = api_client_for_params(params)
    results = apply_manifests(api, pm.docs(), dry_run=args.dry_run)
    out["applied"] = [r.to_dict() for r in results]
    out["summary"] = summarize_apply(results)
    failed = any(r.failed for r in results)
    report = None
    if not (args.dry_run or args.no_wait or failed):
        report = wait_for_rollout(api, timeout_s=args.timeout, progress=None if args.json else print_progress)
        out["rollout"] = report.to_dict()
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        for r in results:
            print(f"  {str(r.evidence.get('action')):13} {r.target}" + (f"  ({r.reason})" if r.reason not in (
                r.evidence.get("action"), "") else ""))
        print("summary: " + ", ".join(f"{k} {v}" for k, v in out["summary"].items()))
        if report is not None:
            print(report.render())
    return EXIT_FOUND if failed or (report is not None and not report.ready) else EXIT_OK
