"""pyinfra-style spec files: recorded node facts + params -> expected operations (no host needed).

Each tests/unit/node_specs/*.yaml holds `facts` (NodeFacts fields; every path is a PathFact
mapping), optional `bundle` (plugin name -> sha256) and `expect`:
  changes: [op names that change]      noops: [op names that are no-ops]
  errors: {op: substring}              commands: {op: [exact commands]}
  reason: {op: substring}              notes: {op: substring}     absent: [op names]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from runbooklib.nodes.bundle import PluginBundle, PluginMember
from runbooklib.nodes.desired import desired_state
from runbooklib.nodes.facts import NodeFacts
from runbooklib.nodes.plan import plan_node
from runbooklib.params import params_from_dict

SPEC_DIR = Path(__file__).parent / "node_specs"
SPECS = sorted(SPEC_DIR.glob("*.yaml"))
STAMP = "20250101T000000Z"

BASE_PARAMS = {
    "cluster": "spec",
    "storage_network": {"cidr": "198.18.205.0/24"},
    "artifacts": {"cni_plugins": {"url": "http://198.19.0.1:18080/cni-plugins-linux-amd64-v1.6.2.tgz",
                                  "sha256": "0" * 64}},
    "nodes": [{"name": "kr1", "ssh": {"host": "198.19.0.11"}, "sudo": "root",
               "storage_nic": {"name": "ens2", "address": "198.18.205.214"}}],
}


def _bundle(members: dict[str, str] | None) -> PluginBundle | None:
    if members is None:
        return None
    return PluginBundle(Path("/cache/cni-plugins-linux-amd64-v1.6.2.tgz"), "f" * 64, "cni-plugins-linux-amd64-v1.6.2.tgz",
                        True, {n: PluginMember(n, f"./{n}", sha, 100) for n, sha in members.items()})


def _facts(raw: dict[str, Any]) -> NodeFacts:
    return NodeFacts.from_dict({"node": "kr1", **raw})


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_spec(spec_path: Path) -> None:
    spec = yaml.safe_load(spec_path.read_text())
    params = params_from_dict({**BASE_PARAMS, **spec.get("params", {})})
    bundle = _bundle(spec.get("bundle", {"bridge": "b" * 64, "macvlan": "m" * 64}))
    desired = desired_state(params, bundle, bundle_error=spec.get("bundle_error", ""), stamp=STAMP)
    ops = {op.name: op for op in plan_node(_facts(spec["facts"]), desired)}
    exp = spec["expect"]
    for name in exp.get("changes", []):
        assert name in ops and ops[name].changes, f"{name} should change: {ops.get(name)}"
    for name in exp.get("noops", []):
        assert name in ops and not ops[name].changes and not ops[name].error, f"{name} should be a no-op: {ops.get(name)}"
        assert ops[name].reason, f"{name}: a no-op says why"
    for name in exp.get("absent", []):
        assert name not in ops
    for name, text in exp.get("errors", {}).items():
        assert text in ops[name].error
    for name, cmds in exp.get("commands", {}).items():
        assert ops[name].commands == cmds
    for name, text in exp.get("reason", {}).items():
        assert text in ops[name].reason
    for name, text in exp.get("notes", {}).items():
        assert any(text in n for n in ops[name].notes), ops[name].notes
    listed = set(exp.get("changes", [])) | set(exp.get("noops", [])) | set(exp.get("errors", {}))
    assert listed == set(ops), f"every op must be listed in the spec; unlisted: {set(ops) - listed}"


def test_every_state_has_a_spec() -> None:
    assert len(SPECS) >= 10
