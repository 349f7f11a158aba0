"""`runbook run NOTEBOOK --params FILE [-p key=value ...] [--out DIR]` and `runbook notebooks list`."""

from __future__ import annotations

import argparse
import json
import sys

from runbooklib.errors import ParamsError

EXIT_BAD_INPUT = 2
# runbooklib.reports (nbformat, papermill) is imported inside the commands: the CLI imports every
# command module at start-up and those imports take seconds.


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run a runbook notebook headless; writes the executed notebook, an HTML report and JSON results",
                         description="Exit code: 0 all checks ok/warn, 1 a check failed or a cell raised, 2 bad input.")
    run.add_argument("notebook", help="notebook name (e.g. install → notebooks/install.ipynb) or path to an .ipynb")
    run.add_argument("--params", required=True, metavar="FILE", help="params YAML file, e.g. params/homelab.yaml")
    run.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                     help="notebook parameter; VALUE is read as YAML (true, 9000, [kr1, kr2]); repeatable")
    run.add_argument("--out", default="out", metavar="DIR", help="where the .ipynb, .html and .results.json go (default: out)")
    run.add_argument("--timeout", type=int, default=None, metavar="SECONDS", help="per-cell timeout (default: none)")
    run.add_argument("--no-files", action="store_true",
                     help="do not require files named in the params (SSH keys, local artifacts) to exist")
    run.add_argument("--json", action="store_true", help="print the result file's content instead of a summary")
    run.set_defaults(func=_run)

    nbs = sub.add_parser("notebooks", help="list the runbook notebooks and their parameters")
    nsub = nbs.add_subparsers(dest="notebooks_command", metavar="ACTION")
    nsub.required = True
    lst = nsub.add_parser("list", help="names, titles and parameters (as papermill --help-notebook shows them)")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=_list)


def _run(args: argparse.Namespace) -> int:
    from runbooklib.reports import RunInputError, parse_assignments, run_notebook

    try:
        result = run_notebook(args.notebook, args.params, parse_assignments(args.parameter), args.out,
                              timeout_s=args.timeout, require_files=not args.no_files)
    except (RunInputError, ParamsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(result.results, indent=2))
    else:
        print(result.summary_line())
        for f in result.results.get("findings", []):
            if f.get("severity") in ("fail", "warn"):
                print(f"  {f['severity'].upper():4} {f.get('target', '')}: {f.get('title', '')}")
        for note in result.results.get("notes", []):
            print(f"  note: {note}")
        print(f"report: {result.html_path}\nresults: {result.results_path}\nnotebook: {result.executed_path}")
    if result.error is not None:
        print(f"error: {result.error}", file=sys.stderr)
    return result.exit_code


def _list(args: argparse.Namespace) -> int:
    from runbooklib.reports import list_notebooks, notebooks_dir

    infos = list_notebooks()
    if args.json:
        print(json.dumps([i.to_dict() for i in infos], indent=2))
        return 0
    if not infos:
        print(f"no notebooks in {notebooks_dir()}")
        return 0
    for info in infos:
        print(f"{info.name}: {info.title}")
        for p in info.parameters.values():
            help_text = f"  # {p.help}" if p.help else ""
            print(f"    {p.name}: {p.type} = {p.default}{help_text}")
        for problem in info.problems:
            print(f"    ! unreadable parameter {problem}")
    return 0
