"""Collecting validation findings rule by rule: problems, plus one `ok` finding per rule that passed."""

from __future__ import annotations

from typing import Any

from runbooklib.results import Finding, Severity

CHECK = "nad-validate"


class RuleBook:
    """Records which rules ran for a target and what they found.

    `fail`/`warn` add a problem naming the field; `finish()` adds an `ok` finding for every rule
    that ran without a problem, so a report shows what was checked, not only what broke.
    """

    def __init__(self, target: str, check: str = CHECK) -> None:
        self.target = target
        self.check = check
        self.findings: list[Finding] = []
        self._ran: dict[str, str] = {}  # rule -> ok text
        self._broken: set[str] = set()

    def ran(self, rule: str, ok_text: str) -> None:
        self._ran.setdefault(rule, ok_text)

    def add(self, severity: Severity, rule: str, field: str, message: str, fix: list[str] | str | None = None,
            **evidence: Any) -> Finding:
        self._ran.setdefault(rule, "")
        if severity is not Severity.OK:
            self._broken.add(rule)
        fixes = [fix] if isinstance(fix, str) else list(fix or [])
        finding = Finding(check=self.check, title=f"{field}: {message}", severity=severity, target=self.target,
                          detail=message, evidence={"rule": rule, "field": field, **evidence}, fix=fixes)
        self.findings.append(finding)
        return finding

    def fail(self, rule: str, field: str, message: str, fix: list[str] | str | None = None, **evidence: Any) -> Finding:
        return self.add(Severity.FAIL, rule, field, message, fix, **evidence)

    def warn(self, rule: str, field: str, message: str, fix: list[str] | str | None = None, **evidence: Any) -> Finding:
        return self.add(Severity.WARN, rule, field, message, fix, **evidence)

    def finish(self) -> list[Finding]:
        for rule, text in self._ran.items():
            if rule not in self._broken and text:
                self.findings.append(Finding(check=self.check, title=text, severity=Severity.OK, target=self.target,
                                             evidence={"rule": rule}))
        return self.findings


def by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.evidence.get("rule") == rule]
