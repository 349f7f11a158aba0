"""The lab API server: lifecycle, pluggable pod logs / exec, kubeconfig.

In-process use::

    from runbooklib.lab.api import LabApiServer
    api = LabApiServer(state_dir, nodes=["lab-n1", "lab-n2"]).start()
    kubeconfig = api.write_kubeconfig(state_dir / "kubeconfig")
    api.store.list(resources.PODS, "kube-system")       # direct, thread-safe access
    api.store.subscribe(lambda verb, rt, obj: ...)      # react to changes
    api.log_source = lambda ns, pod, container, tail: "..."          # pods/log text
    api.exec_handler = lambda ns, pod, container, cmd: (b"out", b"", 0)  # pods/exec
    api.stop()

``state_dir`` holds the persistent object store (see :mod:`.store`), so a new server on the
same directory serves the same objects. The HTTP server is a ``ThreadingHTTPServer`` on
``host:port`` (``port=0`` picks a free port; see :attr:`LabApiServer.url`).
"""

from __future__ import annotations

import collections
import json
import threading
from collections.abc import Callable, Sequence
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import resources
from .controllers import LabControllers
from .handler import ApiHandler
from .resources import Registry
from .store import ObjectStore, atomic_write

LogSource = Callable[[str, str, str, "int | None"], str]
ExecHandler = Callable[[str, str, str, list[str]], tuple[bytes, bytes, int]]
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class LabApiServer:
    """An emulated Kubernetes API server backed by :class:`ObjectStore` (see module docstring)."""

    def __init__(self, state_dir: Path, host: str = "127.0.0.1", port: int = 0, *,
                 nodes: Sequence[str] = (), controllers: bool = True,
                 log_source: LogSource | None = None, exec_handler: ExecHandler | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.host, self.port = host, port
        self.store = ObjectStore(self.state_dir)
        self.registry = Registry(lambda: self.store.all_of(resources.CRDS.key))
        self.log_source: LogSource = log_source or self.default_log_source
        self.exec_handler: ExecHandler = exec_handler or default_exec_handler
        self.requests: collections.deque[tuple[str, str, int]] = collections.deque(maxlen=2000)
        self.stopping = threading.Event()
        self.controllers = LabControllers(self.store).attach() if controllers else None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for ns in DEFAULT_NAMESPACES:
            if self.store.try_get(resources.NAMESPACES, None, ns) is None:
                self.store.create(resources.NAMESPACES, {"metadata": {"name": ns}})
        if nodes:
            self.register_nodes(nodes)

    def register_nodes(self, names: Sequence[str], addresses: dict[str, str] | None = None) -> None:
        """Register lab nodes as Ready ``Node`` objects (needs ``controllers=True``)."""
        if self.controllers is None:
            raise RuntimeError("register_nodes needs the lab controllers (controllers=True)")
        self.controllers.register_nodes(names, addresses)

    def on_change(self, fn: Callable[[str, resources.ResourceType, dict[str, Any]], None]) -> None:
        """Subscribe ``fn(verb, resource_type, obj)`` to every create/update/delete."""
        self.store.subscribe(fn)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LabApiServer:
        """Listen and serve in a background daemon thread; returns self."""
        httpd = ThreadingHTTPServer((self.host, self.port), ApiHandler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        httpd.lab = self  # type: ignore[attr-defined]
        self._httpd, self.port = httpd, httpd.server_address[1]
        self.stopping.clear()
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"lab-api-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LabApiServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kubeconfig(self, namespace: str = "default", name: str = "runbook-lab") -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Config", "preferences": {},
                "clusters": [{"name": name, "cluster": {"server": self.url}}],
                "users": [{"name": name, "user": {"token": "runbook-lab"}}],
                "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
                "current-context": name}

    def write_kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        """Write a kubeconfig (JSON, which is valid YAML) pointing at :attr:`url`."""
        path = Path(path)
        atomic_write(path, json.dumps(self.kubeconfig(namespace), indent=2) + "\n")
        return path

    def default_log_source(self, namespace: str, pod: str, container: str, tail: int | None) -> str:
        """Synthesized log lines from the pod's status (until the lab plugs real logs in)."""
        obj = self.store.try_get(resources.PODS, namespace, pod) or {}
        status = obj.get("status", {})
        return (f"{status.get('startTime', '')} lab: pod {namespace}/{pod} container {container} "
                f"on node {obj.get('spec', {}).get('nodeName', '<none>')}\n"
                f"{status.get('startTime', '')} lab: phase {status.get('phase', 'Unknown')}\n")


def default_exec_handler(namespace: str, pod: str, container: str, command: list[str]) -> tuple[bytes, bytes, int]:
    return b"", f"exec is not wired to a lab node (pod {namespace}/{pod}, command {command})\n".encode(), 126
