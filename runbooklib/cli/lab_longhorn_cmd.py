"""`runbook lab longhorn [--setting VALUE] [--broken SCENARIO] [--list]` (root; a lab with Multus,
whereabouts and the NAD installed): Longhorn's settings CRD, the storage-network setting and one
instance-manager-like pod per node. Then `runbook run longhorn-storage-network --params ...`.

Added to the `lab` command of lab_cmd (this module must come after it in COMMAND_MODULES); if that
command is missing it is registered as top-level `lab-longhorn`.
"""

from __future__ import annotations

import argparse

from runbooklib.cli.lab_scenarios_cmd import _lab_subparsers
from runbooklib.params import load_params

DEFAULT_PARAMS = "params/lab.yaml"


def register(sub: argparse._SubParsersAction) -> None:
    lsub = _lab_subparsers(sub)
    target, prefix = (lsub, "") if lsub is not None else (sub, "lab-")
    p = target.add_parser(prefix + "longhorn", help="Longhorn settings CRD + instance-manager pods on the lab's CNI chain")
    p.add_argument("--setting", default=None, metavar="NS/NAD",
                   help="storage-network value (default: the params' NAD in longhorn-system; '' turns it off)")
    p.add_argument("--broken", default=None, metavar="SCENARIO", help="a broken wiring (see --list)")
    p.add_argument("--list", action="store_true", help="list the broken-wiring scenarios")
    p.add_argument("--form", choices=("json", "short"), default="json",
                   help="networks annotation form: Longhorn's JSON list (default) or ns/name@lhnet1")
    p.add_argument("--params", default=DEFAULT_PARAMS, help=f"lab params file (default {DEFAULT_PARAMS})")
    p.set_defaults(func=_longhorn)


def _longhorn(args: argparse.Namespace) -> int:
    from runbooklib.lab import longhorn as lh

    if args.list:
        print(f"{'SCENARIO':<22} WHAT / CHECK RESULT / FIX")
        for s in lh.SCENARIOS.values():
            print(f"{s.name:<22} {s.summary}\n{'':<23}check: {s.expect}\n{'':<23}fix:   {s.fix}")
        return 0
    from runbooklib.cluster import api_client_for_params

    params = load_params(args.params)
    try:
        setting = args.setting if args.setting is not None else lh.default_setting(params)
        value, pods = lh.apply_longhorn(api_client_for_params(params), [n.name for n in params.nodes], setting,
                                        broken=args.broken, form=args.form)
    except lh.LonghornLabError as e:
        print(f"error: {e}")
        return 2
    print(f"settings.longhorn.io/storage-network = {value!r}" + (f"  (broken: {args.broken})" if args.broken else ""))
    for pod in pods:
        print(f"  {pod['spec']['nodeName']:<10} {pod['metadata']['name']}  {(pod.get('status') or {}).get('phase')}")
    print(f"check: runbook run longhorn-storage-network --params {args.params}")
    return 0
