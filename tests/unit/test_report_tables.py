"""Tables in the notebooks and HTML reports (`runbooklib.report.show_table` / `table_html` /
`rows_table`, `style_occupancy`) and the terminal occupancy table: no index column, no truncation,
long text and long words wrapped so a table fits the page, every cell HTML-escaped."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from runbooklib import report
from runbooklib.occupancy import render
from runbooklib.occupancy.render import occupancy_text, style_occupancy

LONG_TEXT = ("kubectl -n kube-system rollout restart daemonset/kube-multus-ds && kubectl -n kube-system rollout "
             "status daemonset/kube-multus-ds --timeout=300s; then check /var/lib/rancher/k3s/agent/etc/cni/net.d")
LONG_WORD = "/var/lib/rancher/k3s/data/0123456789abcdef0123456789abcdef/bin/multus-shim"


def frame() -> pd.DataFrame:
    return pd.DataFrame({"node": ["kr1", "kr2"], "fix": [LONG_TEXT, LONG_WORD], "n": [1, None]}, index=[7, 8])


def cells(markup: str, tag: str = "td") -> list[str]:
    """The cells' markup without the `<wbr>` break points (they copy and render as nothing)."""
    return [c.replace("<wbr>", "") for c in re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", markup, re.DOTALL)]


def test_no_index_column() -> None:
    markup = report.table_html(frame())
    assert cells(markup, "th") == ["node", "fix", "n"]  # no index header
    assert cells(markup)[0] == "kr1" and ">7<" not in markup and ">8<" not in markup  # no index values
    assert len(cells(markup)) == 6
    assert "dataframe" not in markup
    assert cells(markup)[2] == "1.0" and cells(markup)[5] == ""  # NaN shown empty, not "nan"/"None"


def test_full_text_present_no_ellipsis() -> None:
    markup = report.table_html(frame())
    assert cells(markup)[1] == report.html.escape(LONG_TEXT)
    assert cells(markup)[4] == LONG_WORD
    assert "…" not in markup and "..." not in markup


def test_long_words_wrap_and_table_fits_page() -> None:
    markup = report.table_html(frame())
    table = re.search(r"<table\b[^>]*>", markup)
    assert table and "max-width:100%" in table.group(0) and "table-layout:auto" in table.group(0)
    td = re.findall(r'<td style="([^"]*)">', markup)
    assert all("text-align:left" in s and "white-space:pre-wrap" in s and "overflow-wrap" in s for s in td)
    long_word_cell = td[4]  # row 2, "fix": an unbreakable path
    assert "overflow-wrap:anywhere" in long_word_cell and "word-break:break-word" in long_word_cell
    assert "overflow-wrap:anywhere" not in td[0]  # "kr1": short words never split
    # long paths and dotted names get break points after their separators; short words (addresses) none
    assert report.wrap_html("/etc/cni/net.d/whereabouts.d/x.conf") == "/<wbr>etc/<wbr>cni/<wbr>net.<wbr>d/<wbr>whereabouts.<wbr>d/<wbr>x.<wbr>conf"
    assert report.wrap_html("198.18.205.10 ok") == "198.18.205.10 ok"
    assert report.wrap_css("manifests.whereabouts-conf-dir") == ""  # breaks at the dot, not mid-word


def test_html_escaped() -> None:
    markup = report.rows_table([{"<col>": "<script>alert('x')</script> & more"}])
    assert "<script>" not in markup and cells(markup) == ["&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more"]
    assert cells(markup, "th") == ["&lt;col&gt;"]
    long_entities = "<" * 30 + "&&&" + "/x" * 20  # break points go between escaped pieces, never inside an entity
    assert cells(report.rows_table([{"a": long_entities}])) == [report.html.escape(long_entities)]


def test_rows_dicts_lists_and_empty() -> None:
    assert report.table_html([]) == "<p><em>(none)</em></p>"
    markup = report.table_html({"a": ["x", "y"]})  # one dict = one row; a list cell = one item a line
    assert cells(markup) == ["x\ny"]
    assert cells(report.table_html([{"a": 1}, {"b": 2}], columns=["b"])) == ["", "2"]


def test_show_table_displays_title_and_table(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(report, "_display_html", shown.append)
    report.show_table(frame(), title="a <plan>")
    assert len(shown) == 1
    assert shown[0].startswith("<h4>a &lt;plan&gt;</h4><table")
    assert shown[0].endswith(report.table_html(frame()))


def test_findings_section_uses_the_same_table() -> None:
    results = report.merge(report.empty_results(), findings=[{"check": "manifests", "severity": "warn", "target": "ds",
                                                              "title": "t", "detail": "", "fix": LONG_WORD}])
    markup = report.section_html(results)
    assert 'class="runbook-table"' in markup and "overflow-wrap:anywhere" in markup and LONG_WORD in cells(markup)


def test_style_occupancy_hides_index_wraps_and_escapes() -> None:
    occ = pd.DataFrame({"address": ["198.18.205.10"], "state": ["reserved"], "holder": ["<b>" + LONG_WORD + "</b>"]},
                       index=[42])
    markup = style_occupancy(occ).to_html()
    assert "row_heading" not in markup and ">42<" not in markup
    assert "&lt;b&gt;" in markup and "<b>" not in markup
    assert "table-layout: auto" in markup and "overflow-wrap: anywhere" in markup and "text-align: left" in markup


def test_occupancy_text_holder_not_cut() -> None:
    holder = "default/pod-with-a-rather-long-name-abcdef, longhorn-system/instance-manager-0123456789abcdef"
    rows = pd.DataFrame({"address": ["198.18.205.10"], "state": ["duplicate"], "holder": [holder],
                         "pool": ["longhorn-system/storage-205"], "subnet": ["198.18.205.0/24"], "detail": ["d"]})
    occ: Any = SimpleNamespace(summary=pd.DataFrame(), findings=[], tables_by_subnet=lambda: {"198.18.205.0/24": rows})
    lines = occupancy_text(occ).splitlines()
    assert lines[0] == "== 198.18.205.0/24" and lines[1].startswith("address")
    start, width = 33 + 1 + 17 + 1, render.HOLDER_WIDTH
    holder_parts = [line[start:start + width].strip() for line in lines[2:] if line.strip()]
    assert " ".join(holder_parts) == holder  # wrapped onto a continuation line, nothing cut
    assert len(holder_parts) == 2 and "longhorn-system/storage-205" in lines[2] and lines[2].endswith(" d")
    short = rows.assign(holder=["nas (the lab's NAS address on the storage bridge)"])  # > 40: was cut before
    occ.tables_by_subnet = lambda: {"198.18.205.0/24": short}
    assert "nas (the lab's NAS address on the storage bridge) longhorn-system/storage-205 d" in occupancy_text(occ)
