"""`runbook prep --params FILE [--plan] [--json] [--nodes a,b] [--journal FILE]`: node prep over SSH."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from runbooklib.nodes.desired import DEFAULT_BACKUP_ROOT
from runbooklib.nodes.prep import PrepResult, prep_nodes, print_progress
from runbooklib.params import Params, load_params
from runbooklib.remote.journal import Journal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prep", help="prepare the nodes: /opt/cni/bin, plugins, flannel copy, shim and whereabouts links")
    p.add_argument("--params", required=True, help="params YAML file, e.g. params/homelab.yaml")
    p.add_argument("--plan", action="store_true", help="only gather facts and show the plan (no sudo, changes nothing)")
    p.add_argument("--json", action="store_true", help="print the recap as JSON (per node, per operation)")
    p.add_argument("--nodes", default="", help="comma-separated node names (default: every node in the params)")
    p.add_argument("--journal", default=None, help="append every command run (JSON lines, secrets redacted) to this file")
    p.add_argument("--backup-root", default=DEFAULT_BACKUP_ROOT,
                   help=f"where replaced paths are kept on each node, under <stamp>-<node>/ (default {DEFAULT_BACKUP_ROOT})")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=_prep)


def _ask_sudo_password(params: Params, names: list[str] | None) -> None:
    """sudo-password nodes: take the password from the env var, or prompt once (kept in memory only)."""
    env = params.ssh.sudo_password_env
    needs = [n for n in params.nodes if n.sudo == "sudo-password" and (not names or n.name in names)]
    if needs and not os.environ.get(env) and sys.stdin.isatty():
        os.environ[env] = getpass.getpass(f"sudo password for {', '.join(n.name for n in needs)} (or set ${env}): ")


def _print_recap(res: PrepResult) -> None:
    for recap in res.recaps:
        print(f"{recap.node}: {recap.status.value} — {recap.message}")
        for op in recap.ops:
            mark = {"ok": " ", "changed": "~", "failed": "!", "skipped": "-", "unreachable": "!"}[op.status.value]
            print(f"  {mark} {op.name:24} {op.status.value:11} {op.reason}")
            if res.mode == "plan" and op.changed:
                for c in op.commands:
                    print("        $ " + c.command.replace("\n", "\n          "))
    total = len(res.recaps)
    bad = sum(1 for r in res.recaps if r.status.value in ("failed", "unreachable"))
    verb = "would change" if res.mode == "plan" else "changed"
    print(f"{res.mode}: {total} node(s), {res.changed} step(s) {verb}, {bad} node(s) failed or unreachable")


def _prep(args: argparse.Namespace) -> int:
    params = load_params(args.params)
    names = [n.strip() for n in args.nodes.split(",") if n.strip()] or None
    if not args.plan:
        _ask_sudo_password(params, names)
    journal = Journal(args.journal) if args.journal else Journal()
    progress = None if args.quiet else print_progress
    res = prep_nodes(params, plan_only=args.plan, nodes=names, journal=journal, progress=progress,
                     backup_root=args.backup_root)
    if args.json:
        print(res.to_json())
    else:
        _print_recap(res)
    return 0 if res.ok else 1
