"""A node we can run commands on: over SSH with fabric (`SshHost`) or this machine (`LocalHost`).

Host keys are verified by default (known_hosts + RejectPolicy); `ssh.verify_host_keys: false` in
the params is the explicit opt-out. sudo passwords come from an environment variable, are fed on
stdin, are registered with the journal for redaction, and are never stored or printed.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from runbooklib.errors import UnreachableError
from runbooklib.params import NodeParams, Params
from runbooklib.remote.journal import Journal
from runbooklib.remote.shell import q


@dataclass
class CommandOutput:
    command: str
    exit_code: int
    stdout: str
    stderr: str
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class Host(Protocol):
    name: str

    def run(self, command: str, *, sudo: bool = False, timeout: float | None = None) -> CommandOutput: ...

    def put(self, local_path: str | Path, remote_path: str) -> None: ...

    def close(self) -> None: ...


def _wrap_sudo(command: str, mode: str, sudo: bool) -> tuple[str, bool]:
    """Return (command to send, needs password on stdin)."""
    if not sudo or mode == "root":
        return command, False
    if mode == "sudo":
        return f"sudo -n -- sh -c {q(command)}", False
    return f"sudo -S -p '' -- sh -c {q(command)}", True


class SshHost:
    """One node over SSH (fabric). Create with `SshHost.from_params(params, node)`."""

    def __init__(self, name: str, connection: object, *, sudo_mode: str, sudo_password: str | None,
                 journal: Journal, command_timeout_s: float) -> None:
        self.name = name
        self._conn = connection
        self._sudo_mode = sudo_mode
        self._password = sudo_password
        self.journal = journal
        self._timeout = command_timeout_s

    @classmethod
    def from_params(cls, params: Params, node: NodeParams, journal: Journal | None = None) -> SshHost:
        import fabric
        import paramiko

        journal = journal or Journal()
        ssh = params.ssh
        # the TCP connect timeout is fabric's connect_timeout (giving it in connect_kwargs too is refused)
        connect_kwargs: dict[str, object] = {"banner_timeout": ssh.connect_timeout_s, "auth_timeout": ssh.connect_timeout_s}
        if node.ssh.key_file:
            connect_kwargs["key_filename"] = str(params.resolve(node.ssh.key_file))
            connect_kwargs["look_for_keys"] = False
            connect_kwargs["allow_agent"] = False
        target = node.ssh.alias or node.ssh.host
        conn = fabric.Connection(target, user=node.ssh.user, port=node.ssh.port if not node.ssh.alias else None,
                                 connect_kwargs=connect_kwargs, connect_timeout=ssh.connect_timeout_s)
        # the node and every ProxyJump hop from ~/.ssh/config (fabric gives hops AutoAddPolicy by default)
        clients = [conn.client]
        hop = getattr(conn, "gateway", None)
        while isinstance(hop, fabric.Connection):
            clients.append(hop.client)
            hop = hop.gateway
        if ssh.verify_host_keys:
            known = params.resolve(ssh.known_hosts) if ssh.known_hosts else Path.home() / ".ssh" / "known_hosts"
            for client in clients:
                if known.exists():
                    try:
                        client.load_host_keys(str(known))
                    except (OSError, paramiko.SSHException, paramiko.hostkeys.InvalidHostKey) as e:  # a corrupt line
                        raise UnreachableError(node.name, f"cannot read known_hosts {known}: {type(e).__name__}: {e}; "
                                                          "fix or remove the broken line (ssh-keygen -R HOST)") from None
                client.set_missing_host_key_policy(paramiko.RejectPolicy())
        else:
            for client in clients:
                client.set_missing_host_key_policy(paramiko.WarningPolicy())
        password = None
        if node.sudo == "sudo-password":
            password = os.environ.get(ssh.sudo_password_env)
            if not password:
                raise UnreachableError(node.name, f"sudo: sudo-password needs the password in ${ssh.sudo_password_env}")
            journal.add_secret(password)
        return cls(node.name, conn, sudo_mode=node.sudo, sudo_password=password, journal=journal,
                   command_timeout_s=ssh.command_timeout_s)

    def open(self) -> None:
        try:
            self._conn.open()  # type: ignore[attr-defined]
        except Exception as e:  # noqa: BLE001 - every connect failure means unreachable
            raise UnreachableError(self.name, self._why_unreachable(e)) from None

    def _why_unreachable(self, e: BaseException) -> str:
        """The connect error, with the likely fix when the name does not resolve."""
        text = f"{type(e).__name__}: {e}"
        if isinstance(e, socket.gaierror):
            target = getattr(self._conn, "original_host", None) or getattr(self._conn, "host", "?")
            text += (f" (the SSH target {target!r} does not resolve: if it is an alias, add a `Host {target}` entry with its "
                     "HostName to ~/.ssh/config; otherwise set ssh.host to the node's address in the params)")
        return text

    def run(self, command: str, *, sudo: bool = False, timeout: float | None = None) -> CommandOutput:
        wire, needs_pw = _wrap_sudo(command, self._sudo_mode, sudo)
        t0 = time.monotonic()
        stdin = io.StringIO(self._password + "\n") if needs_pw and self._password else None
        try:
            res = self._conn.run(wire, hide=True, warn=True, in_stream=stdin or False,  # type: ignore[attr-defined]
                                 timeout=timeout or self._timeout)
            out = CommandOutput(command, res.exited, res.stdout, res.stderr, time.monotonic() - t0)
        except Exception as e:  # noqa: BLE001 - connection problems become unreachable
            dt = time.monotonic() - t0
            self.journal.record(self.name, command, None, dt, note=f"{type(e).__name__}: {e}")
            raise UnreachableError(self.name, self._why_unreachable(e)) from None
        self.journal.record(self.name, command, out.exit_code, out.duration_s, out.stdout, out.stderr)
        return out

    def put(self, local_path: str | Path, remote_path: str) -> None:
        t0 = time.monotonic()
        try:
            self._conn.put(str(local_path), remote=remote_path)  # type: ignore[attr-defined]
        except Exception as e:  # noqa: BLE001
            raise UnreachableError(self.name, f"upload failed: {type(e).__name__}: {e}") from None
        self.journal.record(self.name, f"sftp put {local_path} -> {remote_path}", 0, time.monotonic() - t0)

    def close(self) -> None:
        self._conn.close()  # type: ignore[attr-defined]


class LocalHost:
    """This machine, for tests and single-node use. Commands run with `sh -c`."""

    def __init__(self, name: str = "local", journal: Journal | None = None, command_timeout_s: float = 300.0) -> None:
        self.name = name
        self.journal = journal or Journal()
        self._timeout = command_timeout_s

    def run(self, command: str, *, sudo: bool = False, timeout: float | None = None) -> CommandOutput:
        t0 = time.monotonic()
        try:
            proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True,  # noqa: S603
                                  timeout=timeout or self._timeout, check=False)
            out = CommandOutput(command, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)
        except subprocess.TimeoutExpired as e:
            out = CommandOutput(command, 124, str(e.stdout or ""), f"timed out after {e.timeout}s", time.monotonic() - t0)
        self.journal.record(self.name, command, out.exit_code, out.duration_s, out.stdout, out.stderr)
        return out

    def put(self, local_path: str | Path, remote_path: str) -> None:
        shutil.copyfile(local_path, remote_path)
        self.journal.record(self.name, f"copy {local_path} -> {remote_path}", 0, 0.0)

    def close(self) -> None:
        pass


def connect_nodes(params: Params, journal: Journal | None = None, names: list[str] | None = None) -> list[SshHost]:
    """One `SshHost` per node in the params (connections open lazily on first command)."""
    journal = journal or Journal()
    nodes = [n for n in params.nodes if names is None or n.name in names]
    return [SshHost.from_params(params, n, journal) for n in nodes]
