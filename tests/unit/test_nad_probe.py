"""The one-round-trip node probe: recorded output parses into facts; the script runs for real."""

from __future__ import annotations

import json
import os
from pathlib import Path

from runbooklib.nad import parse_probe_output
from runbooklib.nad.probe import probe_host
from runbooklib.remote import LocalHost

VERSION = '{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}'
RECORDED = "\n".join([
    "@@links",
    json.dumps([{"ifname": "lo", "mtu": 65536, "flags": ["LOOPBACK", "UP", "LOWER_UP"], "operstate": "UNKNOWN"},
                {"ifname": "ens2", "mtu": 9000, "flags": ["BROADCAST", "UP", "LOWER_UP"], "operstate": "UP"},
                {"ifname": "ens3", "mtu": 1500, "flags": ["BROADCAST", "NO-CARRIER", "UP"], "operstate": "DOWN"}]),
    "@@bins",
    "@@bin\tmacvlan\tfile\t1\t\t",
    "@@version\tmacvlan\t0",
    VERSION,
    "@@end",
    "@@bin\twhereabouts\tsymlink\t0\tdangling\t/var/lib/rancher/k3s/data/abc/bin/whereabouts",
    "@@done",
])


def test_recorded_output_parses() -> None:
    facts = parse_probe_output("kr1", RECORDED)
    assert facts.links["ens2"].mtu == 9000 and facts.links["ens2"].up
    assert not facts.links["ens3"].up
    assert facts.binaries is not None
    assert facts.binaries["macvlan"].supported_versions == tuple(json.loads(VERSION)["supportedVersions"])
    wb = facts.binaries["whereabouts"]
    assert wb.kind == "symlink" and wb.target_kind == "dangling" and wb.link_target.endswith("/whereabouts")


def test_sys_fallback_parses() -> None:
    facts = parse_probe_output("kr1", "@@links\n@@sys\nens2\t9000\tup\t0x1003\neth9\t1500\tdown\t0x1002\n@@bins\n@@done\n")
    assert facts.links["ens2"].up and facts.links["ens2"].mtu == 9000
    assert not facts.links["eth9"].up


def test_probe_runs_in_one_command(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    plugin = bindir / "macvlan"
    plugin.write_text(f"#!/bin/sh\n[ \"$CNI_COMMAND\" = VERSION ] && echo '{VERSION}'\nexit 0\n")
    plugin.chmod(0o755)
    (bindir / "whereabouts").mkdir()
    host = LocalHost("me")
    facts = probe_host(host, str(bindir))
    assert facts.error is None and "lo" in facts.links
    assert facts.binaries is not None
    assert facts.binaries["macvlan"].kind == "file" and facts.binaries["macvlan"].executable
    assert "0.3.1" in (facts.binaries["macvlan"].supported_versions or ())
    assert facts.binaries["whereabouts"].kind == "dir"
    os.symlink("/nonexistent/x", bindir / "bridge")
    facts = probe_host(host, str(bindir), ["bridge", "missing-one"])
    assert facts.binaries is not None
    assert facts.binaries["bridge"].target_kind == "dangling"
    assert facts.binaries["missing-one"].kind == "missing"
