"""sudo modes and secret handling of the SSH layer node prep runs on (no network: a fake fabric connection)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from runbooklib.remote.host import SshHost, _wrap_sudo
from runbooklib.remote.journal import Journal

SECRET = "s3cr3t-'pw;rm -rf /"


class FakeConn:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def run(self, wire: str, **kw):  # noqa: ANN003, ANN201
        stdin = kw.get("in_stream")
        fed = stdin.getvalue() if stdin else ""
        self.calls.append({"wire": wire, "stdin": fed})
        # a chatty sudo that echoes what it got (worst case) must still not leak into the journal
        return SimpleNamespace(exited=0, stdout=f"ok {fed}", stderr=f"[sudo] password: {fed}")


def test_sudo_modes_wrap_commands() -> None:
    assert _wrap_sudo("id -u", "root", True) == ("id -u", False)
    assert _wrap_sudo("id -u", "sudo", True) == ("sudo -n -- sh -c 'id -u'", False)
    wire, needs_pw = _wrap_sudo("id -u", "sudo-password", True)
    assert needs_pw and wire.startswith("sudo -S -p '' -- sh -c ")
    assert _wrap_sudo("id -u", "sudo-password", False) == ("id -u", False)  # plans never use sudo


def test_sudo_password_goes_to_stdin_and_is_redacted(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.add_secret(SECRET)
    conn = FakeConn()
    host = SshHost("kr1", conn, sudo_mode="sudo-password", sudo_password=SECRET, journal=journal, command_timeout_s=5)
    out = host.run("mkdir -p /opt/cni/bin", sudo=True)
    assert out.ok
    assert SECRET not in conn.calls[0]["wire"]  # never on the command line
    assert conn.calls[0]["stdin"] == SECRET + "\n"  # fed on stdin only
    text = (tmp_path / "journal.jsonl").read_text()
    assert SECRET not in text and "***" in text
    assert SECRET not in json.dumps(journal.entries)


def test_from_params_reads_password_from_env_only(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from nodetree import make_params, make_tarball

    tgz = tmp_path / "p.tgz"
    params = make_params(tmp_path / "n", tgz, make_tarball(tgz))
    node = params.nodes[0].model_copy(update={"sudo": "sudo-password"})
    monkeypatch.setenv(params.ssh.sudo_password_env, SECRET)
    journal = Journal()
    SshHost.from_params(params, node, journal)
    assert journal.redact(f"x{SECRET}y") == "x***y"  # registered for redaction as soon as it is read
    assert SECRET not in params.model_dump_json()  # never stored in params
