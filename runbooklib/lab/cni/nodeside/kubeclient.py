"""A minimal Kubernetes REST client (stdlib) for the node-side whereabouts: JSON get/create/put/delete."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

Obj = dict[str, Any]


class ApiStatusError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class KubeClient:
    def __init__(self, server: str, token: str = "", timeout: float = 10.0) -> None:
        self.server, self.token, self.timeout = server.rstrip("/"), token, timeout
        self._ctx = ssl._create_unverified_context() if server.startswith("https") else None  # noqa: S323

    def request(self, method: str, path: str, body: Obj | None = None) -> Obj:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)  # noqa: S310
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self._ctx) as resp:  # noqa: S310
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                msg = json.loads(raw).get("message", "")
            except ValueError:
                msg = raw.decode(errors="replace")
            raise ApiStatusError(e.code, msg or str(e)) from e
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise ApiStatusError(0, f"{method} {self.server}{path}: {reason}") from e

    def get(self, path: str) -> Obj | None:
        try:
            return self.request("GET", path)
        except ApiStatusError as e:
            if e.status == 404:
                return None
            raise

    def create(self, collection: str, obj: Obj) -> Obj:
        return self.request("POST", collection, obj)

    def replace(self, path: str, obj: Obj) -> Obj:
        return self.request("PUT", path, obj)

    def delete(self, path: str) -> None:
        try:
            self.request("DELETE", path)
        except ApiStatusError as e:
            if e.status != 404:
                raise


WB_GROUP = "/apis/whereabouts.cni.cncf.io/v1alpha1"


def ippools_path(namespace: str, name: str = "") -> str:
    return f"{WB_GROUP}/namespaces/{namespace}/ippools" + (f"/{name}" if name else "")


def orip_path(namespace: str, name: str = "") -> str:
    return f"{WB_GROUP}/namespaces/{namespace}/overlappingrangeipreservations" + (f"/{name}" if name else "")
