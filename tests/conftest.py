"""Test-wide settings: the `lab` marker.

Tests marked `lab` need root (network + mount namespaces). Without root they are skipped with a
clear reason — unless RUNBOOKLIB_REQUIRE_LAB=1 (set by .ci/run), which turns ANY skip of a lab test
(no root, missing tool, ...) into a failure, so CI can never pass with the lab untested.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_ENV = "RUNBOOKLIB_REQUIRE_LAB"


def lab_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("lab") is not None and os.geteuid() != 0:
        pytest.skip("lab test needs root (network and mount namespaces, sshd per node); run pytest as root")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.skipped and lab_required() and item.get_closest_marker("lab") is not None:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"lab test was skipped but {REQUIRE_ENV}=1 forbids skipping lab tests: {reason}"
