"""The lab's `multus-shim` and `passthru` executables (multus-cni v4.2.2 pkg/server/api/shim.go, cmd/passthru-cni).

multus-shim: reads only cniVersion/daemonSocketDir/log* from its stdin conf, sends
`{"env": {...all its env...}, "config": <stdin, base64>}` as HTTP POST to `http://dummy/cni` on
`<daemonSocketDir or /run/multus/>/multus.sock`. ADD/CHECK first poll `/healthz` every 100 ms
(upstream waits up to 60 s; the lab waits SHIM_WAIT seconds) and fail with
`CmdAdd (shim): timed out waiting for the condition`; DEL checks once and never fails.
passthru: a CNI plugin that hands its prevResult through (aux chains).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import sys
import time

DEFAULT_SOCKET_DIR = "/run/multus/"
SHIM_WAIT = 10.0
SUPPORTED = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 120.0) -> None:
        super().__init__("dummy", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


def _call(sock_path: str, method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = UnixHTTPConnection(sock_path)
    try:
        conn.request(method, url, body=body, headers={"Content-Type": "application/json"} if body else {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _healthy(sock_path: str) -> bool:
    try:
        return _call(sock_path, "GET", "/healthz")[0] == 200
    except OSError:
        return False


def shim_main() -> int:
    command = os.environ.get("CNI_COMMAND", "")
    if command == "VERSION":
        print(json.dumps({"cniVersion": "1.1.0", "supportedVersions": SUPPORTED}, separators=(",", ":")))
        return 0
    if not command:
        sys.stderr.write("multus-shim version:v4.2.2-lab\n")
        return 0
    stdin = sys.stdin.buffer.read()
    try:
        conf = json.loads(stdin or b"{}")
    except ValueError as e:
        print(json.dumps({"code": 999, "msg": f"invalid shim config: {e}"}))
        return 1
    version = str(conf.get("cniVersion", "0.3.1"))
    sock = os.path.join(str(conf.get("daemonSocketDir") or DEFAULT_SOCKET_DIR), "multus.sock")
    verb = {"ADD": "CmdAdd", "DEL": "CmdDel", "CHECK": "CmdCheck"}.get(command, f"Cmd{command.title()}")
    if command == "DEL":
        if not _healthy(sock):
            return 0
    else:
        deadline = time.monotonic() + SHIM_WAIT
        while not _healthy(sock):
            if time.monotonic() > deadline:
                print(json.dumps({"cniVersion": version, "code": 999,
                                  "msg": f"{verb} (shim): timed out waiting for the condition"}))
                return 1
            time.sleep(0.1)
    body = json.dumps({"env": dict(os.environ), "config": base64.b64encode(stdin).decode()}).encode()
    try:
        status, data = _call(sock, "POST", "/cni", body)
    except OSError as e:
        if command == "DEL":
            return 0
        print(json.dumps({"cniVersion": version, "code": 999, "msg": f"{verb} (shim): {e}"}))
        return 1
    if status != 200:
        if command == "DEL":
            return 0
        msg = f"{verb} (shim): CNI request failed with status {status}: '{data.decode(errors='replace')}'"
        print(json.dumps({"cniVersion": version, "code": 999, "msg": msg}))
        return 1
    if command == "ADD":
        result = json.loads(data or b"{}").get("result") or {}
        print(json.dumps(result))
    return 0


def passthru_main() -> int:
    command = os.environ.get("CNI_COMMAND", "")
    if command == "VERSION":
        print(json.dumps({"cniVersion": "1.1.0", "supportedVersions": SUPPORTED}, separators=(",", ":")))
        return 0
    if not command:
        sys.stderr.write("CNI passthru plugin v4.2.2-lab\n")
        return 0
    conf = json.loads(sys.stdin.read() or "{}")
    if command == "ADD":
        print(json.dumps(conf.get("prevResult") or {"cniVersion": conf.get("cniVersion", "1.0.0")}))
    return 0
