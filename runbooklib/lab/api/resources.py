"""Resource types served by the lab API: the built-in kinds plus any installed CRD.

A :class:`ResourceType` names one REST resource (group, version, plural, kind,
scope). ``BUILTIN`` lists the built-in kinds; module constants such as
:data:`PODS`, :data:`DAEMONSETS` and :data:`NODES` are the handles in-process code
(e.g. lab controllers) passes to the store. :class:`Registry` resolves a URL's
group/version/plural to a type, consulting the stored CustomResourceDefinitions so
that custom resources exist exactly while their CRD is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

ALL_VERBS: tuple[str, ...] = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One REST resource, e.g. ``apps/v1 daemonsets``."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = field(default=())

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Storage key, independent of the version: ``<group or core>/<plural>``."""
        return f"{self.group or 'core'}/{self.plural}"

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


def _rt(gv: str, plural: str, kind: str, namespaced: bool, short: tuple[str, ...] = (),
        sub: tuple[str, ...] = (), categories: tuple[str, ...] = ()) -> ResourceType:
    group, _, version = gv.rpartition("/")
    return ResourceType(group, version, plural, kind, namespaced, kind.lower(), short, sub, categories)


NAMESPACES = _rt("v1", "namespaces", "Namespace", False, ("ns",), ("status",))
NODES = _rt("v1", "nodes", "Node", False, ("no",), ("status",))
PODS = _rt("v1", "pods", "Pod", True, ("po",), ("status", "log", "exec"), ("all",))
CONFIGMAPS = _rt("v1", "configmaps", "ConfigMap", True, ("cm",))
SECRETS = _rt("v1", "secrets", "Secret", True)
SERVICEACCOUNTS = _rt("v1", "serviceaccounts", "ServiceAccount", True, ("sa",))
SERVICES = _rt("v1", "services", "Service", True, ("svc",), ("status",), ("all",))
EVENTS = _rt("v1", "events", "Event", True, ("ev",))
DAEMONSETS = _rt("apps/v1", "daemonsets", "DaemonSet", True, ("ds",), ("status",), ("all",))
DEPLOYMENTS = _rt("apps/v1", "deployments", "Deployment", True, ("deploy",), ("status",), ("all",))
CLUSTERROLES = _rt("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", False)
CLUSTERROLEBINDINGS = _rt("rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", False)
ROLES = _rt("rbac.authorization.k8s.io/v1", "roles", "Role", True)
ROLEBINDINGS = _rt("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", True)
CRDS = _rt("apiextensions.k8s.io/v1", "customresourcedefinitions", "CustomResourceDefinition", False,
           ("crd", "crds"), ("status",))
EVENTS_V1 = _rt("events.k8s.io/v1", "events", "Event", True, ("ev",))

BUILTIN: tuple[ResourceType, ...] = (
    NAMESPACES, NODES, PODS, CONFIGMAPS, SECRETS, SERVICEACCOUNTS, SERVICES, EVENTS, DAEMONSETS, DEPLOYMENTS,
    CLUSTERROLES, CLUSTERROLEBINDINGS, ROLES, ROLEBINDINGS, CRDS, EVENTS_V1,
)


def from_crd(crd: dict[str, Any]) -> list[ResourceType]:
    """Resource types (one per served version) declared by a CRD object."""
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    out = []
    for ver in spec.get("versions", []):
        if not ver.get("served", True):
            continue
        sub = tuple(ver.get("subresources", {}) or {})
        out.append(ResourceType(
            spec.get("group", ""), ver["name"], names.get("plural", ""), names.get("kind", ""),
            spec.get("scope", "Namespaced") == "Namespaced", names.get("singular", ""),
            tuple(names.get("shortNames", []) or []), sub, tuple(names.get("categories", []) or []),
        ))
    return out


class Registry:
    """Resolves group/version/plural to a :class:`ResourceType` (built-ins + CRDs)."""

    def __init__(self, list_crds: Callable[[], Iterable[dict[str, Any]]]) -> None:
        self._list_crds = list_crds

    def all(self) -> list[ResourceType]:
        out = list(BUILTIN)
        for crd in self._list_crds():
            out.extend(from_crd(crd))
        return out

    def group_versions(self) -> dict[str, list[ResourceType]]:
        """``{"v1": [...], "apps/v1": [...], ...}`` in a stable order."""
        gvs: dict[str, list[ResourceType]] = {}
        for rt in self.all():
            gvs.setdefault(rt.api_version, []).append(rt)
        return gvs

    def resolve(self, group: str, version: str, plural: str) -> ResourceType | None:
        for rt in self.all():
            if rt.group == group and rt.version == version and rt.plural == plural:
                return rt
        return None
