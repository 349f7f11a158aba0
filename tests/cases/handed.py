"""The handed public failure cases (`../shared/cases/handed.jsonl` beside the repo), for the case tests.

Outside CI a missing file skips the case tests with the reason; with RUNBOOKLIB_REQUIRE_LAB=1
(set by .ci/run) it is an error, so CI can never pass without them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

CASES_FILE = Path(__file__).resolve().parents[3] / "shared" / "cases" / "handed.jsonl"


def load_cases(components: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """Cases by id, only those of `components` (all when None); {} when the file is absent."""
    if not CASES_FILE.is_file():
        if os.environ.get("RUNBOOKLIB_REQUIRE_LAB") == "1":
            raise FileNotFoundError(f"{CASES_FILE} is missing: the handed cases must be tested in CI")
        return {}
    cases = [json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip()]
    return {c["id"]: c for c in cases if components is None or c["component"] in components}


def skip_without(cases: dict[str, Any]) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not cases, reason=f"{CASES_FILE} not found")
