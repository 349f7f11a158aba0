"""Known error strings of Multus thick / Whereabouts pods (upstream-facts §1.6-1.8, §7) -> meaning + fix."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownError:
    id: str
    pattern: str  # regex, searched case-sensitively
    meaning: str
    fix: str

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


KNOWN_ERRORS: tuple[KnownError, ...] = (
    KnownError("multus-no-primary-conf", r"could not find a plugin configuration in /host/etc/cni/net\.d",
               "the daemon's cni hostPath is not the k3s conf dir (no 10-flannel.conflist there)",
               "patch the cni hostPath to the k3s conf dir (runbook manifests patch)"),
    KnownError("failed-to-find-plugin", r'failed to find plugin "[^"]+" in path \[[^\]]*\]',
               "the binary is missing from the daemon's bin dir, or is a symlink that does not resolve in the pod",
               "run the failed-to-find-plugin check; keep real files in /opt/cni/bin (layout A)"),
    KnownError("text-file-busy", r"Text file busy",
               "the init container's cp raced the runtime executing the old multus-shim",
               "delete the pod again, or use install_multus (atomic) in the init container"),
    KnownError("passthru-missing", r"cannot stat '/usr/src/multus-cni/bin/passthru'",
               "image older than v4.2.1 with the v4.2.2 init command", "use the v4.2.2 image (pin v4.2.2-thick)"),
    KnownError("shim-timeout", r"CmdAdd \(shim\): timed out waiting for the condition",
               "the multus daemon socket /run/multus/multus.sock is not up", "check the kube-multus-ds pod on that node"),
    KnownError("netplugin-failed", r"netplugin failed",
               "executing the delegate under chroot /hostroot failed (host path differs from the pod path?)",
               "check cnibin hostPath = mountPath = binDir"),
    KnownError("whereabouts-config-not-found", r"config file not found",
               "no whereabouts.conf at any path whereabouts searches",
               "link /etc/cni/net.d/whereabouts.d to the k3s conf dir, or set configuration_path in the NAD"),
    KnownError("whereabouts-no-kubeconfig", r"you have not configured the storage engine",
               "whereabouts.conf names no kubeconfig", "re-run the whereabouts installer / check whereabouts.conf"),
    KnownError("whereabouts-kubeconfig-missing", r"stat /etc/cni/net\.d/whereabouts\.d/whereabouts\.kubeconfig: no such file",
               "whereabouts.conf names a kubeconfig path that does not exist on the host (C06)",
               "add the whereabouts.d symlink on every node"),
    KnownError("pool-exhausted", r"Could not allocate IP in range", "the whereabouts pool is full",
               "free stale allocations or widen the range"),
    KnownError("cannot-create-regular-file", r"cp: cannot create regular file", "the init container could not write the bin dir",
               "check the cnibin hostPath exists and is writable"),
    KnownError("image-pull", r"ErrImagePull|ImagePullBackOff|manifest unknown|not found: manifest",
               "the image (or tag) cannot be pulled", "check the image tag (v4.2.2-thick is derived, not registry-checked)"),
)


@dataclass(frozen=True)
class KnownErrorMatch:
    id: str
    line: str
    meaning: str
    fix: str


def match_known_errors(lines: list[str] | str) -> list[KnownErrorMatch]:
    """Every known error found, first matching line for each, in table order."""
    text_lines = lines.splitlines() if isinstance(lines, str) else lines
    out: list[KnownErrorMatch] = []
    for known in KNOWN_ERRORS:
        rx = known.regex
        for line in text_lines:
            if rx.search(line):
                out.append(KnownErrorMatch(known.id, line.strip()[:500], known.meaning, known.fix))
                break
    return out
