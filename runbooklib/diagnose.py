"""`runbook diagnose`: an error message or log excerpt → known failure(s) → runbook + parameters + why.

The rules are data (`diagnose_rules.yaml`, next to this module); this module loads, matches and
formats them. Matching is per line (line numbers reported), plus one pass over the whole text with
newlines joined, so a message wrapped over several lines still matches.
"""

from __future__ import annotations

import re
import shlex
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from runbooklib.errors import RunbookError

RULES_FILE = Path(__file__).with_name("diagnose_rules.yaml")
RUNBOOKS = ("failed-to-find-plugin", "config-not-found", "upgrade-check", "install", "ip-occupancy", "longhorn-storage-network")
DEFAULT_PARAMS_FILE = "params/homelab.yaml"


class RulesError(RunbookError):
    """The rules file is malformed (caught by the unit tests, never at a user's prompt)."""


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    runbook: str
    pattern: re.Pattern[str]
    explanation: str
    fix: str
    params: dict[str, Any] = field(default_factory=dict)
    param_types: dict[str, str] = field(default_factory=dict)
    supersedes: tuple[str, ...] = ()
    priority: int = 50
    source: str = ""
    derived: bool = False
    samples: tuple[str, ...] = ()
    near_misses: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    runbooks: dict[str, dict[str, Any]]
    context: tuple[re.Pattern[str], ...]

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


@dataclass
class Match:
    rule: Rule
    line_no: int | None  # 1-based; None when only the joined text matched
    line: str
    evidence: dict[str, str]
    params: dict[str, Any]

    @property
    def explanation(self) -> str:
        return _fill(self.rule.explanation, self.evidence)

    @property
    def fix(self) -> str:
        return _fill(self.rule.fix, self.evidence)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.id, "title": self.rule.title, "runbook": self.rule.runbook, "line_no": self.line_no,
                "line": self.line, "evidence": self.evidence, "params": self.params, "explanation": self.explanation,
                "fix": self.fix, "source": self.rule.source, "derived": self.rule.derived}


@dataclass
class Suggestion:
    """One runbook to run, with parameters merged from every match that points at it."""

    runbook: str
    params: dict[str, Any]
    matches: list[Match]

    def command(self, params_file: str = DEFAULT_PARAMS_FILE, declared: Iterable[str] | None = None) -> str:
        """The `runbook run` line; with `declared`, only parameters the notebook really takes."""
        keep = set(declared) if declared is not None else None
        parts = ["runbook", "run", self.runbook, "--params", shlex.quote(params_file)]
        for key, value in self.params.items():
            if keep is not None and key not in keep:
                continue
            parts += ["-p", shlex.quote(f"{key}={_yaml_scalar(value)}")]
        return " ".join(parts)

    def to_dict(self, params_file: str = DEFAULT_PARAMS_FILE) -> dict[str, Any]:
        return {"runbook": self.runbook, "params": self.params, "command": self.command(params_file),
                "rules": [m.rule.id for m in self.matches]}


@dataclass
class Diagnosis:
    matches: list[Match]
    suggestions: list[Suggestion]

    @property
    def matched(self) -> bool:
        return bool(self.matches)

    def to_dict(self, params_file: str = DEFAULT_PARAMS_FILE) -> dict[str, Any]:
        return {"matched": self.matched, "suggestions": [s.to_dict(params_file) for s in self.suggestions],
                "matches": [m.to_dict() for m in self.matches]}


# ---------------------------------------------------------------------------------------------
# loading


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise RulesError(f"{where}: bad regex: {e}") from None


def parse_rules(raw: Any, source: str = "<rules>") -> RuleSet:
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
        raise RulesError(f"{source}: expected a mapping with a `rules` list")
    runbooks = dict(raw.get("runbooks") or {})
    rules: list[Rule] = []
    for i, r in enumerate(raw["rules"]):
        where = f"{source}: rules[{i}] ({r.get('id', '?')})"
        missing = [k for k in ("id", "title", "runbook", "pattern", "explanation", "fix", "samples") if not r.get(k)]
        if missing:
            raise RulesError(f"{where}: missing {', '.join(missing)}")
        if r["runbook"] not in runbooks:
            raise RulesError(f"{where}: unknown runbook {r['runbook']!r}")
        rules.append(Rule(
            id=r["id"], title=r["title"], runbook=r["runbook"], pattern=_compile(r["pattern"], where),
            explanation=" ".join(str(r["explanation"]).split()), fix=" ".join(str(r["fix"]).split()),
            params=dict(r.get("params") or {}), param_types=dict(r.get("param_types") or {}),
            supersedes=tuple(r.get("supersedes") or ()), priority=int(r.get("priority", 50)), source=str(r.get("source", "")),
            derived=bool(r.get("derived", False)), samples=tuple(r["samples"]), near_misses=tuple(r.get("near_misses") or ()),
        ))
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RulesError(f"{source}: duplicate rule ids {dupes}")
    context = tuple(_compile(p, f"{source}: context[{i}]") for i, p in enumerate(raw.get("context") or []))
    return RuleSet(rules=tuple(rules), runbooks=runbooks, context=context)


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float) -> RuleSet:
    return parse_rules(yaml.safe_load(Path(path).read_text()), source=path)


def load_rules(path: str | Path | None = None) -> RuleSet:
    p = Path(path) if path else RULES_FILE
    return _load_cached(str(p), p.stat().st_mtime)


# ---------------------------------------------------------------------------------------------
# matching


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fill(template: str, values: dict[str, str]) -> str:
    return string.Formatter().vformat(template, (), _Blank(values))


def _template_keys(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _render_param(template: Any, kind: str | None, values: dict[str, str]) -> Any:
    if not isinstance(template, str):
        return template
    if any(not values.get(k) for k in _template_keys(template)):
        return None
    text = template.format_map(values)
    if kind == "list":
        return [x for x in re.split(r"[\s,]+", text) if x]
    if kind == "int":
        return int(text)
    return text


def _context(line: str, patterns: Iterable[re.Pattern[str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pat in patterns:
        m = pat.search(line)
        if m:
            found.update({k: v for k, v in m.groupdict().items() if v and k not in found})
    return found


def match_line(line: str, rules: RuleSet, line_no: int | None = None) -> list[Match]:
    """All rules matching one line, generic ones dropped when a more specific rule superseded them."""
    ctx = _context(line, rules.context)
    found = []
    for rule in rules.rules:
        m = rule.pattern.search(line)
        if not m:
            continue
        evidence = {**ctx, **{k: v for k, v in m.groupdict().items() if v}}
        params = {}
        for key, template in rule.params.items():
            value = _render_param(template, rule.param_types.get(key), evidence)
            if value is not None:
                params[key] = value
        found.append(Match(rule=rule, line_no=line_no, line=line.strip(), evidence=evidence, params=params))
    dropped = {s for m in found for s in m.rule.supersedes}
    return [m for m in found if m.rule.id not in dropped]


def diagnose(text: str, rules: RuleSet | None = None) -> Diagnosis:
    rules = rules or load_rules()
    matches: list[Match] = []
    lines = text.splitlines() or [text]
    for no, line in enumerate(lines, start=1):
        if line.strip():
            matches.extend(match_line(line, rules, no))
    if len(lines) > 1:  # messages wrapped over several lines
        seen = {m.rule.id for m in matches}
        joined = " ".join(line.strip() for line in lines)
        matches.extend(m for m in match_line(joined, rules) if m.rule.id not in seen and m.rule.id not in
                       {s for x in matches for s in x.rule.supersedes})
    return Diagnosis(matches=matches, suggestions=_suggest(matches))


def _suggest(matches: list[Match]) -> list[Suggestion]:
    groups: dict[str, Suggestion] = {}
    for m in sorted(matches, key=lambda m: (-m.rule.priority, m.line_no or 0)):
        s = groups.setdefault(m.rule.runbook, Suggestion(runbook=m.rule.runbook, params={}, matches=[]))
        s.matches.append(m)
        for k, v in m.params.items():
            s.params.setdefault(k, v)  # the highest-priority, earliest match wins
    return list(groups.values())


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()
