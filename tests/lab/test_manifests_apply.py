"""Apply the patched manifests to the in-repo Kubernetes API emulator (loopback, no root) and wait
for the DaemonSets; a not-ready rollout is reported with log tails and matched known errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from runbooklib.cli import main
from runbooklib.cluster import api_client_from_kubeconfig, apply_manifests, summarize_apply, wait_for_rollout
from runbooklib.lab.api import LabApiServer, resources
from runbooklib.manifests import prepare_manifests
from runbooklib.params import Params, load_params
from runbooklib.results import Status

REPO = Path(__file__).resolve().parents[2]
UPSTREAM = REPO.parent / "shared" / "upstream"
NODES = ["kr1", "kr2", "hp1", "hp2"]
EXPECTED_OBJECTS = 13  # 3 CRDs (NAD + 2 whereabouts) + multus 5 + whereabouts 5 objects


@pytest.fixture()
def lab_params() -> Params:
    return load_params(REPO / "params" / "lab.yaml", require_files=False)


def client_for(api: LabApiServer, tmp_path: Path):  # noqa: ANN201 - kubernetes ApiClient
    return api_client_from_kubeconfig(api.write_kubeconfig(tmp_path / "kubeconfig"))


def test_apply_twice_second_run_unchanged(api: LabApiServer, tmp_path: Path, lab_params: Params) -> None:
    client = client_for(api, tmp_path)
    docs = prepare_manifests(lab_params).docs()
    assert len(docs) == EXPECTED_OBJECTS

    dry = apply_manifests(client, docs, dry_run=True)
    assert summarize_apply(dry) == {"would-create": EXPECTED_OBJECTS}
    assert all(r.status is Status.SKIPPED for r in dry)
    # dry-run wrote nothing
    assert api.store.list(resources.DAEMONSETS, "kube-system") == []
    assert api.store.list(resources.CRDS) == []

    first = apply_manifests(client, docs)
    assert summarize_apply(first) == {"created": EXPECTED_OBJECTS}
    kinds = [r.evidence["kind"] for r in first]
    assert kinds[:3] == ["CustomResourceDefinition"] * 3 and kinds[-2:] == ["DaemonSet", "DaemonSet"]

    second = apply_manifests(client, docs)
    assert summarize_apply(second) == {"unchanged": EXPECTED_OBJECTS}
    assert all(r.status is Status.OK for r in second)

    report = wait_for_rollout(client, timeout_s=10, poll_s=0.1)
    assert report.ready, report.render()
    assert [(d.name, d.desired, d.ready) for d in report.daemonsets] == [("kube-multus-ds", 4, 4), ("whereabouts", 4, 4)]


def test_pinning_images_updates_only_the_daemonsets(api: LabApiServer, tmp_path: Path, lab_params: Params) -> None:
    client = client_for(api, tmp_path)
    apply_manifests(client, prepare_manifests(lab_params).docs())
    pinned = prepare_manifests(lab_params, pin_images=True).docs()
    dry = apply_manifests(client, pinned, dry_run=True)
    would = [r for r in dry if r.evidence["action"] == "would-update"]
    assert [r.target for r in would] == ["DaemonSet kube-system/kube-multus-ds", "DaemonSet kube-system/whereabouts"]
    assert "spec.template.spec.containers[0].image" in would[0].evidence["changed_fields"]
    result = apply_manifests(client, pinned)
    assert summarize_apply(result) == {"unchanged": EXPECTED_OBJECTS - 2, "updated": 2}
    assert summarize_apply(apply_manifests(client, pinned)) == {"unchanged": EXPECTED_OBJECTS}
    assert wait_for_rollout(client, timeout_s=10, poll_s=0.1).ready


def test_rollout_timeout_reports_pods_and_known_errors(api: LabApiServer, tmp_path: Path, lab_params: Params) -> None:
    log = [f"2026-12-03T10:00:{i:02d}Z verbose: retrying" for i in range(70)] + [
        "2026-12-03T10:02:00Z error: failed to create the configuration manager for the primary CNI plugin: "
        "failed to find the cluster master CNI plugin: could not find a plugin configuration in /host/etc/cni/net.d"]
    tails: list[int | None] = []

    def log_source(namespace: str, pod: str, container: str, tail: int | None) -> str:
        tails.append(tail)
        lines = log if pod.startswith("kube-multus-ds") and container == "kube-multus" else ["ok"]
        return "\n".join(lines[-tail:] if tail else lines) + "\n"

    def starter(pod: dict) -> tuple[str, str, str]:
        if pod["metadata"].get("generateName", "").startswith("kube-multus-ds"):
            return "Pending", "CrashLoopBackOff", "back-off 10s restarting failed container=kube-multus"
        return "Running", "", ""

    assert api.controllers is not None
    api.controllers.pod_starter = starter
    api.log_source = log_source
    client = client_for(api, tmp_path)
    apply_manifests(client, prepare_manifests(lab_params).docs())
    seen: list[str] = []
    report = wait_for_rollout(client, timeout_s=0.5, poll_s=0.1, progress=lambda states, _t: seen.append(states[0].line()))
    assert not report.ready and seen
    multus, wb = report.daemonsets
    assert (multus.ready, multus.desired, wb.ready) == (0, 4, 4)
    assert len(report.problems) == 4 and {p.node for p in report.problems} == set(NODES)
    problem = report.problems[0]
    assert len(problem.log_tail["kube-multus"]) == 50 and 50 in tails  # --tail=50
    assert [m.id for m in problem.matches] == ["multus-no-primary-conf"]
    text = report.render()
    assert "rollout NOT complete" in text and "kube-multus-ds: 0/4 ready" in text
    assert "known error [multus-no-primary-conf]" in text and "CrashLoopBackOff" in text
    assert any(f.severity.value == "fail" for f in report.findings())


def test_cli_apply_dry_run_then_apply(api: LabApiServer, tmp_path: Path) -> None:
    raw = yaml.safe_load((REPO / "params" / "lab.yaml").read_text())
    raw["kubeconfig"] = {"path": str(api.write_kubeconfig(tmp_path / "kubeconfig"))}
    for art in [raw["artifacts"]["multus_manifest"], raw["artifacts"]["whereabouts_manifest"], *raw["artifacts"]["whereabouts_crds"]]:
        art["local"] = str(UPSTREAM / Path(art["local"]).name)
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(raw))
    base = ["manifests", "apply", "--params", str(params_file), "--json"]

    import contextlib
    import io

    def run(*extra: str) -> tuple[int, dict]:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = main([*base, *extra])
        return rc, json.loads(buf.getvalue())

    rc, out = run("--dry-run")
    assert rc == 0 and out["summary"] == {"would-create": EXPECTED_OBJECTS} and "rollout" not in out
    rc, out = run("--timeout", "10")
    assert rc == 0 and out["summary"] == {"created": EXPECTED_OBJECTS} and out["rollout"]["ready"] is True
    rc, out = run("--timeout", "10")
    assert rc == 0 and out["summary"] == {"unchanged": EXPECTED_OBJECTS}


def test_custom_objects_after_their_crd(api: LabApiServer, tmp_path: Path, lab_params: Params) -> None:
    client = client_for(api, tmp_path)
    nad = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
           "metadata": {"name": "storage-205", "namespace": "default"},
           "spec": {"config": '{"cniVersion": "0.3.1", "type": "macvlan", "master": "ens2"}'}}
    pool = {"apiVersion": "whereabouts.cni.cncf.io/v1alpha1", "kind": "IPPool",
            "metadata": {"name": "198.18.205.0-24", "namespace": "kube-system"},
            "spec": {"range": "198.18.205.0/24", "allocations": {}}}
    unknown = {"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"}}
    docs = [nad, pool, unknown, *prepare_manifests(lab_params).docs()]  # custom objects first on purpose
    first = apply_manifests(client, docs)
    by_target = {r.target: r for r in first}
    assert by_target["NetworkAttachmentDefinition default/storage-205"].evidence["action"] == "created"
    assert by_target["IPPool kube-system/198.18.205.0-24"].evidence["action"] == "created"
    assert by_target["Widget default/w"].status is Status.FAILED and "no CRD defines it" in by_target["Widget default/w"].reason
    again = apply_manifests(client, docs[:2])
    assert summarize_apply(again) == {"unchanged": 2}
    changed = dict(nad, spec={"config": '{"cniVersion": "0.3.1", "type": "macvlan", "master": "ens3"}'})
    assert summarize_apply(apply_manifests(client, [changed])) == {"updated": 1}
