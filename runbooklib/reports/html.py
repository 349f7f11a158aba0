"""The HTML report of an executed notebook: code hidden, a summary on top, viewable offline."""

from __future__ import annotations

import copy
import html
import re
from typing import Any

import nbformat

from runbooklib.report import FINDING_COLUMNS, rows_table, status_badge

ERROR_TAG = "papermill-error-cell-tag"
REMOVE_TAGS = {"remove-cell", "remove_cell", "injected-parameters"}

_SCRIPT_BLOCK = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_REMOTE_ATTR = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
_REMOTE_IMPORT = re.compile(r"""\bimport\b[^;]*?["'](?:https?:)?//|\bimport\(\s*["'](?:https?:)?//""", re.IGNORECASE)


def _fetches_network(tag: str) -> bool:
    opening = tag.split(">", 1)[0]
    return bool(_REMOTE_ATTR.search(opening) or _REMOTE_IMPORT.search(tag))


def make_offline(markup: str) -> str:
    """Drop every <script>/<link> that would fetch from the network (require.js, MathJax, mermaid, widgets)."""
    markup = _SCRIPT_BLOCK.sub(lambda m: "" if _fetches_network(m.group(0)) else m.group(0), markup)
    return _LINK_TAG.sub(lambda m: "" if _REMOTE_ATTR.search(m.group(0)) else m.group(0), markup)


def offline_violations(markup: str) -> list[str]:
    """Script or stylesheet tags that would load something over the network (empty = viewable offline)."""
    bad = [m.group(0).split(">", 1)[0] + ">" for m in _SCRIPT_BLOCK.finditer(markup) if _fetches_network(m.group(0))]
    bad += [m.group(0) for m in re.finditer(r"<script\b[^>]*>", markup, re.IGNORECASE) if _REMOTE_ATTR.search(m.group(0))
            and m.group(0) not in bad]
    bad += [m.group(0) for m in _LINK_TAG.finditer(markup) if _REMOTE_ATTR.search(m.group(0))]
    return bad


def prepare_for_report(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the executed notebook fit for the report: papermill's top banner removed (the
    summary replaces it), tracebacks shortened to `ename: evalue`, widget state dropped."""
    nb = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_TAGS:
            continue
        if ERROR_TAG in tags and i == 0:
            continue
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def summary_html(summary: dict[str, Any]) -> str:
    """The block at the top of the report: title, params file, cluster, when, status, counts, error."""
    counts = summary.get("counts", {})
    recap_counts = summary.get("recap_counts", {})
    rows = [("params file", summary.get("params_file", "")), ("cluster", summary.get("cluster", "")),
            ("when (UTC)", summary.get("started_at", "")), ("duration", f"{summary.get('duration_s', 0):.1f} s"),
            ("findings", f"{counts.get('fail', 0)} fail, {counts.get('warn', 0)} warn, {counts.get('ok', 0)} ok")]
    if recap_counts:
        rows.append(("nodes", ", ".join(f"{n} {k}" for k, n in sorted(recap_counts.items()))))
    if summary.get("parameters"):
        rows.append(("parameters", ", ".join(f"{k}={v!r}" for k, v in summary["parameters"].items())))
    table = "".join(f'<tr><th style="text-align:left;padding:1px 10px 1px 0">{html.escape(k)}</th>'
                    f"<td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    parts = [
        '<section id="runbook-summary" style="border:1px solid #ccc;border-radius:6px;padding:10px 16px;margin:12px 0;'
        'font-family:sans-serif">',
        f'<h1 style="margin-top:0">{html.escape(summary.get("title") or summary.get("notebook", "runbook"))}</h1>',
        f"<p>overall status: {status_badge(summary.get('status', 'ok'))}</p>",
        f"<table>{table}</table>",
    ]
    error = summary.get("error")
    if error:
        parts.append(f'<p style="color:#c82333"><strong>A cell failed</strong> (<a href="#papermill-error-cell">go to it</a>): '
                     f"cell {html.escape(str(error.get('cell', '?')))} <code>{html.escape(error.get('first_line', ''))}</code>: "
                     f"<strong>{html.escape(error.get('ename', ''))}</strong>: {html.escape(error.get('evalue', ''))}</p>")
    bad = [f for f in summary.get("findings", []) if f.get("severity") in ("fail", "warn")]
    if bad:
        parts.append("<h3>Findings to act on</h3>" + rows_table(bad, FINDING_COLUMNS, severity_key="severity"))
    for note in summary.get("notes", []):
        parts.append(f"<p><em>{html.escape(note)}</em></p>")
    parts.append("</section>")
    return "\n".join(parts)


def _inject(markup: str, block: str) -> str:
    for pattern in (r"<main\b[^>]*>", r"<body\b[^>]*>"):
        m = re.search(pattern, markup, re.IGNORECASE)
        if m:
            return markup[: m.end()] + "\n" + block + "\n" + markup[m.end():]
    return block + markup


def render_html(nb: nbformat.NotebookNode, summary: dict[str, Any]) -> str:
    """nbconvert (lab template) with inputs and prompts hidden, the summary on top, offline."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True)
    body, _ = exporter.from_notebook_node(prepare_for_report(nb),
                                          resources={"metadata": {"name": summary.get("title") or summary.get("notebook", "")}})
    return make_offline(_inject(body, summary_html(summary)))
