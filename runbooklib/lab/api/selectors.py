"""Label and field selectors as the Kubernetes API parses them.

``parse_label_selector("app in (a,b),!legacy,tier=node")`` returns a list of
:class:`Requirement`; :func:`matches_labels` evaluates them. Supported operators:
``=``, ``==``, ``!=``, ``in``, ``notin``, ``key`` (exists) and ``!key``. Field
selectors (``metadata.name=x,spec.nodeName!=n1``) use dotted paths into the object
(``metadata.name``, ``metadata.namespace``, ``spec.nodeName``, ``status.phase``,
``involvedObject.name``...). Malformed input raises :class:`ValueError`; the
HTTP layer answers it with 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_KEY = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_SET = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")
_EQ = re.compile(r"^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$")


@dataclass(frozen=True)
class Requirement:
    """One selector term: ``key <op> values`` with op in =, !=, in, notin, exists, !."""

    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        # "!=" and "notin" match objects without the key too
        return not present or value not in self.values


def _split_terms(selector: str) -> list[str]:
    terms, depth, cur = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced parenthesis in selector {selector!r}")
        if ch == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if depth:
        raise ValueError(f"unbalanced parenthesis in selector {selector!r}")
    terms.append(cur.strip())
    return [t for t in terms if t] if selector.strip() else []


def _check(key: str, values: tuple[str, ...]) -> None:
    if not _KEY.match(key):
        raise ValueError(f"invalid label key {key!r}")
    for v in values:
        if not _VALUE.match(v):
            raise ValueError(f"invalid label value {v!r}")


def parse_label_selector(selector: str | None) -> list[Requirement]:
    """Parse a label selector string; empty or None selects everything."""
    reqs: list[Requirement] = []
    for term in _split_terms(selector or ""):
        if m := _SET.match(term):
            values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            if not values:
                raise ValueError(f"empty value set in {term!r}")
            req = Requirement(m.group(1), m.group(2), values)
        elif m := _EQ.match(term):
            op = "=" if m.group(2) in ("=", "==") else "!="
            req = Requirement(m.group(1), op, (m.group(3),))
        elif term.startswith("!"):
            req = Requirement(term[1:].strip(), "!")
        elif re.fullmatch(r"\S+", term):
            req = Requirement(term, "exists")
        else:
            raise ValueError(f"unable to parse requirement: {term!r}")
        _check(req.key, req.values)
        reqs.append(req)
    return reqs


def matches_labels(obj: dict[str, Any], reqs: list[Requirement]) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    return all(r.matches(labels) for r in reqs)


def selector_from_match_labels(selector: dict[str, Any] | None) -> list[Requirement]:
    """Requirements of a ``LabelSelector`` object (matchLabels + matchExpressions)."""
    selector = selector or {}
    reqs = [Requirement(k, "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        reqs.append(Requirement(expr["key"], ops[expr["operator"]], tuple(expr.get("values") or ())))
    return reqs


def parse_field_selector(selector: str | None) -> list[tuple[str, str, str]]:
    """Parse ``a.b=x,c!=y`` into ``[(path, op, value)]``."""
    out = []
    for term in _split_terms(selector or ""):
        m = re.fullmatch(r"([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)", term)
        if not m:
            raise ValueError(f"invalid field selector term {term!r}")
        out.append((m.group(1), "!=" if m.group(2) == "!=" else "=", m.group(3).strip()))
    return out


def field_value(obj: dict[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    return "" if cur is None else str(cur)


def matches_fields(obj: dict[str, Any], terms: list[tuple[str, str, str]]) -> bool:
    return all((field_value(obj, p) == v) == (op == "=") for p, op, v in terms)
