"""`runbook lab break SCENARIO [NODE]`, `runbook lab break --list`, `runbook lab k3s-upgrade NODE` (root).

Added to the `lab` command of lab_cmd (this module must come after it in COMMAND_MODULES); if that
command is missing they are registered as top-level `lab-break` / `lab-k3s-upgrade`.
"""

from __future__ import annotations

import argparse

from runbooklib.params import load_params

DEFAULT_PARAMS = "params/lab.yaml"


def _lab_subparsers(sub: argparse._SubParsersAction) -> argparse._SubParsersAction | None:
    lab = sub.choices.get("lab")
    if lab is None or lab._subparsers is None:
        return None
    for action in lab._subparsers._group_actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def register(sub: argparse._SubParsersAction) -> None:
    lsub = _lab_subparsers(sub)
    prefix = "" if lsub is not None else "lab-"
    target = lsub if lsub is not None else sub
    b = target.add_parser(prefix + "break", help="put a lab node into a broken state of a handed case")
    b.add_argument("scenario", nargs="?", help="scenario name (see --list)")
    b.add_argument("node", nargs="?", help="lab node (default: the first)")
    b.add_argument("--list", action="store_true", help="list the scenarios")
    b.add_argument("--repair", action="store_true", help="undo a scenario that has a lab-side repair (mtu-lowered)")
    b.add_argument("--params", default=DEFAULT_PARAMS, help=f"lab params file (default {DEFAULT_PARAMS})")
    b.set_defaults(func=_break)
    u = target.add_parser(prefix + "k3s-upgrade", help="simulate a k3s upgrade on a lab node (new data/<hash>)")
    u.add_argument("node")
    u.add_argument("--version", help="k3s version string (default: the lab's)")
    u.add_argument("--params", default=DEFAULT_PARAMS, help=f"lab params file (default {DEFAULT_PARAMS})")
    u.set_defaults(func=_upgrade)


def _state(args: argparse.Namespace):  # noqa: ANN202 - lazy import keeps `runbook --help` fast
    from runbooklib.lab.state import load_lab_state

    return load_lab_state(load_params(args.params, require_files=False))


def _break(args: argparse.Namespace) -> int:
    from runbooklib.lab import scenarios

    if args.list or not args.scenario:
        print(f"{'SCENARIO':<26} {'CASE':<8} WHAT / EXPECTED ERROR / REPAIR")
        for s in scenarios.SCENARIOS.values():
            print(f"{s.name:<26} {s.case:<8} {s.summary}")
            print(f"{'':<35} error:  {s.expect or '(none: the pod still starts)'}")
            print(f"{'':<35} repair: {s.repair}")
        return 0 if args.list else 2
    st = _state(args)
    try:
        if args.repair:
            s, node = scenarios.repair_node(st, args.scenario, args.node)
            print(f"{node}: repaired {s.name}")
            return 0
        s, node = scenarios.break_node(st, args.scenario, args.node)
    except (scenarios.ScenarioError, KeyError) as e:
        print(f"error: {e}")
        return 2
    print(f"{node}: {s.name} ({s.case}): {s.summary}")
    if s.expect:
        print(f"  a pod with the NAD on {node} now fails with: {s.expect}")
    print(f"  repair: {s.repair}")
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    from runbooklib.lab import scenarios

    st = _state(args)
    try:
        digest = scenarios.k3s_upgrade(st, args.node, version=args.version)
    except KeyError as e:
        print(f"error: {e}")
        return 2
    print(f"{args.node}: k3s upgraded: data/current -> data/{digest[:16]}..., data/cni rebuilt "
          "(multus-shim and passthru links dropped; /opt/cni/bin/flannel is now stale)")
    return 0
