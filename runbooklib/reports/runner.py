"""`run_notebook`: validate the input, execute a runbook notebook with papermill, leave behind the
executed notebook, an offline HTML report and a JSON result file, and say how it went.

Notebook ↔ runner convention (see notebooks/README.md): the notebook's `parameters` cell declares
`params_file`, `results_path` and (optionally) `interactive`; the runner injects the params file
(absolute path), the result file it will read back, and `interactive=False`. Everything else comes
from `-p key=value`, checked against the parameters the notebook declares before anything runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import yaml

from runbooklib.params import Params, load_params
from runbooklib.report import empty_results, read_results, recompute, worst_severity, write_json_atomic
from runbooklib.reports.catalog import NotebookParam, RunInputError, inspect_parameters, resolve_notebook, title_of
from runbooklib.reports.html import render_html, summary_html
from runbooklib.reports.scrub import REDACTED, Scrubber, secret_like
from runbooklib.results import Severity

KERNEL_NAME = "python3"
RUNNER_PARAMS = ("params_file", "results_path", "interactive")
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


@dataclass(frozen=True)
class CellError:
    """Where and how a notebook cell failed: enough to act on, no traceback wall."""

    cell: int | str
    ename: str
    evalue: str
    first_line: str = ""

    def __str__(self) -> str:
        where = f"cell {self.cell}" + (f" ({self.first_line})" if self.first_line else "")
        return f"{where}: {self.ename}: {self.evalue}"

    def to_dict(self) -> dict[str, Any]:
        return {"cell": self.cell, "ename": self.ename, "evalue": self.evalue, "first_line": self.first_line}


@dataclass
class RunResult:
    notebook: str
    source: Path
    executed_path: Path
    html_path: Path | None
    results_path: Path
    status: Severity
    exit_code: int
    counts: dict[str, int] = field(default_factory=dict)
    error: CellError | None = None
    duration_s: float = 0.0
    secrets_scrubbed: int = 0
    results: dict[str, Any] = field(default_factory=dict)

    def summary_line(self) -> str:
        c = self.counts
        text = (f"{self.notebook}: {self.status.value.upper()} ({c.get('fail', 0)} fail, {c.get('warn', 0)} warn, "
                f"{c.get('ok', 0)} ok) in {self.duration_s:.1f} s")
        return text + (f"; error in {self.error}" if self.error else "")


# ---------------------------------------------------------------------------------------------
# input checks (all before any kernel starts)


class CliValue(str):
    """A `-p` value as typed on the command line: parsed as YAML, or kept verbatim for `str` parameters."""


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """`["node=kr1", "dry_run=false"]` → {"node": CliValue("kr1"), "dry_run": CliValue("false")}."""
    out: dict[str, Any] = {}
    problems = []
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            problems.append(f"{item!r}: expected key=value with a Python identifier as key")
        elif key in out:
            problems.append(f"{key}: given twice")
        else:
            out[key] = CliValue(raw)
    if problems:
        raise RunInputError("bad -p parameter(s):", problems)
    return out


_SIMPLE = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "list": (list,), "dict": (dict,)}


def _coerce(value: Any, declared: str) -> tuple[Any, str | None]:
    """Check a value against the declared (annotated) type; returns (value, problem).
    A `CliValue` is YAML-parsed first, except for `str` parameters, which get the text verbatim."""
    t = declared.replace(" ", "")
    optional = "None" in t.split("|") or t.startswith("Optional[")
    base = re.sub(r"^Optional\[(.*)\]$", r"\1", t).split("|")[0].split("[")[0].lower()
    if isinstance(value, CliValue):
        if base == "str" and value.strip() not in ("null", "~"):
            return str(value), None
        try:
            value = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError as e:
            return value, f"{str(value)!r} is not valid YAML ({e.__class__.__name__})"
    if value is None:
        return value, None if optional or base not in _SIMPLE else f"None is not a {declared}"
    if base not in _SIMPLE:
        return value, None
    ok = isinstance(value, _SIMPLE[base]) and not (base in ("int", "float") and isinstance(value, bool))
    return value, None if ok else f"{value!r} is not a {declared}"


def check_parameters(given: dict[str, Any], declared: dict[str, NotebookParam], notebook: str) -> dict[str, Any]:
    """Refuse secret-looking keys, runner-owned keys, unknown keys and values of the wrong type."""
    problems: list[str] = []
    checked: dict[str, Any] = {}
    for key, value in given.items():
        if secret_like(key):
            problems.append(f"{key}: looks like a secret; secrets are never passed as parameters "
                            "(put it in the environment variable the params file names, e.g. ssh.sudo_password_env)")
        elif key in RUNNER_PARAMS:
            problems.append(f"{key}: set by the runner (use --params / --out), not with -p")
        elif key not in declared:
            known = ", ".join(k for k in declared if k not in RUNNER_PARAMS) or "none"
            problems.append(f"{key}: {notebook} has no such parameter (it takes: {known})")
        else:
            coerced, problem = _coerce(value, declared[key].type)
            if problem:
                problems.append(f"{key}: {problem}")
            checked[key] = coerced
    if problems:
        raise RunInputError(f"bad parameters for {notebook}:", problems)
    return checked


# ---------------------------------------------------------------------------------------------
# the run


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.strip()[:120]
    return ""


def _cell_error_from_exception(exc: Exception) -> CellError:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return CellError(cell=exc.exec_count if exc.exec_count is not None else f"#{exc.cell_index}",
                         ename=exc.ename, evalue=exc.evalue, first_line=_first_line(exc.source))
    return CellError(cell="?", ename=type(exc).__name__, evalue=str(exc).strip().splitlines()[0] if str(exc).strip() else "")


def _ipc_kernel_manager() -> type | None:
    """A kernel manager that talks to the kernel over Unix sockets in the (0700) Jupyter runtime dir
    instead of TCP on localhost: nothing for other local users to connect to, and no
    "Kernel is running over TCP without encryption" warning on every run. None (TCP, nbclient's
    default) when the runtime dir's path is too long for a Unix socket name."""
    from jupyter_client import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets import default

    if len(jupyter_runtime_dir()) > 60:  # + "/kernel-<uuid>-ipc-<n>" must stay under 108 bytes
        return None

    class IpcKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

    return IpcKernelManager


def _execute(source: Path, output: Path, parameters: dict[str, Any], cwd: Path, timeout_s: int | None) -> CellError | None:
    import papermill
    from jupyter_client.kernelspec import NoSuchKernel

    try:
        papermill.execute_notebook(str(source), str(output), parameters=parameters, kernel_name=KERNEL_NAME,
                                   cwd=str(cwd), progress_bar=False, log_output=False, execution_timeout=timeout_s,
                                   **({"kernel_manager_class": km} if (km := _ipc_kernel_manager()) else {}))
    except NoSuchKernel:
        raise RunInputError(f"no Jupyter kernel named {KERNEL_NAME!r}: run "
                            f"`python -m ipykernel install --sys-prefix --name {KERNEL_NAME}` in the venv (make venv does)") from None
    except Exception as e:  # noqa: BLE001 - any failure of the run is reported, the files still written
        return _cell_error_from_exception(e)
    return None


def run_notebook(name_or_path: str | os.PathLike[str], params_file: str | os.PathLike[str],
                 parameters: dict[str, Any] | None = None, out_dir: str | os.PathLike[str] = "out", *,
                 timeout_s: int | None = None, require_files: bool = True) -> RunResult:
    """Execute a runbook notebook headless. Bad input raises `RunInputError` / `ParamsError`
    (exit code 2) before any kernel starts; everything after that ends in a `RunResult`."""
    source = resolve_notebook(name_or_path)
    name = source.stem
    params = load_params(params_file, require_files=require_files)
    declared = inspect_parameters(source)
    checked = check_parameters(dict(parameters or {}), declared, name)
    if "params_file" not in declared:
        raise RunInputError(f"{source} declares no `params_file` parameter in a cell tagged `parameters` "
                            "(see notebooks/README.md)")

    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    scrubber = Scrubber.from_env(named=[params.ssh.sudo_password_env])
    started = datetime.now(UTC)
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"runbook-{name}-"))
    try:
        work.chmod(0o700)
        tmp_results = work / f"{name}.results.json"
        injected: dict[str, Any] = {"params_file": str(Path(params_file).resolve()), **checked}
        if "results_path" in declared:
            injected["results_path"] = str(tmp_results)
        if "interactive" in declared:
            injected["interactive"] = False
        error = _execute(source, work / f"{name}.ipynb", injected, source.parent, timeout_s)
        duration = time.monotonic() - t0
        return _finish(name, source, params, work, out, scrubber, checked, error, started, duration,
                       publishes="results_path" in declared)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _finish(name: str, source: Path, params: Params, work: Path, out: Path, scrubber: Scrubber, checked: dict[str, Any],
            error: CellError | None, started: datetime, duration: float, *, publishes: bool) -> RunResult:
    executed_tmp = work / f"{name}.ipynb"
    nb = nbformat.read(str(executed_tmp), as_version=4) if executed_tmp.is_file() else nbformat.read(str(source), as_version=4)
    nb = scrubber.data(nb)
    executed_path = out / f"{name}.ipynb"
    nbformat.write(nb, str(executed_path))

    results = read_results(work / f"{name}.results.json") or empty_results(name)
    results["notebook"] = name
    if not publishes:
        results["notes"].append("the notebook declares no `results_path` parameter, so it published nothing")
    elif not results.get("published") and error is None:
        results["notes"].append("the notebook ran but did not call runbooklib.report.publish()")
        results["declared_status"] = worst_severity(results.get("declared_status"), Severity.WARN).value
    if error is not None:
        results["declared_status"] = Severity.FAIL.value
    results = scrubber.data(results)
    if scrubber.replaced:
        results["notes"].append(f"{scrubber.replaced} occurrence(s) of a secret value were found in the outputs and "
                                f"replaced by {REDACTED}; find what printed it")
        results["declared_status"] = worst_severity(results.get("declared_status"), Severity.WARN).value
    results = recompute(results)

    html_path = out / f"{name}.html"
    results_path = out / f"{name}.results.json"
    status = Severity(results["status"])
    exit_code = EXIT_FAILED if status is Severity.FAIL else EXIT_OK
    results["run"] = {
        "title": title_of(nb) or name, "notebook_path": str(source), "params_file": str(params.source_path or ""),
        "cluster": params.cluster, "started_at": started.isoformat(timespec="seconds"), "duration_s": round(duration, 3),
        "parameters": scrubber.data(checked), "error": error.to_dict() if error else None, "exit_code": exit_code,
        "executed_notebook": str(executed_path), "html": str(html_path), "kernel": KERNEL_NAME,
    }
    summary = {**results, **results["run"], "notebook": name}
    try:
        markup = render_html(nb, summary)
    except Exception as e:  # noqa: BLE001 - the report must exist even if nbconvert chokes on an output
        summary["notes"] = [*summary.get("notes", []), f"nbconvert could not render the notebook: {type(e).__name__}: {e}"]
        markup = f"<!DOCTYPE html><html><body>{summary_html(summary)}</body></html>"
    markup = scrubber.text(markup)
    html_path.write_text(markup)
    results["run"]["secrets_scrubbed"] = scrubber.replaced
    write_json_atomic(results_path, results)
    return RunResult(notebook=name, source=source, executed_path=executed_path, html_path=html_path, results_path=results_path,
                     status=status, exit_code=exit_code, counts=dict(results["counts"]), error=error,
                     duration_s=duration, secrets_scrubbed=scrubber.replaced, results=json.loads(json.dumps(results)))
