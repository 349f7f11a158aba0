"""`runbook nad validate|apply|render --params FILE [--json] [--offline] [--dry-run]`."""

from __future__ import annotations

import argparse
import json
import sys

from runbooklib.params import load_params
from runbooklib.results import Severity

EXIT_OK, EXIT_FOUND, EXIT_USAGE = 0, 1, 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("nad", help="build, validate and apply NetworkAttachmentDefinitions")
    psub = p.add_subparsers(dest="nad_command", metavar="ACTION")
    psub.required = True
    for name, text in (("validate", "check the NADs (config, pools, nodes, cluster, pod annotations)"),
                       ("apply", "validate, then create or update the NADs in the cluster"),
                       ("render", "print the NAD YAML built from the params")):
        a = psub.add_parser(name, help=text)
        a.add_argument("--params", required=True, help="params YAML file, e.g. params/homelab.yaml")
        a.add_argument("--json", action="store_true", help="machine-readable output")
        if name != "render":
            a.add_argument("--offline", action="store_true", help="params-only: no SSH to nodes, no cluster")
            a.add_argument("--nad-file", help="validate the NADs in this YAML file instead of the params' NADs")
        if name == "apply":
            a.add_argument("--dry-run", action="store_true", help="read the cluster and report what would change")
        a.set_defaults(func={"validate": _validate, "apply": _apply, "render": _render}[name])


def _run_validation(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from runbooklib.nad import documents_from_yaml, validate_nads

    params = load_params(args.params, require_files=False)
    docs = documents_from_yaml(args.nad_file) if getattr(args, "nad_file", None) else None
    return params, validate_nads(params, docs=docs, offline=args.offline)


def _print_validation(result, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        return
    for f in result.findings:
        line = f"[{f.severity.value.upper():4}] {f.target}: {f.title}"
        print(line)
        if f.severity is not Severity.OK:
            for fix in f.fix:
                print(f"         fix: {fix}")
    for s in result.skipped:
        print(f"[SKIP] {s}")
    print(f"NAD validation: {result.severity.value} ({len(result.problems)} problem(s), {len(result.nads)} NAD(s))")


def _validate(args: argparse.Namespace) -> int:
    from runbooklib.nad.document import NadFileError

    try:
        _, result = _run_validation(args)
    except NadFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    _print_validation(result, args.json)
    return EXIT_FOUND if result.severity is Severity.FAIL else EXIT_OK


def _apply(args: argparse.Namespace) -> int:
    from runbooklib.cluster import api_client_for_params
    from runbooklib.nad.apply import apply_nads
    from runbooklib.nad.document import NadFileError

    try:
        params, result = _run_validation(args)
    except NadFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.offline:
        print("error: apply needs the cluster; --offline only validates", file=sys.stderr)
        return 2
    _print_validation(result, args.json)
    ops = apply_nads(params, api_client_for_params(params), dry_run=args.dry_run, validation=result)
    if args.json:
        print(json.dumps({"validation": result.to_dict(), "apply": [o.to_dict() for o in ops]}, indent=2, default=str))
    else:
        for op in ops:
            print(f"{op.target}: {op.evidence.get('action')} ({op.reason})")
    failed = not result.ok or any(o.failed for o in ops)
    return EXIT_FOUND if failed else EXIT_OK


def _render(args: argparse.Namespace) -> int:
    from runbooklib.nad import build_nads, render_nad_yaml

    objects = build_nads(load_params(args.params, require_files=False))
    print(json.dumps(objects, indent=2) if args.json else render_nad_yaml(objects), end="" if not args.json else "\n")
    return EXIT_OK
