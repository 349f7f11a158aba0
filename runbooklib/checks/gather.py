"""Gathering evidence: the cluster first (it says which bin dir the Multus daemon uses), then one
probe round trip per node in parallel. Nothing here decides ok/fail; unreachable is recorded."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from runbooklib.checks.evidence import ClusterEvidence, NodeEvidence
from runbooklib.checks.probe import ProbePlan, parse_probe, probe_command, probe_plan
from runbooklib.errors import UnreachableError
from runbooklib.params import NodeParams, Params
from runbooklib.remote.host import SshHost
from runbooklib.remote.journal import Journal
from runbooklib.remote.parallel import map_nodes

if TYPE_CHECKING:
    from kubernetes import client as k8s

MULTUS_NS, MULTUS_DS, MULTUS_CM, WB_DS = "kube-system", "kube-multus-ds", "multus-daemon-config", "whereabouts"
MULTUS_SELECTOR = "app=multus"
DEFAULT_LOG_TAIL = 200


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0][:200] if text else ''}"


def _read(fn: Any, *args: Any) -> dict[str, Any] | None:
    from kubernetes.client.exceptions import ApiException

    from runbooklib.cluster.kinds import body_json

    try:
        return body_json(fn(*args, _preload_content=False))
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def read_multus_logs(api_client: k8s.ApiClient, tail: int = DEFAULT_LOG_TAIL) -> dict[str, list[str]]:
    """`kubectl logs -n kube-system -l app=multus --tail=N` (every container), keyed "pod (node)"."""
    from kubernetes import client

    from runbooklib.cluster.kinds import body_json

    core = client.CoreV1Api(api_client)
    pods = body_json(core.list_namespaced_pod(MULTUS_NS, label_selector=MULTUS_SELECTOR, _preload_content=False))
    out: dict[str, list[str]] = {}
    for pod in pods.get("items") or []:
        meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            key = f"{meta.get('name')}/{c.get('name')} ({spec.get('nodeName', '?')})"
            try:
                resp = core.read_namespaced_pod_log(meta["name"], MULTUS_NS, container=c["name"], tail_lines=tail,
                                                    _preload_content=False)
                data = resp.data.decode("utf-8", "replace") if isinstance(resp.data, bytes) else str(resp.data)
                out[key] = data.splitlines()[-tail:]
            except Exception as e:  # noqa: BLE001 - a missing log is evidence too
                out[key] = [f"(no log: {_first_line(e)})"]
    return out


def gather_cluster(params: Params, api_client: k8s.ApiClient | None = None, *, logs: bool = True,
                   log_tail: int = DEFAULT_LOG_TAIL) -> ClusterEvidence:
    """Live DaemonSets + ConfigMap + NADs + Multus log tails. Never raises: `error` says why not."""
    try:
        from kubernetes import client

        from runbooklib.cluster.rollout import DEFAULT_DAEMONSETS, read_daemonset
        from runbooklib.nad.cluster_read import list_nad_documents

        if api_client is None:
            from runbooklib.cluster import api_client_for_params

            api_client = api_client_for_params(params)
        apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
        ev = ClusterEvidence()
        ev.multus_ds = _read(apps.read_namespaced_daemon_set, MULTUS_DS, MULTUS_NS)
        ev.multus_cm = _read(core.read_namespaced_config_map, MULTUS_CM, MULTUS_NS)
        ev.whereabouts_ds = _read(apps.read_namespaced_daemon_set, WB_DS, MULTUS_NS)
        for d in (ev.multus_ds, ev.whereabouts_ds):
            if d is not None:
                d.setdefault("kind", "DaemonSet")
        if ev.multus_cm is not None:
            ev.multus_cm.setdefault("kind", "ConfigMap")
        from dataclasses import asdict

        ev.daemonsets = [{**asdict(s), "is_ready": s.is_ready, "line": s.line()}
                         for s in (read_daemonset(api_client, ns, n) for ns, n in DEFAULT_DAEMONSETS)]
        ev.nads = [{"namespace": d.namespace, "name": d.name, "config": d.config_raw} for d in list_nad_documents(api_client)]
        if logs and ev.multus_ds is not None:
            ev.multus_logs = read_multus_logs(api_client, log_tail)
        return ev
    except Exception as e:  # noqa: BLE001 - an unreadable cluster is evidence, reported as a fail later
        return ClusterEvidence(error=_first_line(e))


def _use_sudo(node: NodeParams, env: str) -> bool:
    """Root-only files (whereabouts.conf, containerd config) need sudo; a sudo-password node only
    gets it when the password is in the environment (else the probe says what it could not read)."""
    return node.sudo != "sudo-password" or bool(os.environ.get(env))


def probe_node(params: Params, node: NodeParams, plan: ProbePlan, journal: Journal) -> NodeEvidence:
    sudo = _use_sudo(node, params.ssh.sudo_password_env)
    n = node if sudo or node.sudo != "sudo-password" else node.model_copy(update={"sudo": "sudo"})
    try:
        host = SshHost.from_params(params, n, journal)
        host.open()
    except UnreachableError as e:
        return NodeEvidence(node.name, error=e.reason)
    try:
        out = host.run(probe_command(params, plan), sudo=sudo, timeout=max(60.0, params.ssh.command_timeout_s))
    except UnreachableError as e:
        return NodeEvidence(node.name, error=e.reason)
    finally:
        try:
            host.close()
        except Exception:  # noqa: BLE001, S110 - closing a dead connection
            pass
    if "@@RBL-CHECKS" not in out.stdout:
        return NodeEvidence(node.name, error=f"probe failed (exit {out.exit_code}): {out.stderr.strip()[-300:]}")
    ev = parse_probe(node.name, out.stdout, params, plan, used_sudo=sudo)
    if not sudo:
        ev.notes.append(f"probed without sudo (no password in ${params.ssh.sudo_password_env}): root-only files unreadable")
    return ev


def select_nodes(params: Params, nodes: Sequence[str] | None) -> list[NodeParams]:
    if not nodes:
        return list(params.nodes)
    known = {n.name for n in params.nodes}
    unknown = [n for n in nodes if n not in known]
    if unknown:
        raise KeyError(f"unknown node(s): {', '.join(unknown)} (have: {', '.join(sorted(known))})")
    return [n for n in params.nodes if n.name in nodes]


def gather_nodes(params: Params, plan: ProbePlan, *, nodes: Sequence[str] | None = None,
                 journal: Journal | None = None) -> dict[str, NodeEvidence]:
    journal = journal or Journal()
    selected = select_nodes(params, nodes)
    timeout = max(120.0, params.ssh.command_timeout_s * 2)
    outcomes = map_nodes(lambda n: probe_node(params, n, plan, journal), selected, name=lambda n: n.name,
                         workers=params.ssh.parallel, timeout_s=timeout)
    out: dict[str, NodeEvidence] = {}
    for o in outcomes:
        if o.ok and o.value is not None:
            out[o.node] = o.value
        else:
            out[o.node] = NodeEvidence(o.node, error=f"{type(o.error).__name__}: {o.error}")
    return out


def make_plan(params: Params, *, bin_dir: str | None, binaries: Iterable[str], nad_ipams: Iterable[dict[str, Any]]) -> ProbePlan:
    """A probe plan that also stats every configuration_path and kubeconfig the NADs name."""
    cps, kcs = [], []
    for ipam in nad_ipams:
        if ipam.get("configuration_path"):
            cps.append(str(ipam["configuration_path"]))
        kc = (ipam.get("kubernetes") or {}).get("kubeconfig") if isinstance(ipam.get("kubernetes"), dict) else None
        if kc:
            kcs.append(str(kc))
    return probe_plan(params, bin_dir=bin_dir, binaries=binaries, config_paths=cps, kubeconfigs=kcs)
