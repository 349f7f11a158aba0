"""Plug pod networking into a lab API server that belongs to a lab (its state dir's parent is a lab).

`attach_if_lab(api)` is called by `python -m runbooklib.lab.api` after the server started. When the
API's state dir is `<lab state dir>/api` of a lab (marker + state.json), it
- adds a second listener on the lab's management gateway (e.g. 198.19.0.1, same port): nodes'
  network namespaces cannot reach the host's 127.0.0.1, so the whereabouts kubeconfig the lab's
  install effect writes names `http://<gateway>:<port>` (as the kubernetes Service would on k3s);
- sets the controllers' `pod_starter`, the server's `exec_handler` and `log_source`, and subscribes
  to deletions (see runtime.PodNetworking).
"""

from __future__ import annotations

import logging
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from runbooklib.lab.api.handler import ApiHandler
from runbooklib.lab.api.server import LabApiServer
from runbooklib.lab.cni.runtime import PodNetworking
from runbooklib.lab.state import MARKER, LabState

log = logging.getLogger(__name__)


def lab_state_dir(api: LabApiServer) -> Path | None:
    d = Path(api.state_dir).resolve().parent
    if (d / MARKER).exists() and (d / "state.json").exists():
        return d
    return None


def second_listener(api: LabApiServer, host: str) -> ThreadingHTTPServer | None:
    try:
        httpd = ThreadingHTTPServer((host, api.port), ApiHandler)
    except OSError as e:
        log.warning("lab pod networking: cannot listen on %s:%s: %s", host, api.port, e)
        return None
    httpd.daemon_threads = True
    httpd.lab = api  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                     name=f"lab-api-gw-{api.port}").start()
    return httpd


def attach(api: LabApiServer, state_dir: Path) -> PodNetworking:
    st = LabState.load(state_dir)
    gateway = st.mgmt_gateway
    second_listener(api, gateway)
    token = str(api.kubeconfig()["users"][0]["user"].get("token", ""))
    pn = PodNetworking(api.store, state_dir, f"http://{gateway}:{api.port}", token)
    if api.controllers is not None:
        api.controllers.pod_starter = pn.pod_starter
    api.on_change(pn.on_change)
    api.exec_handler = pn.exec_in_pod
    default_logs = api.default_log_source

    def log_source(ns: str, pod: str, container: str, tail: Any) -> str:
        text = pn.log_source(ns, pod, container, tail)
        return text if text is not None else default_logs(ns, pod, container, tail)
    api.log_source = log_source
    api.pod_networking = pn  # type: ignore[attr-defined]
    pn.recover()
    return pn


def attach_if_lab(api: LabApiServer) -> PodNetworking | None:
    d = lab_state_dir(api)
    if d is None:
        return None
    return attach(api, d)
