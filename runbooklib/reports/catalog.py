"""Where the runbook notebooks live, what they are called and which parameters they take."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

import runbooklib
from runbooklib.errors import RunbookError

NOTEBOOKS_DIR_ENV = "RUNBOOK_NOTEBOOKS_DIR"


class RunInputError(RunbookError):
    """Bad input to `runbook run` (unknown notebook, bad -p key or value): exit code 2."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        text = message + ("".join(f"\n  - {p}" for p in self.problems) if self.problems else "")
        super().__init__(text)


@dataclass(frozen=True)
class NotebookParam:
    """One parameter of a notebook's `parameters` cell, as papermill's inspection sees it."""

    name: str
    type: str
    default: str
    help: str = ""


@dataclass
class NotebookInfo:
    name: str
    path: Path
    title: str
    parameters: dict[str, NotebookParam] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "title": self.title,
                "parameters": [vars(p) for p in self.parameters.values()], "problems": self.problems}


def notebooks_dir() -> Path:
    """The repo's `notebooks/` (next to the package), or `$RUNBOOK_NOTEBOOKS_DIR`."""
    override = os.environ.get(NOTEBOOKS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(runbooklib.__file__).resolve().parents[1] / "notebooks"


def available() -> list[str]:
    d = notebooks_dir()
    return sorted(p.stem for p in d.glob("*.ipynb")) if d.is_dir() else []


def resolve_notebook(name_or_path: str | os.PathLike[str]) -> Path:
    """`install` → `<notebooks>/install.ipynb`; an existing path is taken as is."""
    text = str(name_or_path)
    p = Path(text).expanduser()
    if p.is_file():
        return p.resolve()
    if text.endswith(".ipynb") or os.sep in text:
        raise RunInputError(f"notebook file {text} does not exist")
    candidate = notebooks_dir() / f"{text}.ipynb"
    if candidate.is_file():
        return candidate.resolve()
    names = available()
    hint = f"known notebooks: {', '.join(names)}" if names else f"no notebooks in {notebooks_dir()}"
    raise RunInputError(f"unknown notebook {text!r} ({hint}; `runbook notebooks list` shows them)")


def title_of(nb: nbformat.NotebookNode) -> str:
    """First non-empty line of the first markdown cell, without leading '#'."""
    for cell in nb.cells:
        if cell.cell_type != "markdown" or "papermill-error-cell-tag" in cell.get("metadata", {}).get("tags", []):
            continue
        for line in str(cell.source).splitlines():
            if line.strip():
                return line.strip().lstrip("#").strip()
    return ""


_ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)\s*(?::[^=]*)?=")


def parameters_cell(nb: nbformat.NotebookNode) -> str | None:
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return str(cell.source)
    return None


def unreadable_parameters(nb: nbformat.NotebookNode, parsed: Iterable[str]) -> list[str]:
    """Assignments in the `parameters` cell that papermill's parser skipped (it drops any line with
    more than one '=', comments included), so they could be neither documented nor set."""
    source = parameters_cell(nb) or ""
    known = set(parsed)
    return [f"line {i}: {line.strip()!r} (papermill skips lines with more than one '=', comments included)"
            for i, line in enumerate(source.splitlines(), start=1)
            if (m := _ASSIGNMENT.match(line)) and m.group(1) not in known]


def inspect_parameters(path: str | os.PathLike[str], *, strict: bool = True) -> dict[str, NotebookParam]:
    """The `parameters` cell's variables (papermill's `inspect_notebook`, as `--help-notebook` shows).
    `strict`: refuse a cell with assignments papermill cannot read (`RunInputError`)."""
    from papermill.inspection import inspect_notebook

    try:
        raw = inspect_notebook(str(path))
        nb = nbformat.read(str(path), as_version=4)
    except Exception as e:  # noqa: BLE001 - papermill raises several kinds for unreadable notebooks
        raise RunInputError(f"cannot read the parameters of {path}: {e}") from None
    problems = unreadable_parameters(nb, raw)
    if strict and problems:
        raise RunInputError(f"{path}: the parameters cell has lines papermill cannot read:", problems)
    return {name: NotebookParam(name=name, type=str(p.get("inferred_type_name", "None")),
                                default=str(p.get("default", "")), help=str(p.get("help", "")))
            for name, p in raw.items()}


def notebook_info(path: str | os.PathLike[str]) -> NotebookInfo:
    p = Path(path)
    nb = nbformat.read(str(p), as_version=4)
    params = inspect_parameters(p, strict=False)
    return NotebookInfo(name=p.stem, path=p, title=title_of(nb), parameters=params,
                        problems=unreadable_parameters(nb, params))


def list_notebooks() -> list[NotebookInfo]:
    d = notebooks_dir()
    return [notebook_info(d / f"{name}.ipynb") for name in available()]
