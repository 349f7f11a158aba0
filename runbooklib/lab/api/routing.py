"""URL parsing for resource requests.

``parse_resource_path("/apis/apps/v1/namespaces/kube-system/daemonsets/x/status")`` returns a
:class:`ResourcePath` (group ``apps``, version ``v1``, namespace ``kube-system``, plural
``daemonsets``, name ``x``, subresource ``status``); non-resource paths give ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourcePath:
    group: str
    version: str
    namespace: str | None
    plural: str
    name: str | None = None
    subresource: str | None = None


def parse_resource_path(path: str) -> ResourcePath | None:
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    # /namespaces/<ns>/<plural>... but not /namespaces/<name>[/status|/finalize]
    if rest[0] == "namespaces" and len(rest) >= 3 and not (group == "" and len(rest) == 3
                                                             and rest[2] in ("status", "finalize")):
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        return None
    return ResourcePath(group, version, namespace, rest[0], rest[1] if len(rest) > 1 else None,
                        rest[2] if len(rest) > 2 else None)
