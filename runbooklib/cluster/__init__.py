"""Talking to the cluster through the official `kubernetes` client: a client from a kubeconfig
(never the global configuration), create-or-update with a recap and dry-run, rollout waits."""

from runbooklib.cluster.apply import apply_manifests, order_for_apply, summarize_apply
from runbooklib.cluster.client import KubeconfigError, api_client_for_params, api_client_from_kubeconfig
from runbooklib.cluster.known_errors import KNOWN_ERRORS, KnownError, match_known_errors
from runbooklib.cluster.rollout import DaemonSetState, PodProblem, RolloutReport, wait_for_rollout

__all__ = [
    "KNOWN_ERRORS", "DaemonSetState", "KnownError", "KubeconfigError", "PodProblem", "RolloutReport",
    "api_client_for_params", "api_client_from_kubeconfig", "apply_manifests", "match_known_errors",
    "order_for_apply", "summarize_apply", "wait_for_rollout",
]
