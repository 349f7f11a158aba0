"""Running the lab API as a separate process; watch over HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from kubernetes import client, config, watch

from runbooklib.lab.api import LabApiServer

REPO = Path(__file__).resolve().parents[3]


def start(state: Path, tmp: Path) -> tuple[subprocess.Popen[str], Path]:
    ready, kubeconfig = tmp / "ready", tmp / "kubeconfig"
    proc = subprocess.Popen([sys.executable, "-m", "runbooklib.lab.api", "--state-dir", str(state),  # noqa: S603
                             "--kubeconfig", str(kubeconfig), "--ready-file", str(ready), "--node", "n1"],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("LAB_API_URL=http://127.0.0.1:"), line
    assert ready.read_text().strip() == line.split("=", 1)[1].strip()
    return proc, kubeconfig


def core_api(kubeconfig: Path) -> client.CoreV1Api:
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    return client.CoreV1Api(client.ApiClient(cfg))


def test_process_restart_keeps_objects(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc, kubeconfig = start(state, tmp_path)
    try:
        core_api(kubeconfig).create_namespaced_config_map("kube-system", {"metadata": {"name": "keep"}, "data": {"a": "b"}})
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert not (tmp_path / "ready").exists()
    proc, kubeconfig = start(state, tmp_path)
    try:
        core = core_api(kubeconfig)
        assert core.read_namespaced_config_map("keep", "kube-system").data == {"a": "b"}
        assert [n.metadata.name for n in core.list_node().items] == ["n1"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_watch_streams_changes(lab_api: LabApiServer, kubeconfig: Path) -> None:
    core = core_api(kubeconfig)
    core.create_namespaced_config_map("default", {"metadata": {"name": "first"}})
    seen: list[tuple[str, str]] = []

    def later() -> None:
        time.sleep(0.3)
        core.create_namespaced_config_map("default", {"metadata": {"name": "second"}})
        core.delete_namespaced_config_map("first", "default")

    threading.Thread(target=later).start()
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, "default", timeout_seconds=5):
        seen.append((ev["type"], ev["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "first"), ("ADDED", "second"), ("DELETED", "first")]
