"""HTTP request handler: routing of discovery, OpenAPI and resource requests.

One :class:`ApiHandler` instance serves one connection of the ``ThreadingHTTPServer`` owned
by :class:`~runbooklib.lab.api.server.LabApiServer` (reachable as ``self.server.lab``).
Verbs: GET (one / list / watch / Table for kubectl), POST (create), PUT (replace,
``/status``), PATCH (by Content-Type, see :mod:`.patch`), DELETE (one / collection),
``pods/<name>/log`` and the ``pods/<name>/exec`` websocket upgrade.
"""

from __future__ import annotations

import json
import queue
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import discovery, websocket
from .errors import ApiError
from .patch import STRATEGIC, apply_patch
from .resources import BUILTIN, PODS, ResourceType
from .routing import ResourcePath, parse_resource_path
from .selectors import matches_fields, matches_labels, parse_field_selector, parse_label_selector
from .tables import to_table

if TYPE_CHECKING:
    from .server import LabApiServer

Obj = dict[str, Any]


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "runbooklib-lab-api"

    @property
    def lab(self) -> LabApiServer:
        return self.server.lab  # type: ignore[attr-defined, no-any-return]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # -- plumbing ------------------------------------------------------------------------------
    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(body)
        self.lab.requests.append((self.command, self.path, code))

    def _json(self, code: int, obj: Any) -> None:
        self._send(code, json.dumps(obj).encode())

    def _body(self) -> Any:
        raw = self._raw
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError.bad_request(f"invalid JSON body: {exc}") from exc

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        self._raw = self.rfile.read(length) if length else b""
        try:
            if method == "GET" and self._non_resource(url.path):
                return
            rp = parse_resource_path(url.path)
            if rp is None:
                raise ApiError.no_route()
            self._resource(method, rp)
        except ApiError as exc:
            self._json(exc.code, exc.status())
        except ValueError as exc:
            self._json(400, ApiError.bad_request(str(exc)).status())

    def _q(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, [default])[0]

    # -- non-resource endpoints ----------------------------------------------------------------
    def _non_resource(self, path: str) -> bool:
        path = path.rstrip("/") or "/"
        reg = self.lab.registry
        doc: Any = None
        if path == "/version":
            doc = discovery.VERSION
        elif path == "/api":
            doc = discovery.api_versions(f"{self.lab.host}:{self.lab.port}")
        elif path == "/apis":
            doc = discovery.api_groups(reg)
        elif path in ("/healthz", "/readyz", "/livez"):
            self._send(200, b"ok", "text/plain")
            return True
        elif path == "/openapi/v3":
            doc = discovery.openapi_v3_index(reg)
        elif path.startswith("/openapi/v3/"):
            gv = path[len("/openapi/v3/"):].removeprefix("api/").removeprefix("apis/")
            doc = discovery.openapi_v3_doc(reg, gv)
            if doc is None:
                raise ApiError.no_route()
        else:
            parts = path.strip("/").split("/")
            if parts[0] == "api" and len(parts) == 2:
                doc = discovery.resource_list(reg, parts[1])
            elif parts[0] == "apis" and len(parts) == 2:
                doc = discovery.api_group(reg, parts[1])
            elif parts[0] == "apis" and len(parts) == 3:
                doc = discovery.resource_list(reg, f"{parts[1]}/{parts[2]}")
            else:
                return False
            if doc is None:
                raise ApiError.no_route()
        self._json(200, doc)
        return True

    # -- resources -----------------------------------------------------------------------------
    def _resource(self, method: str, rp: ResourcePath) -> None:
        rt = self.lab.registry.resolve(rp.group, rp.version, rp.plural)
        if rt is None or (rp.namespace is not None and not rt.namespaced):
            raise ApiError.no_route()
        if rp.subresource and rp.subresource not in rt.subresources:
            raise ApiError.no_route()
        if rp.subresource in ("log", "exec"):
            if method not in ("GET", "POST") or rp.name is None:
                raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on {rp.subresource}")
            return self._log(rp) if rp.subresource == "log" else self._exec(rp)
        if method != "GET" and self._q("dryRun"):
            raise ApiError.bad_request("dryRun is not supported by the lab API (the request would be persisted)")
        store, ns = self.lab.store, rp.namespace
        if rp.name is None:
            if method == "GET":
                return self._watch(rt, ns) if self._q("watch") in ("true", "1") else self._list(rt, ns)
            if method == "POST":
                body = self._body()
                if not isinstance(body, dict):
                    raise ApiError.bad_request("request body must be a JSON object")
                if rt.namespaced and ns is None:
                    raise ApiError.no_route()
                return self._json(201, store.create(rt, body, ns))
            if method == "DELETE":
                self._body()
                items = [store.delete(rt, o["metadata"].get("namespace"), o["metadata"]["name"])
                         for o in self._select(rt, ns)]
                return self._json(200, self._list_doc(rt, items))
            raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on a collection")
        if method == "GET":
            obj = store.get(rt, ns, rp.name)
            return self._json(200, self._maybe_table(rt, [obj]) or obj)
        if method == "PUT":
            body = self._body()
            if not isinstance(body, dict):
                raise ApiError.bad_request("request body must be a JSON object")
            if body.get("metadata", {}).get("name") not in (None, rp.name):
                raise ApiError.bad_request("the name of the object does not match the name on the URL")
            body.setdefault("metadata", {})["name"] = rp.name
            return self._json(200, store.update(rt, body, subresource=rp.subresource, namespace=ns))
        if method == "PATCH":
            return self._patch(rt, rp)
        if method == "DELETE":
            self._body()
            return self._json(200, store.delete(rt, ns, rp.name))
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed")

    def _patch(self, rt: ResourceType, rp: ResourcePath) -> None:
        ctype = self.headers.get("Content-Type", "")
        body = self._body()
        if ctype.startswith(STRATEGIC) and rt not in BUILTIN:
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                                                        "strategic merge patch is not supported for custom resources")
        assert rp.name is not None
        self._json(200, self.lab.store.modify(rt, rp.namespace, rp.name, lambda o: apply_patch(o, body, ctype),
                                              subresource=rp.subresource))

    def _select(self, rt: ResourceType, ns: str | None) -> list[Obj]:
        return self.lab.store.list(rt, ns, self._q("labelSelector"), self._q("fieldSelector"))

    def _list_doc(self, rt: ResourceType, items: list[Obj]) -> Obj:
        return {"kind": rt.list_kind, "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": self.lab.store.resource_version}, "items": items}

    def _maybe_table(self, rt: ResourceType, items: list[Obj]) -> Obj | None:
        if "as=Table" not in self.headers.get("Accept", ""):
            return None
        return to_table(rt.kind, items, self.lab.store.resource_version)

    def _list(self, rt: ResourceType, ns: str | None) -> None:
        items = self._select(rt, ns)
        self._json(200, self._maybe_table(rt, items) or self._list_doc(rt, items))

    # -- watch ---------------------------------------------------------------------------------
    def _watch(self, rt: ResourceType, ns: str | None) -> None:
        labels = parse_label_selector(self._q("labelSelector"))
        fields = parse_field_selector(self._q("fieldSelector"))
        events: queue.Queue[tuple[str, Obj]] = queue.Queue()
        names = {"create": "ADDED", "update": "MODIFIED", "delete": "DELETED"}

        def listener(verb: str, changed: ResourceType, obj: Obj) -> None:
            if changed.key == rt.key and (ns is None or obj["metadata"].get("namespace") == ns) \
                    and matches_labels(obj, labels) and matches_fields(obj, fields):
                events.put((names[verb], obj))

        self.lab.store.subscribe(listener)
        try:
            if self._q("resourceVersion") in (None, "", "0"):
                for obj in self._select(rt, ns):
                    events.put(("ADDED", obj))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            deadline = time.monotonic() + float(self._q("timeoutSeconds") or 1800)
            while time.monotonic() < deadline and not self.lab.stopping.is_set():
                try:
                    kind, obj = events.get(timeout=0.2)
                except queue.Empty:
                    continue
                data = json.dumps({"type": kind, "object": obj}).encode() + b"\n"
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True
        finally:
            self.lab.store.unsubscribe(listener)

    # -- pods/log and pods/exec ----------------------------------------------------------------
    def _container(self, pod: Obj) -> str:
        spec = pod.get("spec", {})
        names = [c["name"] for c in spec.get("containers", [])]
        all_names = names + [c["name"] for c in spec.get("initContainers", []) or []]
        name = self._q("container") or pod["metadata"].get("annotations", {}).get(
            "kubectl.kubernetes.io/default-container")
        if not name:
            if len(names) != 1:
                raise ApiError.bad_request(f"a container name must be specified for pod {pod['metadata']['name']}, "
                                           f"choose one of: [{' '.join(names)}]")
            name = names[0]
        if name not in all_names:
            raise ApiError.bad_request(f"container {name} is not valid for pod {pod['metadata']['name']}")
        return name

    def _log(self, rp: ResourcePath) -> None:
        assert rp.name is not None
        pod = self.lab.store.get(PODS, rp.namespace, rp.name)
        container = self._container(pod)
        tail_raw = self._q("tailLines")
        tail = int(tail_raw) if tail_raw not in (None, "") else None
        text = self.lab.log_source(rp.namespace or "default", rp.name, container, tail)
        if tail is not None:
            text = "".join(text.splitlines(keepends=True)[-tail:] if tail > 0 else [])
        self._send(200, text.encode(), "text/plain")

    def _exec(self, rp: ResourcePath) -> None:
        assert rp.name is not None
        pod = self.lab.store.get(PODS, rp.namespace, rp.name)
        container = self._container(pod)
        command = self.query.get("command", [])
        if not command:
            raise ApiError.bad_request("you must specify at least 1 command")
        if "websocket" not in self.headers.get("Upgrade", "").lower():
            raise ApiError.bad_request("Upgrade request required")
        protocol = websocket.choose_protocol(self.headers.get("Sec-WebSocket-Protocol", ""))
        if protocol is None:
            raise ApiError.bad_request("unable to upgrade connection: no supported channel protocol "
                                       f"(supported: {', '.join(websocket.PROTOCOLS)})")
        if pod.get("status", {}).get("phase") != "Running":
            raise ApiError.bad_request(f'unable to upgrade connection: container not found ("{container}")')
        try:
            stdout, stderr, code = self.lab.exec_handler(rp.namespace or "default", rp.name, container, command)
        except Exception as exc:  # surface handler failures to the client as stderr
            stdout, stderr, code = b"", f"lab exec handler failed: {exc}\n".encode(), 126
        self.send_response(101)
        for k, v in websocket.handshake_headers(self.headers.get("Sec-WebSocket-Key", ""), protocol).items():
            self.send_header(k, v)
        self.end_headers()
        self.lab.requests.append((self.command, self.path, 101))
        websocket.send_exec_result(self.rfile, self.wfile, self.connection, stdout, stderr, code)
        self.close_connection = True
