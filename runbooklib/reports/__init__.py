"""Headless runbook runs: papermill execution, offline HTML reports, JSON result files.

The in-notebook half of the convention is `runbooklib.report.publish`.
"""

from runbooklib.reports.catalog import (
    NotebookInfo,
    NotebookParam,
    RunInputError,
    inspect_parameters,
    list_notebooks,
    notebooks_dir,
    resolve_notebook,
)
from runbooklib.reports.runner import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    CellError,
    CliValue,
    RunResult,
    check_parameters,
    parse_assignments,
    run_notebook,
)

__all__ = [
    "EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "CellError", "CliValue", "NotebookInfo", "NotebookParam", "RunInputError",
    "RunResult", "check_parameters", "inspect_parameters", "list_notebooks", "notebooks_dir", "parse_assignments",
    "resolve_notebook", "run_notebook",
]
