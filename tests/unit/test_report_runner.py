"""`runbook run`: a tiny notebook executed with papermill → executed .ipynb, offline HTML with a
summary, JSON results; exit codes 0/1/2; a failing cell reported briefly; secrets scrubbed.

Kernel starts are slow, so exactly two notebook executions are shared by the whole module.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from runbooklib.cli import run_cmd
from runbooklib.report import empty_results, merge, publish, read_results
from runbooklib.reports import CliValue, RunInputError, RunResult, check_parameters, inspect_parameters, run_notebook
from runbooklib.reports.html import make_offline, offline_violations
from runbooklib.results import Finding, NodeRecap, Severity, Status

REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-sudo-pw-4711"

PARAMETERS_CELL = '''\
params_file: str = "../params/homelab.yaml"  # the params file (the runner passes an absolute path)
results_path: str = ""  # where publish() writes the JSON results (empty: only display)
interactive: bool = False  # build ipywidgets (JupyterLab only)
fail_count: int = 0  # fake failing findings to publish
boom: bool = False  # raise in the last cell
node: str = "kr1"  # node to name in the findings
'''

WORK_CELL = '''\
import os
from runbooklib.params import load_params
from runbooklib.report import publish
from runbooklib.results import Finding, NodeRecap, Severity, Status
params = load_params(params_file)
print("sudo password is", os.environ.get(params.ssh.sudo_password_env, "unset"))
findings = [Finding("plugins", "flannel is a real file", Severity.OK, target=node),
            Finding("plugins", "multus-shim link", Severity.WARN, target=node, detail="dangling")]
findings += [Finding("plugins", f"macvlan missing #{i}", Severity.FAIL, target="kr2", fix=["install macvlan"]) for i in range(fail_count)]
publish(findings=findings, recaps=[NodeRecap(node=node, status=Status.OK, message="nothing to do")],
        tables={"plugins": [{"node": node, "plugin": "flannel", "kind": "file"}]}, results_path=results_path)
'''


def tiny_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMETERS_CELL)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny check: failed to find plugin\nAnswers `failed to find plugin \"flannel\"`."),
        params,
        nbformat.v4.new_code_cell(WORK_CELL),
        nbformat.v4.new_code_cell('assert not interactive, "widgets under papermill"\nif boom:\n    raise ValueError("no route to kr2")'),
    ]
    nbformat.write(nb, str(path))
    return path


def params_file(path: Path) -> Path:
    raw = yaml.safe_load((REPO / "params" / "homelab.yaml").read_text())
    raw.setdefault("ssh", {})["sudo_password_env"] = "LAB_SUDO_PW"  # a name that does not look secret
    path.write_text(yaml.safe_dump(raw))
    return path


def run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runbook")
    run_cmd.register(parser.add_subparsers(dest="command"))
    return parser


def cli(*argv: str) -> int:
    args = run_parser().parse_args(list(argv))
    return int(args.func(args))


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("runner")
    return {"nb": tiny_notebook(d / "tiny.ipynb"), "params": params_file(d / "cluster.yaml"), "dir": d}


@pytest.fixture(scope="module")
def ok_run(setup: dict[str, Path]) -> tuple[int, Path]:
    """Through the CLI: warnings only → exit 0."""
    out = setup["dir"] / "out-ok"
    return cli("run", str(setup["nb"]), "--params", str(setup["params"]), "-p", "node=hp1", "--out", str(out)), out


@pytest.fixture(scope="module")
def failed_run(setup: dict[str, Path]) -> Iterator[RunResult]:
    """Through the library: failing findings, a failing cell, and the sudo password in the output."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_SUDO_PW", SECRET)
        yield run_notebook(setup["nb"], setup["params"], {"fail_count": 2, "boom": True}, setup["dir"] / "out-fail")


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


# -- the successful run -------------------------------------------------------------------------


def test_ok_run_writes_three_files_and_exits_0(ok_run: tuple[int, Path]) -> None:
    code, out = ok_run
    assert code == 0
    assert {p.name for p in out.iterdir()} == {"tiny.ipynb", "tiny.html", "tiny.results.json"}
    nb = nbformat.read(str(out / "tiny.ipynb"), as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "interactive = False" in injected[0].source and "node = \"hp1\"" in injected[0].source


def test_ok_run_results_json(ok_run: tuple[int, Path]) -> None:
    data = load(ok_run[1] / "tiny.results.json")
    assert data["schema"] == "runbooklib.results/v1" and data["published"]
    assert data["status"] == "warn" and data["counts"] == {"ok": 1, "warn": 1, "fail": 0}
    assert [f["target"] for f in data["findings"]] == ["hp1", "hp1"]
    assert data["recaps"][0]["node"] == "hp1" and data["tables"]["plugins"][0]["plugin"] == "flannel"
    run = data["run"]
    assert run["cluster"] == "homelab" and run["exit_code"] == 0 and run["error"] is None
    assert run["parameters"] == {"node": "hp1"} and run["title"] == "Tiny check: failed to find plugin"


def test_ok_run_html_is_offline_with_summary_and_no_code(ok_run: tuple[int, Path]) -> None:
    html = (ok_run[1] / "tiny.html").read_text()
    remote = re.findall(r"<(?:script|link)\b[^>]*(?:src|href)\s*=\s*[\"']?https?://[^>]*>", html, re.IGNORECASE)
    assert remote == [] and offline_violations(html) == []
    assert not re.search(r"import[^;\n]*[\"']https?://", html)  # no remote ES modules (mermaid) either
    summary = html[html.index('id="runbook-summary"'):html.index("</section>")]
    for text in ("Tiny check: failed to find plugin", "cluster.yaml", "homelab", "when (UTC)", ">warn<",
                 "0 fail, 1 warn, 1 ok", "multus-shim link"):
        assert text in summary, text
    assert "findings" in summary
    assert "macvlan" not in summary  # only the findings to act on
    assert "from runbooklib.report import publish" not in html  # code cells hidden
    assert "flannel is a real file" in html  # tables shown
    assert "runbooklib.results/v1" not in html  # publish()'s return value, the cell's last expression, is not echoed


# -- the failed run -----------------------------------------------------------------------------


def test_failed_run_exit_1_with_short_cell_error(failed_run: RunResult) -> None:
    r = failed_run
    assert r.exit_code == 1 and r.status is Severity.FAIL
    assert r.counts == {"ok": 1, "warn": 1, "fail": 2}
    assert r.error is not None
    assert (r.error.ename, r.error.evalue, r.error.first_line) == ("ValueError", "no route to kr2",
                                                                    'assert not interactive, "widgets under papermill"')
    assert str(r.error) == f'cell {r.error.cell} (assert not interactive, "widgets under papermill"): ValueError: no route to kr2'
    assert r.results["run"]["error"]["ename"] == "ValueError"


def test_failed_run_html_still_written_with_error_not_traceback(failed_run: RunResult) -> None:
    assert failed_run.html_path is not None
    html = failed_run.html_path.read_text()
    assert "A cell failed" in html and "no route to kr2" in html and ">fail<" in html
    assert "Traceback" not in html and "most recent call last" not in html
    assert offline_violations(html) == []


def test_failed_run_scrubs_the_sudo_password(failed_run: RunResult) -> None:
    for path in (failed_run.executed_path, failed_run.html_path, failed_run.results_path):
        assert path is not None
        assert SECRET not in path.read_text(), path.name
    assert "sudo password is ********" in failed_run.executed_path.read_text()
    assert failed_run.secrets_scrubbed >= 1
    assert any("secret value" in n for n in failed_run.results["notes"])


# -- bad input: exit 2 before any kernel starts ---------------------------------------------------


def test_unknown_parameter_exit_2(setup: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("run", str(setup["nb"]), "--params", str(setup["params"]), "-p", "nodes=kr1", "--out", str(setup["dir"] / "x")) == 2
    err = capsys.readouterr().err
    assert "nodes: tiny has no such parameter" in err and "fail_count" in err
    assert not (setup["dir"] / "x").exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["-p", "sudo_password=hunter2"], "looks like a secret"),
    (["-p", "api_token=abc"], "looks like a secret"),
    (["-p", "results_path=/tmp/x"], "set by the runner"),
    (["-p", "fail_count=many"], "'many' is not a int"),
    (["-p", "boom=maybe"], "is not a bool"),
    (["-p", "novalue"], "expected key=value"),
])
def test_bad_parameters_exit_2(setup: dict[str, Path], capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert cli("run", str(setup["nb"]), "--params", str(setup["params"]), *argv) == 2
    assert message in capsys.readouterr().err


def test_unknown_notebook_and_bad_params_file_exit_2(setup: dict[str, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNBOOK_NOTEBOOKS_DIR", str(setup["dir"]))
    assert cli("run", "no-such-runbook", "--params", str(setup["params"])) == 2
    assert "unknown notebook 'no-such-runbook' (known notebooks: tiny" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("cluster: x\nnodes: []\n")
    assert cli("run", "tiny", "--params", str(bad)) == 2  # found by name; params invalid
    assert "problem(s) in params" in capsys.readouterr().err


def test_cli_values_are_yaml_except_for_str_parameters(setup: dict[str, Path]) -> None:
    declared = inspect_parameters(setup["nb"])
    assert declared["fail_count"].type == "int" and declared["node"].help == "node to name in the findings"
    got = check_parameters({"fail_count": CliValue("3"), "boom": CliValue("true"), "node": CliValue("007")}, declared, "tiny")
    assert got == {"fail_count": 3, "boom": True, "node": "007"}
    assert check_parameters({"fail_count": 2}, declared, "tiny") == {"fail_count": 2}
    with pytest.raises(RunInputError, match="True is not a int"):
        check_parameters({"fail_count": True}, declared, "tiny")


def test_parameter_line_papermill_cannot_read_is_refused(tmp_path: Path, setup: dict[str, Path]) -> None:
    nb = nbformat.read(str(setup["nb"]), as_version=4)
    nb.cells[1].source += 'mode: str = "a"  # default: mode="a"\n'
    nbformat.write(nb, str(tmp_path / "bad.ipynb"))
    with pytest.raises(RunInputError, match="papermill cannot read") as e:
        inspect_parameters(tmp_path / "bad.ipynb")
    assert "line 7" in str(e.value)


def test_notebooks_list(setup: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNBOOK_NOTEBOOKS_DIR", str(setup["dir"]))
    assert cli("notebooks", "list") == 0
    out = capsys.readouterr().out
    assert "tiny: Tiny check: failed to find plugin" in out
    assert "    fail_count: int = 0  # fake failing findings to publish" in out


# -- publish() and the HTML helpers without a kernel ------------------------------------------------


def test_publish_accumulates_and_works_without_results_path(tmp_path: Path) -> None:
    assert publish(findings=[Finding("c", "t", Severity.WARN)], results_path="", show=False)["status"] == "warn"
    target = tmp_path / "r.json"
    publish(findings=[Finding("c", "a", Severity.OK)], results_path=target, show=False)
    publish(recaps=[NodeRecap(node="kr1", status=Status.FAILED)], tables={"t": [{"a": 1}]}, results_path=target, show=False)
    data = read_results(target)
    assert data is not None and data["status"] == "fail" and data["counts"]["ok"] == 1 and data["recap_counts"] == {"failed": 1}
    assert merge(empty_results(), status="warn")["status"] == "warn"  # an explicit status counts too


def test_make_offline_drops_remote_scripts_and_styles() -> None:
    page = ('<head><script src="https://cdn.example/require.js"></script><script>var x = 1;</script>'
            '<link rel="stylesheet" href="http://cdn.example/a.css"><link rel="icon" href="data:,">'
            '<script type="module">import m from "https://cdn.example/mermaid.mjs";</script></head>')
    assert len(offline_violations(page)) == 3
    clean = make_offline(page)
    assert offline_violations(clean) == [] and "var x = 1;" in clean and 'href="data:,"' in clean
