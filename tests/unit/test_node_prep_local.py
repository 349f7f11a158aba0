"""Node prep end to end against fake k3s trees through LocalHost (real facts script, plan, apply)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nodetree import HASH_A, HASH_B, PLUGINS, Tree, local_factory, make_params, make_tarball, seed_k3s

from runbooklib.errors import ChecksumMismatch, UnreachableError
from runbooklib.nodes import plan_nodes, prep_nodes
from runbooklib.nodes.apply import gather_facts
from runbooklib.nodes.bundle import load_plugin_bundle
from runbooklib.nodes.desired import desired_state
from runbooklib.nodes.plan import plan_node
from runbooklib.params import Params
from runbooklib.remote.host import LocalHost
from runbooklib.remote.journal import Journal
from runbooklib.results import Status

ALL_STEPS = {"opt-cni-bin-dir", "cni-plugins", "flannel-copy", "multus-shim-link", "passthru-link", "whereabouts-link"}


@pytest.fixture
def node(tmp_path: Path) -> tuple[Tree, Params, dict]:
    root = tmp_path / "node"
    seed_k3s(root)
    tgz = tmp_path / "cni-plugins.tgz"
    sha = make_tarball(tgz)
    params = make_params(root, tgz, sha)
    kw = {"host_factory": local_factory, "backup_root": str(root / "backups"), "cache_dir": tmp_path / "cache"}
    return Tree(root), params, kw


def snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            out[str(p)] = f"link:{os.readlink(p)}" if p.is_symlink() else ("dir" if p.is_dir() else p.read_bytes().hex()[:64])
    return out


def converge(tree: Tree, params: Params, kw: dict) -> None:
    res = prep_nodes(params, **kw)
    assert res.ok, res.to_json()
    tree.assert_five_states()
    again = prep_nodes(params, **kw)
    assert again.changed == 0, again.to_json()
    assert all(op.status is Status.OK for op in again.recaps[0].ops)


def test_fresh_plan_lists_every_step_and_changes_nothing(node) -> None:
    tree, params, kw = node
    before = snapshot(tree.root)
    res = plan_nodes(params, **kw)
    assert {op.name for op in res.recaps[0].ops if op.changed} == ALL_STEPS
    assert all(op.commands for op in res.recaps[0].ops)
    assert snapshot(tree.root) == before
    assert res.runs["n1"].round_trips == 1


def test_fresh_apply_then_second_apply_is_noop(node) -> None:
    tree, params, kw = node
    res = prep_nodes(params, **kw)
    recap = res.recaps[0]
    assert recap.status is Status.CHANGED
    assert {op.name for op in recap.ops if op.changed} == ALL_STEPS
    verify = recap.ops[-1]
    assert verify.name == "verify" and verify.status is Status.OK and "dangles until" in verify.reason
    converge(tree, params, kw)
    frame = res.frame()
    assert list(frame.columns)[:4] == ["node", "operation", "status", "changed"]


def test_c01_opt_symlink_into_k3s_dir(node) -> None:
    tree, params, kw = node
    tree.opt.parent.mkdir(parents=True)
    tree.opt.symlink_to(tree.cbd)
    (tree.cbd / "multus-shim").write_text("#!/bin/sh\necho shim\n")
    (tree.cbd / "multus-shim").chmod(0o755)
    multicall = tree.multicall.read_bytes()
    converge(tree, params, kw)
    # nothing was written through the old symlink into k3s's own files
    assert tree.multicall.read_bytes() == multicall
    assert (tree.cbd / "bridge").is_symlink() and (tree.cbd / "portmap").is_symlink()
    assert (tree.opt / "multus-shim").read_text() == "#!/bin/sh\necho shim\n"  # carried over as a real file
    assert not (tree.opt / "multus-shim").is_symlink()
    backups = list(tree.backups.glob("*/opt-cni-bin-dir/**/opt/cni/bin"))
    assert backups and backups[0].is_symlink() and os.readlink(backups[0]) == str(tree.cbd)
    assert list(tree.backups.glob("*/**/data/cni/multus-shim"))  # the replaced regular file


def test_plugins_missing_and_wrong(node) -> None:
    tree, params, kw = node
    converge(tree, params, kw)
    (tree.opt / "macvlan").unlink()
    (tree.opt / "bridge").write_text("old\n")
    (tree.opt / "portmap").unlink()
    (tree.opt / "portmap").symlink_to(tree.cbd / "portmap")
    res = prep_nodes(params, **kw)
    op = next(o for o in res.recaps[0].ops if o.name == "cni-plugins")
    assert op.changed and "install 3 of 6" in op.reason
    converge(tree, params, kw)


def test_stale_flannel_after_k3s_upgrade(node) -> None:
    tree, params, kw = node
    converge(tree, params, kw)
    seed_k3s(tree.root, HASH_B, "multicall-B")
    res = plan_nodes(params, **kw)
    assert [o.name for o in res.recaps[0].ops if o.changed] == ["flannel-copy"]
    converge(tree, params, kw)
    assert b"multicall-B" in (tree.opt / "flannel").read_bytes()


def test_dangling_multus_shim_elsewhere(node) -> None:
    tree, params, kw = node
    converge(tree, params, kw)
    (tree.cbd / "multus-shim").unlink()
    (tree.cbd / "multus-shim").symlink_to(tree.root / f"var/lib/rancher/k3s/data/{HASH_A}/bin/multus-shim")
    converge(tree, params, kw)


def test_whereabouts_real_dir_is_backed_up(node) -> None:
    tree, params, kw = node
    tree.wb_link.mkdir(parents=True)
    (tree.wb_link / "whereabouts.conf").write_text("{}")
    converge(tree, params, kw)
    assert list(tree.backups.glob("*/**/whereabouts.d/whereabouts.conf"))


def test_checksum_mismatch_installs_nothing(node, tmp_path: Path) -> None:
    tree, params, kw = node
    bad = params.model_copy(deep=True)
    bad.artifacts.cni_plugins.sha256 = "0" * 64
    journal = Journal()
    with pytest.raises(ChecksumMismatch, match="nothing was installed"):
        prep_nodes(bad, journal=journal, **kw)
    assert not tree.opt.exists() and not journal.entries
    plan = plan_nodes(bad, **kw)
    op = next(o for o in plan.recaps[0].ops if o.name == "cni-plugins")
    assert op.status is Status.FAILED and "sha256 mismatch" in op.reason


def test_unreachable_node_reported_others_complete(tmp_path: Path) -> None:
    root = tmp_path / "node"
    seed_k3s(root)
    tgz = tmp_path / "p.tgz"
    params = make_params(root, tgz, make_tarball(tgz), extra_nodes=1)

    def factory(p, n, j, s):  # noqa: ANN001, ANN202
        if n.name == "n2":
            raise UnreachableError(n.name, "NoValidConnectionsError: connection refused")
        return LocalHost(n.name, j)

    res = prep_nodes(params, host_factory=factory, backup_root=str(root / "b"), cache_dir=tmp_path / "c")
    by = {r.node: r for r in res.recaps}
    assert by["n2"].status is Status.UNREACHABLE and "refused" in by["n2"].message
    assert by["n1"].status is Status.CHANGED
    Tree(root).assert_five_states()
    assert not res.ok


def _cut_points(tree: Tree, params: Params, kw: dict):  # noqa: ANN202
    host = LocalHost("n1")
    bundle = load_plugin_bundle(params, cache_dir=kw["cache_dir"])
    d = desired_state(params, bundle, backup_root=kw["backup_root"], stamp="20250101T000000Z")
    return host, plan_node(gather_facts(host, params, sudo=True), d)


@pytest.mark.parametrize("scenario", ["fresh", "c01"])
def test_interrupted_at_every_command_converges(tmp_path: Path, scenario: str) -> None:
    """Simulate a kill after each command of each changing op; the next run must converge."""
    base = tmp_path / "base"
    seed_k3s(base)
    if scenario == "c01":
        t = Tree(base)
        t.opt.parent.mkdir(parents=True)
        t.opt.symlink_to(t.cbd)
    tgz = tmp_path / "p.tgz"
    sha = make_tarball(tgz)
    params0 = make_params(base, tgz, sha)
    kw0 = {"host_factory": local_factory, "backup_root": str(base / "backups"), "cache_dir": tmp_path / "cache"}
    _, ops0 = _cut_points(Tree(base), params0, kw0)
    cuts = [(i, k) for i, op in enumerate(ops0) if op.changes for k in range(1, len(op.commands))]
    assert len(cuts) > 10
    for n, (i, k) in enumerate(cuts):
        root = tmp_path / f"cut{n}"
        # symlinks are absolute: rebuild rather than copy
        seed_k3s(root)
        tree = Tree(root)
        if scenario == "c01":
            tree.opt.parent.mkdir(parents=True)
            tree.opt.symlink_to(tree.cbd)
        params = make_params(root, tgz, sha)
        kw = {**kw0, "backup_root": str(root / "backups")}
        host, ops = _cut_points(tree, params, kw)
        for op in ops[:i]:
            if op.changes:
                if op.upload:
                    shutil.copyfile(*op.upload)
                assert host.run(op.script).exit_code == 0
        op = ops[i]
        if op.upload:
            shutil.copyfile(*op.upload)
        partial = "set -e\n" + "\n".join(op.commands[:k]) + "\n"
        assert host.run(partial).exit_code == 0, (op.name, k)
        res = prep_nodes(params, **kw)
        assert res.ok, (op.name, k, res.to_json())
        tree.assert_five_states()
        assert prep_nodes(params, **kw).changed == 0, (op.name, k)


def test_paths_with_spaces_and_semicolons_are_quoted(tmp_path: Path) -> None:
    root = tmp_path / "we ird;touch INJECTED"
    seed_k3s(root)
    tgz = tmp_path / "p.tgz"
    sha = make_tarball(tgz)
    good = make_params(tmp_path / "x", tgz, sha)
    raw = good.model_dump(mode="json", exclude={"source_path"})
    raw["k3s"] = make_params_paths(root)
    from runbooklib.errors import ParamsError
    from runbooklib.params import params_from_dict
    with pytest.raises(ParamsError, match="not a plain absolute path"):
        params_from_dict(raw)
    params = Params.model_validate(raw)  # bypass the load-time check to prove quoting holds anyway
    kw = {"host_factory": local_factory, "backup_root": str(root / "backups"), "cache_dir": tmp_path / "cache"}
    converge(Tree(root), params, kw)
    assert not list(Path.cwd().glob("INJECTED")) and not list(tmp_path.glob("**/INJECTED"))


def make_params_paths(root: Path) -> dict[str, str]:
    k3s = root / "var/lib/rancher/k3s"
    return {"conf_dir": f"{k3s}/agent/etc/cni/net.d", "cni_bin_dir": f"{k3s}/data/cni", "data_dir": f"{k3s}/data",
            "multicall_binary": f"{k3s}/data/current/bin/cni", "opt_cni_bin": f"{root}/opt/cni/bin",
            "whereabouts_link": f"{root}/etc/cni/net.d/whereabouts.d"}


def test_local_plugin_directory_source(node, tmp_path: Path) -> None:
    tree, params, kw = node
    src = tmp_path / "plugins-dir"
    src.mkdir()
    for n in PLUGINS:
        (src / n).write_text(f"#!/bin/sh\necho {n}\n")
        (src / n).chmod(0o755)
    p = params.model_copy(deep=True)
    p.artifacts.cni_plugins.local = str(src)
    p.artifacts.cni_plugins.sha256 = None
    converge(tree, p, kw)


def test_json_shape(node) -> None:
    tree, params, kw = node
    data = prep_nodes(params, **kw).to_dict()
    op = data["nodes"][0]["ops"][1]
    assert set(op) >= {"name", "status", "changed", "commands", "exit_code", "duration_s"}
    assert op["name"] == "cni-plugins" and op["exit_code"] == 0 and op["changed"] is True


def test_facts_run_as_one_sh_command(node) -> None:
    tree, params, kw = node
    journal = Journal()
    plan_nodes(params, journal=journal, **kw)
    assert len(journal.entries) == 1 and journal.entries[0]["command"].startswith("sh -c ")


def test_cli_plan_json_unreachable(node, tmp_path: Path) -> None:
    tree, params, kw = node
    pfile = tmp_path / "params.yaml"
    pfile.write_text(params.dump_yaml())  # nodes on 127.0.0.1:2200 — nothing listens there
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    cmd = [sys.executable, "-m", "runbooklib", "prep", "--params", str(pfile), "--plan", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, check=False)  # noqa: S603
    assert proc.returncode == 1, proc.stderr
    import json
    data = json.loads(proc.stdout)
    assert data["nodes"][0]["status"] == "unreachable"
