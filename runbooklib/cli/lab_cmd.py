"""`runbook lab up|down|status`: the local lab (root; see runbooklib.lab). Printing only."""

from __future__ import annotations

import argparse
import json

from runbooklib.errors import ParamIssue, ParamsError
from runbooklib.params import load_params

DEFAULT_PARAMS = "params/lab.yaml"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lab", help="the local lab: k3s-like nodes in namespaces on this machine (root)")
    lsub = p.add_subparsers(dest="lab_command", metavar="ACTION")
    lsub.required = True
    for name, helptext, func in (
        ("up", "create the lab nodes (no-op if already up; rebuilds a partial lab)", _up),
        ("down", "remove everything the lab made (idempotent)", _down),
        ("status", "nodes, addresses, sshd, API and artifact server state", _status),
    ):
        a = lsub.add_parser(name, help=helptext)
        a.add_argument("--params", default=DEFAULT_PARAMS, help=f"lab params file (default {DEFAULT_PARAMS})")
        if name == "status":
            a.add_argument("--json", action="store_true", help="machine-readable output")
        a.set_defaults(func=func)


def _lab(args: argparse.Namespace, quiet: bool = False):  # noqa: ANN202 - lazy import keeps `runbook --help` fast
    from runbooklib.lab.lab import Lab, printer
    from runbooklib.lab.names import LabParamsError, lab_names

    params = load_params(args.params, require_files=False)
    try:
        lab_names(params)  # params the lab cannot (or must not) build are bad params: exit 2, nothing touched
    except LabParamsError as e:
        raise ParamsError(args.params, [ParamIssue("lab", str(e), "use a lab params file such as params/lab.yaml")]) from None
    return Lab.from_params(params, progress=(lambda _m: None) if quiet else printer())


def _up(args: argparse.Namespace) -> int:
    lab = _lab(args)
    changed = lab.up()
    if not changed:
        print(f"lab {lab.names.cluster}: already up")
    else:
        print(f"lab {lab.names.cluster}: up ({len(lab.names.nodes)} nodes); `runbook lab status --params {args.params}`")
    return 0


def _down(args: argparse.Namespace) -> int:
    lab = _lab(args)
    removed = lab.down()
    print(f"lab {lab.names.cluster}: down" + ("" if removed else " (nothing was there)"))
    return 0


def _status(args: argparse.Namespace) -> int:
    st = _lab(args, quiet=True).status()
    if args.json:
        print(json.dumps(st, indent=2))
        return 0 if st["healthy"] else 1
    print(f"lab {st['cluster']} ({st['phase']}{', healthy' if st['healthy'] else ''}) state {st['state_dir']}  prefix {st['prefix']}")
    for prob in st["problems"]:
        if st["phase"] != "down":
            print(f"  problem: {prob}")
    print(f"  {'NODE':<10} {'NAMESPACE':<16} {'MGMT ADDRESS':<16} {'USER':<6} SSHD")
    for n in st["nodes"]:
        s = n["sshd"]
        state = "answering" if s["answering"] else ("running, not answering" if s["running"] else "down")
        print(f"  {n['name']:<10} {n['namespace']:<16} {n['mgmt_address']:<16} {n['ssh_user']:<6} {state}"
              + (f" (pid {s['pid']})" if s["pid"] else ""))
    if st["nodes"]:
        print(f"  key {st['nodes'][0]['key_file']}  known_hosts {st['nodes'][0]['known_hosts']}")
    for what in ("artifacts", "api"):
        p = st[what]
        if p:
            print(f"  {what}: {p['address']}:{p['port']} {'answering' if p['answering'] else 'DOWN'} (pid {p['pid']})")
    print(f"  kubeconfig {st['kubeconfig']}")
    for note in st["notes"]:
        print(f"  note: {note}")
    return 0 if st["healthy"] else 1
