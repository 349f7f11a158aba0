"""Every handed public failure case (../shared/cases/handed.jsonl): its `error_match` text, and its
log lines, lead `runbook diagnose` to the runbook the case's component implies."""

from __future__ import annotations

import re
from typing import Any

import pytest
from handed import load_cases, skip_without

from runbooklib.diagnose import diagnose

# component (as the cases name it) -> the runbooks that answer it
COMPONENT_RUNBOOKS = {
    "node-prep": {"failed-to-find-plugin", "config-not-found", "install"},
    "troubleshooting check": {"failed-to-find-plugin", "config-not-found", "upgrade-check", "longhorn-storage-network"},
    "manifest-patch": {"install", "config-not-found"},
    "upgrade check": {"upgrade-check"},
    "NAD validation": {"install"},
    "IP occupancy": {"ip-occupancy"},
}


CASES = list(load_cases().values())
pytestmark = skip_without(CASES)


def _error_texts(case: dict[str, Any]) -> list[str]:
    """`expected.error_match` as texts: a string, or a dict of variants; an annotation such as
    "(derived from current macvlan plugin code, ...)" is not part of the error text."""
    em = case["expected"].get("error_match")
    texts = list(em.values()) if isinstance(em, dict) else [em] if em else []
    return [re.sub(r"\s+\((?:derived|inferred)[^)]*\)$", "", t) for t in texts]


def _log_lines(case: dict[str, Any]) -> list[str]:
    inp = case["input"]
    lines = list(inp.get("log", []))
    lines += [p["event"] for p in inp.get("pods", []) if p.get("event")]
    return lines


WITH_ERROR = [(c["id"], t, c["component"]) for c in CASES for t in _error_texts(c)]
WITH_LOG = [c for c in CASES if _log_lines(c)]


def test_every_component_is_mapped() -> None:
    assert {c["component"] for c in CASES} <= set(COMPONENT_RUNBOOKS)


def test_cases_with_error_text_exist() -> None:
    assert len(WITH_ERROR) >= 10


@pytest.mark.parametrize(("case_id", "text", "component"), WITH_ERROR, ids=[f"{c}:{i}" for i, (c, _, _) in enumerate(WITH_ERROR)])
def test_error_match_leads_to_the_components_runbook(case_id: str, text: str, component: str) -> None:
    d = diagnose(text)
    assert d.matched, f"{case_id}: nothing matched {text!r}"
    top = d.suggestions[0].runbook
    assert top in COMPONENT_RUNBOOKS[component], f"{case_id} ({component}): {text!r} -> {top}"


@pytest.mark.parametrize("case", WITH_LOG, ids=[c["id"] for c in WITH_LOG])
def test_case_log_leads_to_the_components_runbook(case: dict[str, Any]) -> None:
    d = diagnose("\n".join(_log_lines(case)))
    assert d.matched, f"{case['id']}: nothing in its log matched"
    assert d.suggestions[0].runbook in COMPONENT_RUNBOOKS[case["component"]], (case["id"], d.suggestions[0].runbook)


def test_plugin_names_come_from_the_cases() -> None:
    by_id = {c["id"]: c for c in CASES}
    for case_id, plugin in (("C01", "flannel"), ("C02", "portmap"), ("C04", "macvlan"), ("C09", "multus")):
        if case_id in by_id:
            d = diagnose("\n".join(_log_lines(by_id[case_id])))
            assert d.suggestions[0].params.get("plugin") == plugin, case_id
