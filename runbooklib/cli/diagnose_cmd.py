"""`runbook diagnose [TEXT] [--json]`: error text or log excerpt → runbook to run, with parameters."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

from runbooklib.diagnose import DEFAULT_PARAMS_FILE, Diagnosis, Suggestion, diagnose

NOTHING_MATCHED_HINTS = """\
nothing known matched. Things to try:
  - paste the whole event / log line: `kubectl describe pod POD` (Events), `kubectl -n kube-system logs ds/kube-multus-ds`,
    `kubectl -n kube-system logs ds/whereabouts`, `journalctl -u k3s` (or k3s-agent) on the node
  - run the install verification: runbook run install --params {params}
  - list the runbooks: runbook notebooks list"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diagnose", help="match an error message or log excerpt to a known failure and the runbook to run",
                       description="Exit code: 0 something matched, 1 nothing matched, 2 no input.")
    p.add_argument("text", nargs="*", help="the error text; '-' or nothing reads stdin")
    p.add_argument("--params", default=DEFAULT_PARAMS_FILE, metavar="FILE", help="params file to put in the suggested command")
    p.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    p.set_defaults(func=_diagnose)


def _read_input(args: argparse.Namespace) -> str | None:
    if args.text and args.text != ["-"]:
        return " ".join(args.text)
    if sys.stdin is None or (sys.stdin.isatty() and not args.text):
        return None
    return sys.stdin.read()


def _declared(runbook: str) -> set[str] | None:
    """The parameters the runbook's notebook declares, when it exists (so the command runs as printed)."""
    from runbooklib.reports.catalog import RunInputError, inspect_parameters, notebooks_dir

    path = notebooks_dir() / f"{runbook}.ipynb"
    if not path.is_file():
        return None
    try:
        return set(inspect_parameters(path))
    except RunInputError:
        return None


def _print_suggestion(n: int, s: Suggestion, params_file: str) -> None:
    print(f"{n}. runbook: {s.runbook}")
    print(f"   run: {s.command(params_file, _declared(s.runbook))}")
    for m in s.matches:
        where = f"line {m.line_no}" if m.line_no else "text"
        print(f"   - {m.rule.title}  [{m.rule.id}, {where}{', text derived from code' if m.rule.derived else ''}]")
        print(textwrap.indent(textwrap.fill(f"why: {m.explanation}", 100), "     "))
        print(textwrap.indent(textwrap.fill(f"fix: {m.fix}", 100), "     "))


def _diagnose(args: argparse.Namespace) -> int:
    text = _read_input(args)
    if text is None or not text.strip():
        print("error: give the error text as an argument, or pipe it in (runbook diagnose - < log.txt)", file=sys.stderr)
        return 2
    result: Diagnosis = diagnose(text)
    if args.json:
        data = result.to_dict(args.params)
        for s, d in zip(result.suggestions, data["suggestions"], strict=True):
            d["command"] = s.command(args.params, _declared(s.runbook))
        print(json.dumps(data, indent=2))
    elif result.matched:
        for n, s in enumerate(result.suggestions, start=1):
            _print_suggestion(n, s, args.params)
    else:
        print(NOTHING_MATCHED_HINTS.format(params=args.params))
    return 0 if result.matched else 1
