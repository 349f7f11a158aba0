"""ipywidgets panels for running checks and repairs from JupyterLab.

Notebooks build them only when their `interactive` parameter is True (the runner always injects
False, so papermill runs never create widgets - papermill does not keep widget state, #400, and
`interact` can hang, #723). The buttons call plain functions passed in, so everything here is
testable without a browser: construct the panel and call `button.click()`.

    panel = CheckPanel(node_names(params), check_fn=lambda nodes: check(params, nodes),
                       plan_fn=lambda nodes, findings: plan(params, nodes),
                       repair_fn=lambda nodes, findings: repair(params, nodes))
    panel.show()
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from runbooklib.params import Params
from runbooklib.report import rows_table, status_badge
from runbooklib.results import Finding, NodeRecap, OpResult, Severity, worst

CheckFn = Callable[[list[str]], Sequence[Finding]]
PlanFn = Callable[[list[str], list[Finding]], Any]
RepairFn = Callable[[list[str], list[Finding]], Any]

FINDING_COLUMNS = ["check", "severity", "target", "title", "detail", "fix"]


def interactive(flag: Any = False) -> bool:
    """Whether to build widgets: the notebook's `interactive` parameter, read strictly.

    Only a real True (or "true"/"yes"/"1") counts, so a papermill run that injects False, a
    missing value or a typo never builds widgets.
    """
    if isinstance(flag, str):
        return flag.strip().lower() in ("true", "yes", "1", "on")
    return flag is True


def node_names(params: Params) -> list[str]:
    return [n.name for n in params.nodes]


def _rows(result: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Rows and an optional overall status for whatever a plan/repair function returned."""
    items = list(result) if isinstance(result, list | tuple) else [result]
    rows: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, NodeRecap):
            rows.append({k: v for k, v in item.to_dict().items() if k != "ops"})
        elif isinstance(item, OpResult):
            rows.append({"target": item.target, "name": item.name, "status": item.status.value, "reason": item.reason})
        elif isinstance(item, Finding):
            rows.append({c: item.to_dict().get(c, "") for c in FINDING_COLUMNS})
        elif isinstance(item, dict):
            rows.append(item)
        elif item is not None:
            rows.append({"result": str(item)})
    failed = any(str(r.get("status", "")) in ("failed", "unreachable") for r in rows)
    return rows, ("fail" if failed else None)


class CheckPanel:
    """Node checkboxes, a "Run check" button, a "Repair" button that asks for confirmation, and an
    output area with the findings (or plan / repair results) as a table."""

    def __init__(self, nodes: Sequence[str], check_fn: CheckFn, repair_fn: RepairFn | None = None, *,
                 plan_fn: PlanFn | None = None, title: str = "", recheck_after_repair: bool = True) -> None:
        self.check_fn, self.repair_fn, self.plan_fn = check_fn, repair_fn, plan_fn
        self.recheck_after_repair = recheck_after_repair
        self.findings: list[Finding] = []
        self.last_repair: Any = None
        self.error: str | None = None
        self.node_boxes = {n: w.Checkbox(value=True, description=n, indent=False) for n in nodes}
        self.run_button = w.Button(description="Run check", button_style="primary", icon="search")
        self.repair_button = w.Button(description="Repair…", button_style="warning", icon="wrench",
                                      disabled=True, tooltip="run the check first")
        self.confirm_button = w.Button(description="Confirm repair", button_style="danger", icon="check")
        self.cancel_button = w.Button(description="Cancel")
        self.confirm_box = w.VBox([w.HTML(), w.HBox([self.confirm_button, self.cancel_button])],
                                  layout=w.Layout(display="none"))
        self.status = w.HTML()
        self.output = w.HTML()
        self.run_button.on_click(lambda _b: self.run_check())
        self.repair_button.on_click(lambda _b: self.ask_repair())
        self.confirm_button.on_click(lambda _b: self.confirm_repair())
        self.cancel_button.on_click(lambda _b: self.cancel_repair())
        if repair_fn is None:
            self.repair_button.layout.display = "none"
        header = [w.HTML(f"<h3>{html.escape(title)}</h3>")] if title else []
        self.widget = w.VBox([*header, w.HBox(list(self.node_boxes.values())),
                              w.HBox([self.run_button, self.repair_button]), self.confirm_box, self.status, self.output])

    # -- state -----------------------------------------------------------------------------------
    def selected_nodes(self) -> list[str]:
        return [n for n, box in self.node_boxes.items() if box.value]

    @property
    def confirming(self) -> bool:
        return self.confirm_box.layout.display != "none"

    def _say(self, message: str, status: str | None = None) -> None:
        badge = status_badge(status) + " " if status else ""
        self.status.value = f"<p>{badge}{html.escape(message)}</p>"

    def _guard(self, what: str, fn: Callable[[], Any]) -> tuple[bool, Any]:
        """Widget callbacks swallow exceptions into the kernel log; show them in the panel instead."""
        try:
            return True, fn()
        except Exception as e:  # noqa: BLE001
            last = traceback.extract_tb(e.__traceback__)[-1:]
            where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
            self.error = f"{type(e).__name__}: {e}"
            self._say(f"{what} failed: {self.error}{where}", "fail")
            return False, None

    # -- actions ---------------------------------------------------------------------------------
    def run_check(self) -> list[Finding]:
        nodes = self.selected_nodes()
        self.cancel_repair()
        if not nodes:
            self._say("select at least one node")
            return []
        self.run_button.disabled = True
        try:
            ok, result = self._guard("check", lambda: list(self.check_fn(nodes)))
        finally:
            self.run_button.disabled = False
        if not ok:
            return []
        self.findings = result
        status = worst(result).value
        counts = {s.value: sum(1 for f in result if f.severity is s) for s in Severity}
        self._say(f"checked {', '.join(nodes)}: {counts['fail']} fail, {counts['warn']} warn, {counts['ok']} ok", status)
        self.output.value = rows_table([{c: f.to_dict().get(c, "") for c in FINDING_COLUMNS} for f in result],
                                       FINDING_COLUMNS, severity_key="severity")
        self.repair_button.disabled = self.repair_fn is None
        self.repair_button.tooltip = "" if self.repair_fn else "no repair for this check"
        return result

    def ask_repair(self) -> None:
        """First step of a repair: show what would change (plan_fn) and ask for confirmation."""
        nodes = self.selected_nodes()
        if self.repair_fn is None or not nodes:
            self._say("nothing to repair" if self.repair_fn is None else "select at least one node")
            return
        question = f"Repair will change {', '.join(nodes)}."
        if self.plan_fn is not None:
            ok, plan = self._guard("plan", lambda: self.plan_fn(nodes, self.findings))  # type: ignore[misc]
            if not ok:
                return
            rows, _ = _rows(plan)
            self.output.value = "<h4>Plan</h4>" + rows_table(rows)
            question += " The plan is shown below."
        self.confirm_box.children[0].value = f"<p><strong>{html.escape(question)}</strong> Apply it?</p>"
        self.confirm_box.layout.display = "flex"

    def cancel_repair(self) -> None:
        self.confirm_box.layout.display = "none"

    def confirm_repair(self) -> Any:
        if not self.confirming or self.repair_fn is None:
            self._say("press Repair… first")
            return None
        nodes = self.selected_nodes()
        self.cancel_repair()
        self.confirm_button.disabled = True
        try:
            ok, result = self._guard("repair", lambda: self.repair_fn(nodes, self.findings))  # type: ignore[misc]
        finally:
            self.confirm_button.disabled = False
        if not ok:
            return None
        self.last_repair = result
        rows, status = _rows(result)
        repair_html = "<h4>Repair</h4>" + rows_table(rows)
        if self.recheck_after_repair:
            self.run_check()
            self.output.value = repair_html + "<h4>Check after repair</h4>" + self.output.value
        else:
            self._say(f"repaired {', '.join(nodes)}", status or "ok")
            self.output.value = repair_html
        return result

    def show(self) -> CheckPanel:
        from IPython.display import display

        display(self.widget)
        return self


def check_panel(params: Params, check_fn: CheckFn, repair_fn: RepairFn | None = None, *, plan_fn: PlanFn | None = None,
                title: str = "") -> CheckPanel:
    """A `CheckPanel` with one checkbox per node of the params file."""
    return CheckPanel(node_names(params), check_fn, repair_fn, plan_fn=plan_fn, title=title)
