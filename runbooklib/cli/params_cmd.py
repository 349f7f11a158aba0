"""`runbook params check FILE` and `runbook params show FILE`."""

from __future__ import annotations

import argparse
import sys

from runbooklib.errors import ParamsError
from runbooklib.params import load_params


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("params", help="check or show a params file")
    psub = p.add_subparsers(dest="params_command", metavar="ACTION")
    psub.required = True
    check = psub.add_parser("check", help="validate a params file; every problem is listed at once")
    check.add_argument("file", help="params YAML file, e.g. params/homelab.yaml")
    check.add_argument("--no-files", action="store_true",
                       help="do not require files named in the params (SSH keys, local artifacts) to exist yet")
    check.set_defaults(func=_check)
    show = psub.add_parser("show", help="print the params with every default filled in")
    show.add_argument("file")
    show.set_defaults(func=_show)


def _check(args: argparse.Namespace) -> int:
    try:
        params = load_params(args.file, require_files=not args.no_files)
    except ParamsError as e:
        print(str(e), file=sys.stderr)
        return 2
    print(f"{args.file}: ok (cluster {params.cluster}: {len(params.nodes)} nodes, {len(params.nads)} NADs)")
    return 0


def _show(args: argparse.Namespace) -> int:
    print(load_params(args.file, require_files=False).dump_yaml(), end="")
    return 0
