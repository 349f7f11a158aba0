"""`runbook` command line: parse arguments, call the library, print. No logic of its own.

Each subcommand lives in its own module with a `register(subparsers)` function; add the module
name to COMMAND_MODULES to make it appear. Exit codes: 0 ok, 1 something failed or was found,
2 bad usage or bad params.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from runbooklib.errors import ParamsError, RunbookError

COMMAND_MODULES = [
    "runbooklib.cli.params_cmd",
    "runbooklib.cli.prep_cmd",
    "runbooklib.cli.run_cmd",
    "runbooklib.cli.diagnose_cmd",
    "runbooklib.cli.lab_cmd",
    "runbooklib.cli.lab_scenarios_cmd",     # adds `lab break` / `lab k3s-upgrade` (after lab_cmd)
    "runbooklib.cli.lab_longhorn_cmd",      # adds `lab longhorn` (after lab_cmd)
    "runbooklib.cli.manifests_cmd",
    "runbooklib.cli.nad_cmd",
    "runbooklib.cli.occupancy_cmd",
    "runbooklib.cli.check_cmd",
]

EXIT_OK, EXIT_FOUND, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runbook",
        description="Runbooks for Multus thick + Whereabouts + macvlan NADs on k3s.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ParamsError as e:
        print(str(e), file=sys.stderr)
        return EXIT_USAGE
    except RunbookError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FOUND
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
