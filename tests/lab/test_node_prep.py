"""Node prep against the lab (root): fresh nodes, broken starting states from the handed cases,
checksum mismatch, an unreachable node and a kill -9 mid-apply. Every end state is checked by
reading the node over SSH with its own shell checks (not through runbooklib's facts parser).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from runbooklib.errors import ChecksumMismatch
from runbooklib.nodes import plan_nodes, prep_nodes
from runbooklib.nodes.bundle import load_plugin_bundle
from runbooklib.params import Params, load_params, params_from_dict
from runbooklib.remote.host import SshHost
from runbooklib.remote.shell import q
from runbooklib.results import Status

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]
BACKUPS = "/var/lib/rancher/runbooklib-backups"  # private per lab node (/var/backups is the host's)
STEPS = {"opt-cni-bin-dir", "cni-plugins", "flannel-copy", "multus-shim-link", "passthru-link", "whereabouts-link"}


@pytest.fixture(scope="module")
def prep_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Params]:
    if os.geteuid() != 0:
        pytest.skip("lab test needs root")
    from labhelpers import cleanup_stale_test_labs, make_lab_params

    from runbooklib.lab.lab import Lab

    cleanup_stale_test_labs()
    pfile = make_lab_params(tmp_path_factory.mktemp("prep"), "prep", n_nodes=4)
    lab = Lab.from_params(load_params(pfile, require_files=False))
    lab.up()
    try:
        yield load_params(pfile)
    finally:
        lab.down()


def sh(params: Params, node: str, script: str) -> str:
    host = SshHost.from_params(params, params.node(node))
    try:
        out = host.run(script)
        assert out.exit_code == 0, f"{node}: {script}\n{out.stderr}"
        return out.stdout
    finally:
        host.close()


def assert_five_states(params: Params, node: str) -> None:
    k = params.k3s
    bundle = load_plugin_bundle(params)
    sums = "".join(f"{m.sha256}  {m.name}\n" for m in bundle.members.values())
    checks = f"""
set -e
o={q(k.opt_cni_bin)}
[ -d "$o" ] && [ ! -L "$o" ] || {{ echo "1: $o not a real dir" >&2; exit 1; }}
for f in {' '.join(q(n) for n in bundle.members)} flannel; do
  [ -f "$o/$f" ] && [ ! -L "$o/$f" ] && [ -x "$o/$f" ] || {{ echo "2: $f not a real executable" >&2; exit 1; }}
done
(cd "$o" && printf %s {q(sums)} | sha256sum -c --quiet -) || {{ echo "2: plugin checksum" >&2; exit 1; }}
cmp -s "$o/flannel" {q(k.multicall_binary)} || {{ echo "3: flannel differs" >&2; exit 1; }}
for l in multus-shim passthru; do
  [ "$(readlink {q(k.cni_bin_dir)}/$l)" = "$o/$l" ] || {{ echo "4: $l" >&2; exit 1; }}
done
[ "$(readlink {q(k.whereabouts_link)})" = {q(k.whereabouts_target)} ] && [ -d {q(k.whereabouts_target)} ] || {{ echo 5 >&2; exit 1; }}
! ls -a "$o" /opt/cni {q(k.cni_bin_dir)} /etc/cni/net.d | grep -q '^\\.runbooklib-' || {{ echo leftovers >&2; exit 1; }}
echo FIVE-OK
"""
    assert "FIVE-OK" in sh(params, node, checks)


BREAK = {
    # C01: /opt/cni/bin a symlink into the k3s bin dir; a real multus-shim file in data/cni
    "c01": "rm -rf /opt/cni/bin && mkdir -p /opt/cni && ln -s /var/lib/rancher/k3s/data/cni /opt/cni/bin && "
           "rm -f /var/lib/rancher/k3s/data/cni/multus-shim && printf '#!/bin/sh\\necho shim\\n' > /var/lib/rancher/k3s/data/cni/multus-shim && "
           "chmod 755 /var/lib/rancher/k3s/data/cni/multus-shim",
    # C02-like: plugins missing / wrong / a symlink
    "plugins": "rm -f /opt/cni/bin/macvlan /opt/cni/bin/portmap && echo old > /opt/cni/bin/bridge && "
               "ln -s /var/lib/rancher/k3s/data/cni/bridge /opt/cni/bin/firewall.tmp && mv -f /opt/cni/bin/firewall.tmp /opt/cni/bin/firewall",
    # k3s upgrade: data/current moves to a new hash with a different multicall binary -> stale flannel copy
    "stale-flannel": "d=/var/lib/rancher/k3s/data; new=$d/upgradedhash; mkdir -p $new/bin && "
                     "cp $d/current/bin/cni $new/bin/cni && printf '\\n' >> $new/bin/cni && ln -sfn $new $d/current.tmp && "
                     "mv -T $d/current.tmp $d/current",
    # dangling multus-shim into an old hash dir; whereabouts.d a real dir
    "dangling-shim": "ln -sfn /var/lib/rancher/k3s/data/oldhash/bin/multus-shim /var/lib/rancher/k3s/data/cni/multus-shim && "
                     "rm -f /etc/cni/net.d/whereabouts.d && mkdir -p /etc/cni/net.d/whereabouts.d && "
                     "echo '{}' > /etc/cni/net.d/whereabouts.d/whereabouts.conf",
}


def test_01_fresh_plan_apply_second_apply(prep_lab: Params) -> None:
    params = prep_lab
    plan = plan_nodes(params, backup_root=BACKUPS)
    for recap in plan.recaps:
        assert {op.name for op in recap.ops if op.changed} == STEPS, recap
        assert plan.runs[recap.node].round_trips == 1
    res = prep_nodes(params, backup_root=BACKUPS)
    assert res.ok, res.to_json()
    for recap in res.recaps:
        assert recap.status is Status.CHANGED
        assert "dangles until" in recap.ops[-1].reason  # multus-shim/passthru: ok with a note
    for n in params.nodes:
        assert_five_states(params, n.name)
    again = prep_nodes(params, backup_root=BACKUPS)
    assert again.changed == 0 and all(r.status is Status.OK for r in again.recaps), again.to_json()


def test_02_broken_states_converge(prep_lab: Params) -> None:
    params = prep_lab
    prep_nodes(params, backup_root=BACKUPS)
    for node, case in zip([n.name for n in params.nodes], BREAK, strict=True):
        sh(params, node, BREAK[case])
    plan = plan_nodes(params, backup_root=BACKUPS)
    assert all(r.changed_count >= 1 for r in plan.recaps), plan.to_json()
    res = prep_nodes(params, backup_root=BACKUPS)
    assert res.ok, res.to_json()
    for n in params.nodes:
        assert_five_states(params, n.name)
    c01_node = params.nodes[0].name
    assert "echo shim" in sh(params, c01_node, "cat /opt/cni/bin/multus-shim")  # carried over as a real file
    assert prep_nodes(params, backup_root=BACKUPS).changed == 0


def test_03_checksum_mismatch_installs_nothing(prep_lab: Params, tmp_path: Path) -> None:
    params = prep_lab
    node = params.nodes[1].name
    sh(params, node, "rm -f /opt/cni/bin/macvlan")
    raw = yaml.safe_load(Path(params.source_path or "").read_text())
    raw["artifacts"]["cni_plugins"] = {"url": raw["artifacts"]["cni_plugins"]["url"], "sha256": "0" * 64}
    bad = params_from_dict(raw, source=params.source_path or "")
    with pytest.raises(ChecksumMismatch, match="nothing was installed"):
        prep_nodes(bad, backup_root=BACKUPS, cache_dir=tmp_path / "cache")
    assert sh(params, node, "[ -e /opt/cni/bin/macvlan ] && echo present || echo absent").strip() == "absent"
    prep_nodes(params, backup_root=BACKUPS)
    assert_five_states(params, node)


def test_04_unreachable_node_others_complete(prep_lab: Params) -> None:
    params = prep_lab
    raw = yaml.safe_load(Path(params.source_path or "").read_text())
    mgmt = raw["lab"]["mgmt_cidr"].rsplit(".", 1)[0]
    raw["nodes"][-1]["ssh"]["host"] = f"{mgmt}.250"  # nothing there
    raw["ssh"]["connect_timeout_s"] = 3
    dead = params_from_dict(raw, source=params.source_path or "")
    for n in params.nodes[:-1]:
        sh(params, n.name, "rm -f /opt/cni/bin/vlan")
    t0 = time.monotonic()
    res = prep_nodes(dead, backup_root=BACKUPS)
    by = {r.node: r for r in res.recaps}
    assert by[params.nodes[-1].name].status is Status.UNREACHABLE
    for n in params.nodes[:-1]:
        assert by[n.name].status is Status.CHANGED, res.to_json()
        assert_five_states(params, n.name)
    assert time.monotonic() - t0 < 60


@pytest.mark.parametrize("after_lines", [2, 6, 10])
def test_05_kill_9_during_apply_then_rerun_converges(prep_lab: Params, tmp_path: Path, after_lines: int) -> None:
    params = prep_lab
    for n in params.nodes:
        sh(params, n.name, BREAK["c01"] + " && rm -f /opt/cni/bin/flannel")
    journal = tmp_path / "journal.jsonl"
    cmd = [sys.executable, "-m", "runbooklib", "prep", "--params", params.source_path or "", "--quiet",
           "--backup-root", BACKUPS, "--journal", str(journal)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= after_lines:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    res = prep_nodes(params, backup_root=BACKUPS)
    assert res.ok, res.to_json()
    for n in params.nodes:
        assert_five_states(params, n.name)
    assert prep_nodes(params, backup_root=BACKUPS).changed == 0


def test_06_cli_json(prep_lab: Params) -> None:
    params = prep_lab
    out = subprocess.run([sys.executable, "-m", "runbooklib", "prep", "--params", params.source_path or "", "--plan", "--json"],  # noqa: S603
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["mode"] == "plan" and len(data["nodes"]) == len(params.nodes)
    for node in data["nodes"]:
        for op in node["ops"]:
            assert {"name", "status", "changed", "commands", "exit_code", "duration_s"} <= set(op)
