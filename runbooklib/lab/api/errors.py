"""Kubernetes-shaped API errors.

:class:`ApiError` carries an HTTP status code plus the ``reason`` / ``message`` of a
``kind: Status`` body. The store, the patch helpers and the HTTP layer raise it;
the HTTP handler turns it into the JSON body that clients (``kubernetes`` Python
client, ``kubectl``) expect.
"""

from __future__ import annotations

from typing import Any

NOT_FOUND_MESSAGE = "the server could not find the requested resource"


class ApiError(Exception):
    """An error answered as a Kubernetes ``Status`` object."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self) -> dict[str, Any]:
        """Return the ``kind: Status`` body for this error."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body

    @classmethod
    def not_found(cls, plural: str, name: str, group: str = "") -> ApiError:
        kind = f"{plural}.{group}" if group else plural
        return cls(404, "NotFound", f'{kind} "{name}" not found', {"name": name, "group": group, "kind": plural})

    @classmethod
    def no_route(cls) -> ApiError:
        return cls(404, "NotFound", NOT_FOUND_MESSAGE)

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, "BadRequest", message)
