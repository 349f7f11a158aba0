"""`runbook params check`: exit codes and output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def runbook(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbooklib", *args], capture_output=True, text=True, cwd=REPO, check=False)  # noqa: S603


def test_check_ok() -> None:
    r = runbook("params", "check", "params/homelab.yaml")
    assert r.returncode == 0, r.stderr
    assert "ok (cluster homelab: 4 nodes, 1 NADs)" in r.stdout


def test_check_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    raw = yaml.safe_load((REPO / "params" / "homelab.yaml").read_text())
    raw["nads"][0]["ipam"]["range_end"] = "192.168.205.230"
    raw["nads"][0]["mtu"] = 100000
    f = tmp_path / "broken.yaml"
    f.write_text(yaml.safe_dump(raw))
    r = runbook("params", "check", str(f))
    assert r.returncode == 2
    assert "2 problem(s)" in r.stderr
    assert "nads[0].ipam.range_end: range_end 192.168.205.230 is before range_start 192.168.205.240" in r.stderr
    assert "nads[0].mtu: MTU 100000 outside 68..65535" in r.stderr


def test_no_files_flag() -> None:
    assert runbook("params", "check", "--no-files", "params/lab.yaml").returncode == 0


def test_bad_usage_exits_2() -> None:
    assert runbook("params").returncode == 2
    assert runbook("nonsense").returncode == 2


def test_help_lists_params() -> None:
    r = runbook("--help")
    assert r.returncode == 0 and "params" in r.stdout
