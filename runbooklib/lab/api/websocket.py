"""The exec channel protocol over RFC 6455 websockets (``v5.channel.k8s.io`` / ``v4``).

The HTTP handler upgrades ``pods/<name>/exec`` requests with :func:`handshake_headers`, then
:func:`send_exec_result` writes the command's stdout on channel 1, stderr on channel 2, a
``Status`` on channel 3 (``Success``, or ``Failure``/``NonZeroExitCode`` with an ``ExitCode``
cause) and a close frame, and waits briefly for the client's close frame. Each binary
message is ``<channel byte><data>``, which is what ``kubernetes.stream`` and kubectl's
websocket executor expect. stdin, tty and resize are not supported.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
from typing import BinaryIO

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 1, 2, 8, 9, 10
STDOUT, STDERR, ERROR = 1, 2, 3


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key.strip() + GUID).encode()).digest()).decode()


def choose_protocol(offered: str) -> str | None:
    names = [p.strip() for p in offered.split(",") if p.strip()]
    return next((p for p in PROTOCOLS if p in names), None)


def handshake_headers(key: str, protocol: str) -> dict[str, str]:
    return {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": accept_key(key),
            "Sec-WebSocket-Protocol": protocol}


def encode_frame(payload: bytes, opcode: int = OP_BINARY) -> bytes:
    """A single unmasked (server-to-client) frame with FIN set."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


def read_frame(rfile: BinaryIO) -> tuple[int, bytes]:
    """Read one frame; returns (opcode, unmasked payload). Raises EOFError at end of stream."""
    head = rfile.read(2)
    if len(head) < 2:
        raise EOFError
    opcode, n, masked = head[0] & 0x0F, head[1] & 0x7F, head[1] & 0x80
    if n == 126:
        n = struct.unpack("!H", rfile.read(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", rfile.read(8))[0]
    mask = rfile.read(4) if masked else b""
    data = rfile.read(n)
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return opcode, data


def exec_status(exit_code: int) -> bytes:
    if exit_code == 0:
        return json.dumps({"metadata": {}, "status": "Success"}).encode()
    return json.dumps({
        "metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
        "message": f"command terminated with non-zero exit code: exit status {exit_code}",
        "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]},
    }).encode()


def send_exec_result(rfile: BinaryIO, wfile: BinaryIO, sock: socket.socket, stdout: bytes, stderr: bytes,
                     exit_code: int, close_wait: float = 1.0) -> None:
    """Write stdout/stderr/status channel messages and a close frame, then await the client's close."""
    for channel, data in ((STDOUT, stdout), (STDERR, stderr)):
        if data:
            wfile.write(encode_frame(bytes([channel]) + data))
    wfile.write(encode_frame(bytes([ERROR]) + exec_status(exit_code)))
    wfile.write(encode_frame(struct.pack("!H", 1000), OP_CLOSE))
    wfile.flush()
    sock.settimeout(close_wait)
    try:
        while True:
            opcode, payload = read_frame(rfile)
            if opcode == OP_CLOSE:
                break
            if opcode == OP_PING:
                wfile.write(encode_frame(payload, OP_PONG))
    except (EOFError, OSError):
        pass
