"""The `k8s.v1.cni.cncf.io/networks` annotation: parse it like multus does and check it.

Formats (multus `parsePodNetworkAnnotation`): a JSON *list* of selection objects when the value
contains `[`, `{` or `"`; otherwise comma-separated `[<namespace>/]<name>[@<ifname>]` items.
Checks: syntax (with a proposed corrected JSON), DNS-1123 names, ifname <= 15 characters,
unknown NADs, NADs that exist only in another namespace, and the annotation put on a
Deployment/StatefulSet/DaemonSet/... instead of its pod template (pods never see it there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from runbooklib.nad.findings import RuleBook
from runbooklib.nad.jsontext import parse_strict, repair_json
from runbooklib.nad.pools import parse_ip, parse_net
from runbooklib.results import Finding

NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
NETWORK_STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status"
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")
PARSE_ERROR = "parsePodNetworkAnnotation: failed to parse pod Network Attachment Selection Annotation JSON format"
WORKLOAD_TEMPLATES = {
    "Deployment": ("spec", "template"), "StatefulSet": ("spec", "template"), "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"), "Job": ("spec", "template"), "ReplicationController": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
CHECK = "nad-annotation"


@dataclass(frozen=True)
class NetworkSelection:
    """One attachment the pod asks for."""

    name: str
    namespace: str
    interface: str | None = None
    ips: tuple[str, ...] = ()
    mac: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class AnnotationProblem:
    message: str
    item: str = ""
    right_value: str | None = None


def parse_networks_annotation(value: str, pod_namespace: str) -> tuple[list[NetworkSelection], list[AnnotationProblem]]:
    """Selections and problems (syntax or per-item validation), in multus' order of checks."""
    text = value.strip()
    if not text:
        return [], []
    if any(c in text for c in '[{"'):
        return _parse_json_form(text, pod_namespace)
    selections: list[NetworkSelection] = []
    problems: list[AnnotationProblem] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        sel, problem = _parse_short_item(item, pod_namespace)
        if problem:
            problems.append(problem)
        if sel:
            selections.append(sel)
    return selections, problems


def _parse_short_item(item: str, pod_namespace: str) -> tuple[NetworkSelection | None, AnnotationProblem | None]:
    if item.count("/") > 1:
        return None, AnnotationProblem(f"Invalid network object (failed at '/'): {item!r}", item)
    if item.count("@") > 1:
        return None, AnnotationProblem(f"Invalid network object (failed at '@'): {item!r}", item)
    rest, _, ifname = item.partition("@")
    ns, _, name = rest.rpartition("/")
    ns = ns or pod_namespace
    sel = NetworkSelection(name, ns, ifname or None)
    return sel, _check_selection(sel, item)


def _check_selection(sel: NetworkSelection, item: str) -> AnnotationProblem | None:
    if not DNS1123.match(sel.namespace or ""):
        return AnnotationProblem(f"namespace {sel.namespace!r} is not a DNS-1123 label", item)
    if not DNS1123.match(sel.name or ""):
        return AnnotationProblem(f"network name {sel.name!r} is not a DNS-1123 label", item)
    if sel.interface is not None and (len(sel.interface) > 15 or any(c in sel.interface for c in "/ \t") or not sel.interface):
        return AnnotationProblem(f"interface name {sel.interface!r} is invalid (at most 15 characters, no '/' or spaces)", item)
    for ip in sel.ips:
        if parse_ip(ip) is None and parse_net(ip) is None:
            return AnnotationProblem(f"ips entry {ip!r} is not an IP or CIDR", item)
    if sel.mac is not None and not MAC.match(sel.mac):
        return AnnotationProblem(f"mac {sel.mac!r} is not a MAC address", item)
    return None


def _parse_json_form(text: str, pod_namespace: str) -> tuple[list[NetworkSelection], list[AnnotationProblem]]:
    value, problem = parse_strict(text)
    if problem is not None:
        repaired = repair_json(text)
        if isinstance(repaired, dict):
            repaired = [repaired]
        proposal = json.dumps(repaired) if isinstance(repaired, list) else None
        return [], [AnnotationProblem(f"{PARSE_ERROR}: {problem.message} at line {problem.line}, column {problem.column}",
                                      text, proposal)]
    if isinstance(value, dict):
        return [], [AnnotationProblem(f"{PARSE_ERROR}: json: cannot unmarshal object into Go value of type "
                                      "[]*types.NetworkSelectionElement (a lone object must be wrapped in a list)",
                                      text, json.dumps([value]))]
    if not isinstance(value, list):
        return [], [AnnotationProblem(f"{PARSE_ERROR}: expected a JSON list of objects", text)]
    selections: list[NetworkSelection] = []
    problems: list[AnnotationProblem] = []
    for i, element in enumerate(value):
        if not isinstance(element, dict):
            problems.append(AnnotationProblem(f"{PARSE_ERROR}: element {i} is not an object", json.dumps(element)))
            continue
        interface = element.get("interface") or element.get("interfaceRequest")
        ips = element.get("ips") or []
        sel = NetworkSelection(
            name=str(element.get("name") or ""), namespace=str(element.get("namespace") or pod_namespace),
            interface=str(interface) if interface else None,
            ips=tuple(str(x) for x in ips) if isinstance(ips, list) else (str(ips),),
            mac=str(element["mac"]) if element.get("mac") else None,
            extra={k: v for k, v in element.items() if k not in ("name", "namespace", "interface", "interfaceRequest", "ips", "mac")})
        problem = _check_selection(sel, json.dumps(element))
        if problem:
            problems.append(problem)
        else:
            selections.append(sel)
    return selections, problems


def validate_networks_annotation(value: str, pod_namespace: str, known_nads: Iterable[str] | None, target: str,
                                 field: str = f"metadata.annotations[{NETWORKS_ANNOTATION}]") -> list[Finding]:
    """Syntax + references. `known_nads` is a set of "ns/name" (None: references not checked)."""
    book = RuleBook(target, CHECK)
    book.ran("annotation.syntax", "networks annotation parses")
    selections, problems = parse_networks_annotation(value, pod_namespace)
    for p in problems:
        fixes = [f"corrected annotation: {p.right_value}"] if p.right_value else []
        fixes.append("write a JSON list of objects, or comma-separated [namespace/]name[@ifname] items")
        book.fail("annotation.syntax", field, p.message, fixes, item=p.item, right_value=p.right_value)
    if known_nads is None:
        return book.finish()
    known = set(known_nads)
    book.ran("annotation.references", "every referenced NAD exists")
    for sel in selections:
        if sel.ref in known:
            continue
        elsewhere = sorted(k for k in known if k.split("/", 1)[1] == sel.name)
        if elsewhere:
            right = f"{elsewhere[0]}" + (f"@{sel.interface}" if sel.interface else "")
            book.fail("annotation.references", field,
                      f"cannot find a network-attachment-definition ({sel.name}) in namespace ({sel.namespace}); it exists "
                      f"as {', '.join(elsewhere)} (wrong namespace)",
                      [f"reference it with its namespace: {right}", "or create the NAD in the pod's namespace"],
                      selection=sel.ref, right_value=right)
        else:
            book.fail("annotation.references", field,
                      f"cannot find a network-attachment-definition ({sel.name}) in namespace ({sel.namespace})",
                      [f"create NAD {sel.ref}", "or fix the name in the annotation"], selection=sel.ref)
    return book.finish()


def _dig(obj: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur if isinstance(cur, dict) else None


def validate_workload(obj: dict[str, Any], known_nads: Iterable[str] | None) -> list[Finding]:
    """A Pod or a workload object (dict form). Checks the annotation where pods actually get it."""
    kind = str(obj.get("kind") or "Pod")
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    target = f"{kind} {namespace}/{meta.get('name', '')}"
    own = (meta.get("annotations") or {}).get(NETWORKS_ANNOTATION)
    if kind == "Pod":
        return validate_networks_annotation(own, namespace, known_nads, target) if own is not None else []
    path = WORKLOAD_TEMPLATES.get(kind)
    if path is None:
        return []
    template = _dig(obj, path) or {}
    template_annotations = ((template.get("metadata") or {}).get("annotations") or {})
    in_template = template_annotations.get(NETWORKS_ANNOTATION)
    findings: list[Finding] = []
    book = RuleBook(target, CHECK)
    book.ran("annotation.placement", "networks annotation is on the pod template")
    template_field = ".".join(path) + ".metadata.annotations"
    if own is not None and in_template is None:
        book.fail("annotation.placement", f"metadata.annotations[{NETWORKS_ANNOTATION}]",
                  f"the networks annotation is on the {kind} itself, not on its pod template, so pods never get the attachment",
                  [f"move it to {template_field}", "then roll the pods (the template change does that)"],
                  right_value={"field": f"{template_field}[{NETWORKS_ANNOTATION}]", "value": own})
    findings += book.finish()
    value = in_template if in_template is not None else own
    if value is not None:
        field = f"{template_field}[{NETWORKS_ANNOTATION}]" if in_template is not None else f"metadata.annotations[{NETWORKS_ANNOTATION}]"
        findings += validate_networks_annotation(value, namespace, known_nads, target, field)
    return findings


def parse_network_status(value: str | None) -> list[dict[str, Any]]:
    """The `network-status` annotation as a list of entries ([] when absent or unreadable)."""
    if not value:
        return []
    try:
        data = json.loads(value)
    except ValueError:
        return []
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
