"""`runbook occupancy --params FILE [--json|--csv] [--offline] [--png FILE] [--live NODE]`."""

from __future__ import annotations

import argparse
import json

from runbooklib.params import load_params
from runbooklib.results import Severity


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("occupancy", help="who holds which address on the storage segment")
    p.add_argument("--params", required=True, help="params YAML file, e.g. params/homelab.yaml")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="summary, rows and findings as JSON")
    fmt.add_argument("--csv", action="store_true", help="the rows as CSV")
    p.add_argument("--offline", action="store_true", help="params only (static hosts and NAD pools); no cluster")
    p.add_argument("--png", metavar="FILE", help="also save the subnet grid picture (one file per subnet)")
    p.add_argument("--live", metavar="NODE", help="also ping the pool from this node over its storage NIC")
    p.set_defaults(func=_occupancy)


def _occupancy(args: argparse.Namespace) -> int:
    from runbooklib.occupancy import occupancy_for_params, occupancy_text, plot_subnet_grid

    params = load_params(args.params, require_files=False)
    occ = occupancy_for_params(params, offline=args.offline, live_node=args.live)
    if args.json:
        print(json.dumps(occ.to_dict(), indent=2, default=str))
    elif args.csv:
        print(occ.frame.to_csv(index=False), end="")
    else:
        print(occupancy_text(occ))
    if args.png:
        for i, subnet in enumerate(occ.subnets):
            path = args.png if i == 0 else args.png.replace(".png", f"-{i}.png")
            plot_subnet_grid(occ.frame, subnet, path=path)
            if not (args.json or args.csv):
                print(f"picture: {path}")
    return 1 if any(f.severity is Severity.FAIL for f in occ.findings) else 0
