"""Troubleshooting and verification checks (issue 9): evidence in one round trip per node plus the
API, typed findings (ok / warn / fail, what was looked at, evidence, the fix as exact commands),
and repairs through node prep (plan first).

Modules: `evidence` (typed evidence), `probe` (the one-round-trip node probe), `gather`,
`binfiles` (a plugin in the bin dir), `plugins` (failed-to-find-plugin), `whereabouts`
(config-not-found), `upgrade` (upgrade-check), `testpod`, `install` (install steps + verify),
`run` (gather + judge per check), `repair`.
"""

from runbooklib.checks.evidence import ClusterEvidence, ConfFile, ContainerdConf, NodeEvidence
from runbooklib.checks.model import CheckResult, Ctx, Nad, nads_for
from runbooklib.checks.notebook import check_panel, kubeconfig_status, publish_check, repair_and_recheck, upgrade_hints
from runbooklib.checks.plugins import check_failed_to_find_plugin
from runbooklib.checks.repair import RepairOutcome, plan_repair, repair
from runbooklib.checks.run import CHECKS, config_not_found, failed_to_find_plugin, gather, test_pod_findings, upgrade_check
from runbooklib.checks.upgrade import check_upgrade
from runbooklib.checks.whereabouts import check_config_not_found

__all__ = [
    "CHECKS", "CheckResult", "ClusterEvidence", "ConfFile", "ContainerdConf", "Ctx", "Nad", "NodeEvidence", "RepairOutcome",
    "check_config_not_found", "check_failed_to_find_plugin", "check_panel", "check_upgrade", "config_not_found",
    "failed_to_find_plugin", "gather", "kubeconfig_status", "nads_for", "plan_repair", "publish_check", "repair",
    "repair_and_recheck", "test_pod_findings", "upgrade_check", "upgrade_hints",
]
