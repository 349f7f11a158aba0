"""Pod logs (text/plain, tailLines, container) and exec over the websocket channel protocol."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from runbooklib.lab.api import LabApiServer

POD = {"metadata": {"name": "tool"}, "spec": {"containers": [{"name": "main", "image": "busybox"},
                                                               {"name": "side", "image": "busybox"}]}}


@pytest.fixture
def pod(lab_api: LabApiServer, api_client: client.ApiClient) -> client.CoreV1Api:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod("default", POD)
    return core


def test_log_tail_and_container(lab_api: LabApiServer, pod: client.CoreV1Api) -> None:
    seen: list[tuple[str, str, str, int | None]] = []

    def source(ns: str, name: str, container: str, tail: int | None) -> str:
        seen.append((ns, name, container, tail))
        return "".join(f"{container} line {i}\n" for i in range(1, 101))

    lab_api.log_source = source
    text = pod.read_namespaced_pod_log("tool", "default", container="side", tail_lines=3)
    assert text == "side line 98\nside line 99\nside line 100\n"
    assert seen[-1] == ("default", "tool", "side", 3)
    assert pod.read_namespaced_pod_log("tool", "default", container="main").count("\n") == 100
    with pytest.raises(ApiException) as exc:  # two containers, none named
        pod.read_namespaced_pod_log("tool", "default")
    assert exc.value.status == 400 and "choose one of: [main side]" in exc.value.body
    with pytest.raises(ApiException) as exc:
        pod.read_namespaced_pod_log("missing", "default", container="main")
    assert exc.value.status == 404


def test_exec_exit_code_and_streams(lab_api: LabApiServer, pod: client.CoreV1Api) -> None:
    calls: list[tuple[str, str, str, list[str]]] = []

    def handler(ns: str, name: str, container: str, command: list[str]) -> tuple[bytes, bytes, int]:
        calls.append((ns, name, container, command))
        if command[-1] == "fail":
            return b"partial\n", b"boom\n", 3
        return b"hello from " + " ".join(command).encode() + b"\n", b"", 0

    lab_api.exec_handler = handler
    out = stream(pod.connect_get_namespaced_pod_exec, "tool", "default", container="main",
                 command=["ip", "a"], stderr=True, stdin=False, stdout=True, tty=False)
    assert out == "hello from ip a\n"
    assert calls[-1] == ("default", "tool", "main", ["ip", "a"])

    resp = stream(pod.connect_get_namespaced_pod_exec, "tool", "default", container="side",
                  command=["sh", "-c", "fail"], stderr=True, stdin=False, stdout=True, tty=False,
                  _preload_content=False)
    resp.run_forever(timeout=5)
    assert resp.returncode == 3
    assert resp.read_stdout() == "partial\n" and resp.read_stderr() == "boom\n"
    resp.close()

    ok = stream(pod.connect_get_namespaced_pod_exec, "tool", "default", container="main", command=["true"],
                stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    ok.run_forever(timeout=5)
    assert ok.returncode == 0


def test_exec_errors(lab_api: LabApiServer, pod: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as exc:
        stream(pod.connect_get_namespaced_pod_exec, "missing", "default", command=["true"],
               stderr=True, stdin=False, stdout=True, tty=False)
    assert exc.value.status in (0, 404)
    # a pod that is not running cannot be exec'ed into
    pod.patch_namespaced_pod_status("tool", "default", {"status": {"phase": "Pending"}})
    with pytest.raises(ApiException):
        stream(pod.connect_get_namespaced_pod_exec, "tool", "default", container="main", command=["true"],
               stderr=True, stdin=False, stdout=True, tty=False)
