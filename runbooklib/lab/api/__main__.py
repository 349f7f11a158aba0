"""Run the lab API as a process.

``python -m runbooklib.lab.api --state-dir DIR [--host H] [--port N] [--kubeconfig PATH]
[--ready-file PATH] [--node NAME ...]``

Once listening it writes the kubeconfig (if asked), then the ready file (containing the URL,
written atomically) and prints ``LAB_API_URL=<url>`` on stdout. SIGTERM/SIGINT stop it cleanly.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from .server import LabApiServer
from .store import atomic_write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runbooklib.lab.api", description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--kubeconfig", type=Path)
    parser.add_argument("--ready-file", type=Path)
    parser.add_argument("--node", action="append", default=[], help="register a lab node (repeatable)")
    args = parser.parse_args(argv)

    api = LabApiServer(args.state_dir, args.host, args.port, nodes=args.node).start()
    # Inside a lab (state dir <lab>/api): pod networking through the nodes' real CNI chain.
    from runbooklib.lab.cni.wiring import attach_if_lab
    attach_if_lab(api)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    if args.kubeconfig:
        api.write_kubeconfig(args.kubeconfig)
    if args.ready_file:
        atomic_write(args.ready_file, api.url + "\n")
    print(f"LAB_API_URL={api.url}", flush=True)
    done.wait()
    api.stop()
    if args.ready_file:
        args.ready_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
