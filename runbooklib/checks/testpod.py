"""A test pod that asks for a NAD (`k8s.v1.cni.cncf.io/networks`), waits until it runs, reads
`ip -br addr` inside it (exec) and its `network-status`, checks that `net1` has an address in the
NAD's pool, and deletes the pod again (always, also on failure)."""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runbooklib.checks.model import Nad
from runbooklib.nad.annotations import NETWORK_STATUS_ANNOTATION, NETWORKS_ANNOTATION, parse_network_status
from runbooklib.nad.pools import pool_from_ipam
from runbooklib.results import Finding, Severity

if TYPE_CHECKING:
    from kubernetes import client as k8s

DEFAULT_IMAGE = "busybox:1.36"
POD_PREFIX = "runbook-attach-"
_ADDR_BR = re.compile(r"^(?P<ifname>[^\s@]+)(?:@\S+)?\s+\S+\s*(?P<addrs>.*)$")
_ADDR_O = re.compile(r"^\d+:\s+(?P<ifname>[^\s@]+)\s+inet6?\s+(?P<addr>\S+)")


@dataclass
class AttachOutcome:
    pod: str
    namespace: str
    node: str = ""
    phase: str = ""
    interfaces: dict[str, list[str]] = field(default_factory=dict)  # ifname -> addresses with prefix
    network_status: list[dict[str, Any]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    error: str = ""
    ip_output: str = ""


def parse_ip_addr(text: str) -> dict[str, list[str]]:
    """`ip -br addr` (or `ip -o addr`, busybox) -> ifname -> addresses."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.rstrip()
        if not line:
            continue
        m = _ADDR_O.match(line)
        if m:
            out.setdefault(m["ifname"], []).append(m["addr"])
            continue
        m = _ADDR_BR.match(line)
        if m:
            out.setdefault(m["ifname"], []).extend(a for a in m["addrs"].split() if "/" in a)
    return out


def pod_manifest(nad: Nad, name: str, node: str | None, image: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": image, "command": ["sleep", "3600"]}],
                            "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                            "tolerations": [{"operator": "Exists"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": nad.namespace, "labels": {"app.kubernetes.io/managed-by": "runbooklib"},
                         "annotations": {NETWORKS_ANNOTATION: f"{nad.namespace}/{nad.name}"}},
            "spec": spec}


def _events(core: k8s.CoreV1Api, ns: str, pod: str) -> list[str]:
    from runbooklib.cluster.kinds import body_json

    try:
        items = body_json(core.list_namespaced_event(ns, field_selector=f"involvedObject.name={pod}",
                                                     _preload_content=False)).get("items") or []
    except Exception:  # noqa: BLE001 - events are extra evidence only
        return []
    return [f"{e.get('reason', '')}: {e.get('message', '')}" for e in items][-10:]


def _exec_ip(core: k8s.CoreV1Api, ns: str, pod: str) -> str:
    from kubernetes.stream import stream

    text = ""
    for cmd in (["ip", "-br", "addr"], ["ip", "-o", "addr"]):
        try:
            text = stream(core.connect_get_namespaced_pod_exec, pod, ns, container="main", command=cmd,
                          stderr=True, stdin=False, stdout=True, tty=False)
        except Exception as e:  # noqa: BLE001 - try the other form, then report
            text = f"(exec failed: {type(e).__name__}: {e})"
            continue
        if parse_ip_addr(str(text)):
            return str(text)
    return str(text)


def run_test_pod(api_client: k8s.ApiClient, nad: Nad, *, node: str | None = None, image: str = DEFAULT_IMAGE,
                 timeout_s: float = 120.0, poll_s: float = 1.0) -> AttachOutcome:
    """Create, wait, look, delete. Never raises for pod problems (they end up in `error`)."""
    from kubernetes import client

    from runbooklib.cluster.kinds import body_json

    core = client.CoreV1Api(api_client)
    name = POD_PREFIX + uuid.uuid4().hex[:8]
    out = AttachOutcome(name, nad.namespace, node or "")
    try:
        core.create_namespaced_pod(nad.namespace, pod_manifest(nad, name, node, image), _preload_content=False)
    except Exception as e:  # noqa: BLE001
        out.error = f"could not create the test pod: {type(e).__name__}: {str(e).splitlines()[0][:300]}"
        return out
    try:
        deadline = time.monotonic() + timeout_s
        pod: dict[str, Any] = {}
        while time.monotonic() < deadline:
            pod = body_json(core.read_namespaced_pod(name, nad.namespace, _preload_content=False))
            out.phase = (pod.get("status") or {}).get("phase", "")
            out.node = (pod.get("spec") or {}).get("nodeName", "") or out.node
            if out.phase in ("Running", "Failed", "Succeeded"):
                break
            time.sleep(poll_s)
        ann = (pod.get("metadata") or {}).get("annotations") or {}
        out.network_status = parse_network_status(ann.get(NETWORK_STATUS_ANNOTATION))
        out.events = _events(core, nad.namespace, name)
        if out.phase != "Running":
            out.error = f"pod not running after {timeout_s:.0f}s (phase {out.phase or 'unknown'})"
            return out
        out.ip_output = _exec_ip(core, nad.namespace, name)
        out.interfaces = parse_ip_addr(out.ip_output)
        return out
    finally:
        try:
            core.delete_namespaced_pod(name, nad.namespace, grace_period_seconds=0, _preload_content=False)
        except Exception:  # noqa: BLE001, S110 - best effort; the name prefix makes leftovers easy to find
            pass


def attach_findings(check: str, nad: Nad, out: AttachOutcome, ifname: str = "net1") -> list[Finding]:
    """Pure: judge an `AttachOutcome` (net1 present, its address in the NAD's pool)."""
    target = f"pod {out.namespace}/{out.pod}" + (f" on {out.node}" if out.node else "")
    ev: dict[str, Any] = {"nad": nad.ref, "node": out.node, "phase": out.phase, "interfaces": out.interfaces,
                          "network_status": out.network_status, "events": out.events, "ip_output": out.ip_output[-2000:]}
    cleanup = [f"kubectl -n {out.namespace} delete pod {out.pod} --ignore-not-found   # if it was left behind"]
    if out.error:
        hint = next((e for e in reversed(out.events) if "FailedCreatePodSandBox" in e or "error" in e.lower()), "")
        return [Finding(check, f"test pod with {nad.ref} did not attach", Severity.FAIL, target,
                        out.error + (f"; last event: {hint[:500]}" if hint else ""), ev,
                        [f"runbook diagnose '{hint[:200]}'" if hint else "kubectl describe pod (see events)", *cleanup])]
    addrs = out.interfaces.get(ifname, [])
    pool = pool_from_ipam(nad.ipam) if nad.ipam else None
    in_pool = []
    for a in addrs:
        try:
            ip = ipaddress.ip_interface(a).ip
        except ValueError:
            continue
        if pool is None or pool.contains(ip):
            in_pool.append(str(ip))
    ev.update(addresses=addrs, in_pool=in_pool, pool=pool.describe() if pool else None)
    if not addrs:
        return [Finding(check, f"test pod has no {ifname} address", Severity.FAIL, target,
                        f"`ip -br addr` shows {sorted(out.interfaces) or 'no interfaces'}", ev,
                        ["check the Multus daemon log on that node: kubectl -n kube-system logs -l app=multus --tail=50"])]
    if not in_pool:
        return [Finding(check, f"{ifname} address {addrs[0]} is outside the pool of {nad.ref}", Severity.FAIL, target,
                        f"pool {ev['pool']}", ev, ["check the NAD's ipam (runbook nad validate)"])]
    return [Finding(check, f"test pod attached {ifname} {in_pool[0]} from {nad.ref}", Severity.OK, target,
                    f"pool {ev['pool']}; test pod deleted", ev, [])]
