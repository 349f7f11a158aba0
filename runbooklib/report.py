"""How a notebook hands its results to the runner: `publish(...)`.

Inside a notebook (under papermill or in JupyterLab) every section that produced findings, node
recaps or tables calls::

    from runbooklib.report import publish
    publish(findings=findings, recaps=recaps, tables={"occupancy": df}, results_path=results_path)

`results_path` is a notebook parameter (see notebooks/README.md). The runner (`runbook run`)
sets it to a file it reads back after the run; in JupyterLab it stays "" and `publish` only
displays. Several calls in one notebook accumulate into the same file: findings and recaps are
appended, tables replaced by name, the status is the worst seen so far.

Exactly one file format, versioned by `SCHEMA`; the runner adds a `run` section to it.
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from runbooklib.results import Finding, NodeRecap, Severity, Status

SCHEMA = "runbooklib.results/v1"
_ORDER = {Severity.OK: 0, Severity.WARN: 1, Severity.FAIL: 2}
_BAD_RECAP = {Status.FAILED.value, Status.UNREACHABLE.value}
SEVERITY_COLORS = {"ok": "#1e7e34", "warn": "#b36b00", "fail": "#c82333"}


def worst_severity(*values: Severity | str | None) -> Severity:
    """The worst of some statuses (`ok` < `warn` < `fail`); None is ignored, nothing is ok."""
    seen = [Severity(v) for v in values if v is not None]
    return max(seen, key=_ORDER.__getitem__, default=Severity.OK)


def empty_results(notebook: str = "") -> dict[str, Any]:
    return {"schema": SCHEMA, "notebook": notebook, "status": Severity.OK.value, "published": False,
            "counts": {"ok": 0, "warn": 0, "fail": 0}, "findings": [], "recaps": [], "tables": {}, "notes": []}


def recompute(results: dict[str, Any]) -> dict[str, Any]:
    """Fill `counts` and `status` from the findings and recaps (keeping an explicitly worse status)."""
    counts = {"ok": 0, "warn": 0, "fail": 0}
    for f in results.get("findings", []):
        sev = str(f.get("severity", "ok"))
        counts[sev] = counts.get(sev, 0) + 1
    recap_counts: dict[str, int] = {}
    for r in results.get("recaps", []):
        st = str(r.get("status", "ok"))
        recap_counts[st] = recap_counts.get(st, 0) + 1
    results["counts"] = counts
    results["recap_counts"] = recap_counts
    from_findings = Severity.FAIL if counts.get("fail") else Severity.WARN if counts.get("warn") else Severity.OK
    from_recaps = Severity.FAIL if any(st in _BAD_RECAP for st in recap_counts) else Severity.OK
    results["status"] = worst_severity(results.get("declared_status"), from_findings, from_recaps).value
    return results


def _table_rows(table: Any) -> list[dict[str, Any]]:
    if hasattr(table, "to_dict") and hasattr(table, "columns"):  # a pandas DataFrame
        return json.loads(table.to_json(orient="records", date_format="iso", default_handler=str))
    if isinstance(table, Mapping):
        return [dict(table)]
    return [dict(row) for row in table]


def merge(results: dict[str, Any], *, findings: Iterable[Finding | Mapping[str, Any]] = (),
          recaps: Iterable[NodeRecap | Mapping[str, Any]] = (), tables: Mapping[str, Any] | None = None,
          status: Severity | str | None = None, title: str | None = None,
          notes: Iterable[str] = ()) -> dict[str, Any]:
    """Add one `publish` call's content to a results dict (pure: used by `publish` and by tests)."""
    results.setdefault("findings", []).extend(f.to_dict() if isinstance(f, Finding) else dict(f) for f in findings)
    results.setdefault("recaps", []).extend(r.to_dict() if isinstance(r, NodeRecap) else dict(r) for r in recaps)
    for name, table in (tables or {}).items():
        results.setdefault("tables", {})[str(name)] = _table_rows(table)
    results.setdefault("notes", []).extend(str(n) for n in notes)
    if status is not None:
        results["declared_status"] = worst_severity(results.get("declared_status"), status).value
    if title:
        results["title"] = title
    results["published"] = True
    return recompute(results)


def read_results(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    p = Path(path)
    if not p.is_file():
        return None
    data = json.loads(p.read_text())
    return data if isinstance(data, dict) and data.get("schema") == SCHEMA else None


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=False, default=str)
        fh.write("\n")
    os.replace(tmp, p)


class PublishedResults(dict):
    """What `publish` returns: a plain dict of the merged results that shows nothing when it is
    the last expression of a cell (publish already displayed the section; without this the
    executed notebook and the HTML report would carry the whole results dict as text)."""

    def _ipython_display_(self) -> None:
        return None


def publish(*, findings: Iterable[Finding | Mapping[str, Any]] = (), recaps: Iterable[NodeRecap | Mapping[str, Any]] = (),
            tables: Mapping[str, Any] | None = None, status: Severity | str | None = None, title: str | None = None,
            notes: Iterable[str] = (), results_path: str | os.PathLike[str] | None = "", show: bool = True) -> dict[str, Any]:
    """Record (and display) a notebook section's results.

    With `results_path` set (the runner sets the notebook parameter of that name), the results
    are merged into that JSON file; with "" or None nothing is written (interactive use).
    `show` displays a status line and the findings/recaps tables as static HTML (no widgets, so
    the rendered report shows them offline). Returns the merged results dict.
    """
    findings, recaps = list(findings), list(recaps)
    existing = read_results(results_path) if results_path else None
    results = merge(existing or empty_results(), findings=findings, recaps=recaps, tables=tables, status=status,
                    title=title, notes=notes)
    if results_path:
        write_json_atomic(results_path, results)
    if show:
        section = merge(empty_results(), findings=findings, recaps=recaps, tables=tables, status=status)
        _display_html(section_html(section, title=title))
    return PublishedResults(results)


def status_badge(status: str) -> str:
    color = SEVERITY_COLORS.get(status, "#555")
    return (f'<span style="background:{color};color:#fff;padding:2px 8px;border-radius:4px;'
            f'font-weight:bold;text-transform:uppercase">{html.escape(status)}</span>')


TABLE_STYLE = "border-collapse:collapse;margin:4px 0;max-width:100%;table-layout:auto"
TABLE_CELL_STYLE = "text-align:left;padding:2px 6px;vertical-align:top;white-space:pre-wrap;overflow-wrap:break-word"
LONG_WORD = 24  # a word longer than this (a path, a dotted name, a URL) gets break points; a piece longer, anywhere
_PIECE = re.compile(r"[^/.,_=:;&]*[/.,_=:;&]*")  # a word cut after its separators


def _pieces(word: str) -> list[str]:
    """A word as its break-point pieces: after `/ . , _ = : ; &` when it is longer than `LONG_WORD`."""
    return [p for p in _PIECE.findall(word) if p] if len(word) > LONG_WORD else [word]


def wrap_css(text: str, *, break_points: bool = True) -> str:
    """Extra CSS for a cell with a long run that `wrap_html` cannot break (a hash, a long name):
    `overflow-wrap:anywhere`, so the column may shrink below its width and the table fits the
    page. Other cells keep `break-word` only: addresses, node names and statuses never split.
    `break_points=False`: the cell is not marked up by `wrap_html` (a pandas Styler), so any
    word longer than `LONG_WORD` counts."""
    too_long = any(len(p) > LONG_WORD for word in text.split() for p in (_pieces(word) if break_points else [word]))
    return ";overflow-wrap:anywhere;word-break:break-word" if too_long else ""


def wrap_html(text: str) -> str:
    """`text` HTML-escaped, with `<wbr>` (a break point that copies as nothing) after the
    separators of long words (paths, dotted names, URLs), so they wrap at `/` or `.`."""
    return "".join("<wbr>".join(html.escape(p) for p in _pieces(tok)) for tok in re.split(r"(\s+)", text))


def _cell_text(v: Any) -> str:
    if isinstance(v, list | tuple):
        return "\n".join(map(str, v))
    if v is None:
        return ""
    try:  # pandas NaN / NaT / None in an object column
        if v != v:
            return ""
    except (TypeError, ValueError):  # pragma: no cover - arrays and other odd cell values
        pass
    return str(v)


def rows_table(rows: list[dict[str, Any]], columns: list[str] | None = None, *, severity_key: str | None = None) -> str:
    """A plain static HTML table (inline styles only) for a list of row dicts: left-aligned, no
    index, no truncation, long text (and long words: paths, pod names) wrapped so the table fits
    the page width; every cell HTML-escaped."""
    if not rows:
        return "<p><em>(none)</em></p>"
    cols = columns or list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f'<th style="{TABLE_CELL_STYLE};vertical-align:bottom;border-bottom:1px solid #999{wrap_css(str(c))}">'
                   f"{html.escape(str(c))}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            text = _cell_text(r.get(c, ""))
            style = TABLE_CELL_STYLE + wrap_css(text)
            if c == severity_key:
                style += f";color:{SEVERITY_COLORS.get(text, '#000')};font-weight:bold"
            cells.append(f'<td style="{style}">{wrap_html(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="runbook-table" style="{TABLE_STYLE}">\n<tr>{head}</tr>\n' + "\n".join(body) + "\n</table>"


def table_html(table: Any, columns: list[str] | None = None, *, severity_key: str | None = None) -> str:
    """`rows_table` for anything a notebook shows as a table: a DataFrame (its index dropped), a
    list of row dicts, or one dict (one row)."""
    return rows_table(_table_rows(table), columns, severity_key=severity_key)


def show_table(table: Any, columns: list[str] | None = None, *, title: str | None = None,
               severity_key: str | None = None) -> None:
    """Display a table in a notebook / the HTML report: static HTML from `table_html` (no index
    column, full text, wrapped to the page), with an optional `<h4>` title. Use this instead of
    `display(df)` (which shows the index and cuts text at pandas' max_colwidth)."""
    markup = table_html(table, columns, severity_key=severity_key)
    _display_html((f"<h4>{html.escape(title)}</h4>" if title else "") + markup)


FINDING_COLUMNS = ["check", "severity", "target", "title", "detail", "fix"]
RECAP_COLUMNS = ["node", "status", "changed", "failed", "message"]


def section_html(results: dict[str, Any], *, title: str | None = None) -> str:
    counts = results.get("counts", {})
    parts = [f"<div><strong>{html.escape(title)}</strong></div>" if title else "",
             f"<p>{status_badge(results['status'])} &nbsp; findings: {counts.get('fail', 0)} fail, "
             f"{counts.get('warn', 0)} warn, {counts.get('ok', 0)} ok</p>"]
    if results.get("findings"):
        parts.append(rows_table(results["findings"], FINDING_COLUMNS, severity_key="severity"))
    if results.get("recaps"):
        parts.append(rows_table(results["recaps"], RECAP_COLUMNS, severity_key=None))
    for name, rows in results.get("tables", {}).items():
        parts.append(f"<div><em>{html.escape(name)}</em></div>" + rows_table(rows))
    return "\n".join(p for p in parts if p)


def _display_html(markup: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    if get_ipython() is not None:
        display(HTML(markup))
