"""Emulated Kubernetes API server for the runbook lab (standard library only).

Serves the core, apps, rbac, apiextensions and events APIs plus custom resources of any
installed CRD, with discovery and OpenAPI documents so that both the official ``kubernetes``
Python client and ``kubectl`` work against it. Modules, one concern each:

* :mod:`.server` -- :class:`LabApiServer` (lifecycle, kubeconfig, log/exec hooks)
* :mod:`.store` -- :class:`ObjectStore` (persistent, thread-safe object store, change subscribers)
* :mod:`.controllers` -- :class:`LabControllers` (nodes, DaemonSets, scheduling, pod start)
* :mod:`.resources` -- :class:`ResourceType`, built-in types, CRD registry
* :mod:`.handler`, :mod:`.routing` -- HTTP handler and URL parsing
* :mod:`.discovery`, :mod:`.tables` -- discovery/OpenAPI documents, kubectl Table output
* :mod:`.patch`, :mod:`.selectors`, :mod:`.websocket`, :mod:`.errors` -- API mechanics

Run as a process: ``python -m runbooklib.lab.api --state-dir DIR --port N --kubeconfig PATH``.
"""

from .controllers import LabControllers, default_pod_starter
from .errors import ApiError
from .resources import ResourceType
from .server import ExecHandler, LabApiServer, LogSource
from .store import ObjectStore

__all__ = ["ApiError", "ExecHandler", "LabApiServer", "LabControllers", "LogSource", "ObjectStore",
           "ResourceType", "default_pod_starter"]
