"""`runbook check NAME --params FILE [--json] [--repair] [--nodes a,b] [--plugin X]`.

NAME: failed-to-find-plugin, config-not-found, upgrade-check, install (verification).
Without --repair a repairable problem shows the node-prep plan (nothing is changed); with --repair
node prep is applied on those nodes and the check runs again. Exit 0 ok/warn, 1 fail, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from runbooklib.params import load_params
from runbooklib.results import Severity

NAMES = ("failed-to-find-plugin", "config-not-found", "upgrade-check", "install", "longhorn-storage-network")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="run a troubleshooting / verification check (and optionally repair through node prep)")
    p.add_argument("name", choices=NAMES, help="which check")
    p.add_argument("--params", required=True, help="params YAML file, e.g. params/homelab.yaml")
    p.add_argument("--json", action="store_true", help="findings (and the repair) as JSON")
    p.add_argument("--repair", action="store_true", help="apply node prep on the nodes the check says it fixes, then re-check")
    p.add_argument("--nodes", default="", help="comma-separated node names (default: every node)")
    p.add_argument("--plugin", default=None, help="failed-to-find-plugin: only this plugin (default: all that are needed)")
    p.add_argument("--no-test-pod", action="store_true", help="upgrade-check/install: skip the test pod")
    p.add_argument("--evidence", action="store_true", help="with --json: include the gathered evidence")
    p.set_defaults(func=_check)


def _run(name: str, params: Any, nodes: list[str] | None, args: argparse.Namespace) -> Any:
    from runbooklib.checks import run
    from runbooklib.checks.install import verify_install

    if name == "failed-to-find-plugin":
        return run.failed_to_find_plugin(params, plugin=args.plugin, nodes=nodes)
    if name == "config-not-found":
        return run.config_not_found(params, nodes=nodes)
    if name == "upgrade-check":
        return run.upgrade_check(params, nodes=nodes, test_pod=not args.no_test_pod)
    if name == "longhorn-storage-network":
        from runbooklib.checks.longhorn_gather import longhorn_storage_network

        return longhorn_storage_network(params, nodes=nodes)
    return verify_install(params, nodes=nodes)


def _print(result: Any) -> None:
    for f in result.findings:
        mark = {"ok": "  ok ", "warn": " WARN", "fail": " FAIL"}[f.severity.value]
        print(f"{mark} {f.target}: {f.title}")
        if f.severity is not Severity.OK:
            if f.detail:
                print(f"        {f.detail}")
            for cmd in f.fix:
                print(f"        $ {cmd}")
    for note in result.notes:
        print(f"  note: {note}")
    print(f"{result.check}: {result.severity.value.upper()} ({len(result.problems)} problem(s))")


def _check(args: argparse.Namespace) -> int:
    from runbooklib.checks.repair import plan_repair, repair

    params = load_params(args.params)
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()] or None
    try:
        result = _run(args.name, params, nodes, args)
    except KeyError as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return 2
    out: dict[str, Any] = {"before": result.to_dict(evidence=args.evidence)}
    final = result
    repairable = result.repairable_nodes() or result.pod_restarts()
    if args.repair and repairable:
        outcome = repair(params, result, repair=True, nodes=nodes)
        out["repair"] = outcome.to_dict()
        final = _run(args.name, params, nodes, args)
        out["after"] = final.to_dict(evidence=args.evidence)
    elif repairable:
        out["repair_plan"] = plan_repair(params, result, nodes=nodes).to_dict()
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        _print(result)
        if "repair" in out:
            print(f"repair: {out['repair']['reason']}")
            _print(final)
        elif "repair_plan" in out:
            print(f"repairable: {out['repair_plan']['reason']} (run again with --repair)")
    return 1 if final.severity is Severity.FAIL else 0
