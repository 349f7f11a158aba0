"""`lab up`, `lab down`, `lab status`: orchestration of the other lab modules.

up: params -> names (names.py) -> shared links (netns.py) -> per node, in parallel: namespace +
links, private dirs + k3s seed (k3sfs.py), sshd (sshd.py, nodeinit.py) -> known_hosts ->
artifact server (artifacts.py) -> lab API + Node objects (apiproc.py) -> state.json phase "up".
A healthy lab makes `up` a no-op ("already up"); anything partial (killed `up`, crashed daemon)
is torn down first and rebuilt. down: kill by pid files + processes that name the state dir +
every process in the lab's namespaces; delete namespaces and root links by prefix; release host
mount points; remove the state dir (only if it carries the lab marker).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbooklib.errors import RunbookError
from runbooklib.lab import apiproc, artifacts, hostdirs, k3sfs, netns, procs, sshd
from runbooklib.lab.names import LabNames, LabParamsError, NodeNames, lab_names
from runbooklib.lab.state import MARKER, PRIVATE_DIRS, LabPaths, LabState, NodeState, ProcState, state_dir_of
from runbooklib.params import Params

Progress = Callable[[str], None]


class LabError(RunbookError):
    pass


def printer(stream: Any = None) -> Progress:
    start, lock = time.monotonic(), threading.Lock()

    def say(msg: str) -> None:
        with lock:
            print(f"[{time.monotonic() - start:6.2f}s] {msg}", file=stream or sys.stderr, flush=True)
    return say


def _quiet(_: str) -> None:
    pass


@dataclass
class Lab:
    params: Params
    names: LabNames
    paths: LabPaths
    kubeconfig: Path
    progress: Progress = field(default=_quiet)

    @classmethod
    def from_params(cls, params: Params, progress: Progress = _quiet) -> Lab:
        try:
            names = lab_names(params)
        except LabParamsError as e:
            raise LabError(str(e)) from None
        return cls(params, names, LabPaths(state_dir_of(params)), params.resolve(params.kubeconfig.path), progress)

    # ------------------------------------------------------------------ checks
    def _check_params_paths(self) -> None:
        problems = []
        for i, n in enumerate(self.params.nodes):
            if n.ssh.key_file and self.params.resolve(n.ssh.key_file) != self.paths.client_key:
                problems.append(f"nodes[{i}].ssh.key_file must be {self.paths.client_key}")
        kh = self.params.ssh.known_hosts
        if kh and self.params.resolve(kh) != self.paths.known_hosts:
            problems.append(f"ssh.known_hosts must be {self.paths.known_hosts}")
        if problems:
            raise LabError("params do not match the lab state dir: " + "; ".join(problems))

    def _check_state_dir(self) -> None:
        sd = str(self.paths.state_dir)
        for d in PRIVATE_DIRS:
            if sd == d or sd.startswith(d + "/"):
                raise LabError(f"lab.state_dir {sd} is under {d}, which is private per node; sshd could not read "
                               "its config there. Use e.g. /var/tmp/<name>")

    def _check_gateway_free(self) -> None:
        import json

        from runbooklib.lab.sh import ip
        for link in json.loads(ip("-j", "addr", "show") or "[]"):
            for a in link.get("addr_info", []):
                if a.get("local") == self.names.mgmt_gateway and link.get("ifname") != self.names.mgmt_bridge:
                    raise LabError(f"{self.names.mgmt_gateway} is already on {link.get('ifname')}: another lab uses "
                                   f"lab.mgmt_cidr {self.params.lab.mgmt_cidr if self.params.lab else ''}; choose another")

    def leftovers(self) -> list[str]:
        found = []
        if self.paths.state_dir.exists():
            found.append(f"state dir {self.paths.state_dir}")
        found += [f"netns {n}" for n in netns.lab_netns(self.names.prefix)]
        found += [f"link {link['ifname']}" for link in netns.root_links() if str(link.get("ifname", "")).startswith(self.names.prefix)]
        found += [f"process {p}" for p in self._lab_pids()]
        return found

    def health(self) -> list[str]:
        """Problems of a lab that should be up (empty list = healthy and matching the params)."""
        try:
            st = LabState.load(self.paths.state_dir)
        except (OSError, ValueError, TypeError):
            return ["no lab state"]
        problems = []
        if st.phase != "up":
            problems.append(f"phase {st.phase}")
        if [n.name for n in st.nodes] != [n.name for n in self.names.nodes] or \
                [n.mgmt_address for n in st.nodes] != [n.mgmt_address for n in self.names.nodes]:
            problems.append("lab nodes differ from the params")
        if not netns.netns_exists(self.names.storage_netns):
            problems.append("storage namespace missing")
        for n in st.nodes:
            if not netns.netns_exists(n.netns):
                problems.append(f"{n.name}: namespace missing")
            elif not procs.alive(procs.read_pid(n.sshd_pid_file)):
                problems.append(f"{n.name}: sshd not running")
            elif not procs.port_open(n.mgmt_address, n.ssh_port):
                problems.append(f"{n.name}: sshd not answering")
        for what, p in (("artifact server", st.artifacts), ("lab API", st.api)):
            if p is not None and not (procs.alive(procs.read_pid(p.pid_file)) and procs.port_open(p.address, p.port)):
                problems.append(f"{what} not running")
        return problems

    # ------------------------------------------------------------------ up
    def up(self) -> bool:
        """Bring the lab up. Returns False if it was already up (nothing changed)."""
        if os.geteuid() != 0:
            raise LabError("`runbook lab up` needs root (network and mount namespaces)")
        self._check_params_paths()
        self._check_state_dir()
        problems = self.health()
        if not problems:
            self.progress(f"lab {self.names.cluster} already up ({len(self.names.nodes)} nodes); nothing changed")
            return False
        if "lab nodes differ from the params" in problems and not any("missing" in p or "not" in p for p in problems):
            raise LabError("a lab with other nodes is up in this state dir; run `runbook lab down` first")
        left = self.leftovers()
        if left:
            self.progress(f"found a partial lab ({', '.join(problems[:3])}; {len(left)} leftovers): cleaning up first")
            self.down()
        self._check_gateway_free()
        t0 = time.monotonic()
        try:
            self._create()
        except LabError:
            raise
        except Exception as e:  # noqa: BLE001 - report any failure as a lab error; the next `up` recovers
            raise LabError(f"lab up failed: {type(e).__name__}: {e} (run `runbook lab up` again or `runbook lab down`)") from e
        self.progress(f"lab {self.names.cluster} up: {len(self.names.nodes)} nodes in {time.monotonic() - t0:.2f}s")
        return True

    def _create(self) -> None:
        p, names = self.paths, self.names
        p.state_dir.mkdir(parents=True, exist_ok=True)
        p.marker.write_text(f"cluster={names.cluster}\nprefix={names.prefix}\n")
        (p.state_dir / "params.yaml").write_text(self.params.dump_yaml())   # lets tools tear down a stale lab
        st = self._state("starting")
        st.save()
        hostdirs.claim(str(p.state_dir), PRIVATE_DIRS)
        client_pub = sshd.client_key(p, names.cluster)
        self.progress(f"shared: bridge {names.mgmt_bridge} ({names.mgmt_gateway}), storage netns {names.storage_netns}")
        netns.create_shared(names)
        host_keys: dict[str, list[str]] = {}
        workers = min(len(names.nodes), 16) or 1
        with ThreadPoolExecutor(max_workers=workers + 1) as pool:
            tarball = pool.submit(self._build_artifacts)
            for node, key in zip(names.nodes, pool.map(lambda n: self._create_node(n, client_pub), names.nodes), strict=True):
                host_keys[node.name] = key
            filename, digest = tarball.result()
        p.known_hosts.write_text("".join(sshd.known_hosts_line(n, host_keys[n.name]) + "\n" for n in names.nodes))
        self._start_artifacts(st, filename, digest)
        st.save()
        self._start_api(st)
        st.phase = "up"
        st.save()

    def _create_node(self, node: NodeNames, client_pub: str) -> list[str]:
        say = self.progress
        netns.create_node(self.names, node)
        say(f"{node.name}: netns {node.netns}, mgmt0 {node.mgmt_address}, {node.storage_nic} {node.storage_address} mtu {node.storage_mtu}")
        key = sshd.prepare_node(self.paths, node, client_pub)
        k3sfs.seed_k3s(lambda path: self.paths.node_path(node.name, path), k3s_version=k3sfs.DEFAULT_K3S_VERSION,
                       pod_network=self.names.pod_network, pod_subnet=node.pod_subnet)
        say(f"{node.name}: seeded k3s agent layout, pod subnet {node.pod_subnet}")
        pid = sshd.start_node(self.paths, node)
        if not procs.wait_port(node.mgmt_address, node.ssh_port, timeout=15, pid=pid):
            log = self.paths.node_dir(node.name) / "sshd.log"
            tail = log.read_text()[-800:] if log.exists() else ""
            raise LabError(f"{node.name}: sshd did not come up on {node.mgmt_address}:{node.ssh_port}: {tail}")
        say(f"{node.name}: sshd listening on {node.mgmt_address}:{node.ssh_port} (pid {pid})")
        return key

    def _state(self, phase: str) -> LabState:
        p, names = self.paths, self.names
        digest = k3sfs.data_hash(k3sfs.DEFAULT_K3S_VERSION)
        return LabState(
            cluster=names.cluster, prefix=names.prefix, state_dir=str(p.state_dir), phase=phase,
            mgmt_bridge=names.mgmt_bridge, mgmt_gateway=names.mgmt_gateway, storage_netns=names.storage_netns,
            static_addresses=list(names.static_addresses), pod_network=names.pod_network, kubeconfig=str(self.kubeconfig),
            k3s_version=k3sfs.DEFAULT_K3S_VERSION, multicall_hash=digest,
            nodes=[NodeState(
                name=n.name, netns=n.netns, mgmt_address=n.mgmt_address, ssh_port=n.ssh_port, ssh_user=n.ssh_user,
                key_file=str(p.client_key), known_hosts=str(p.known_hosts), hostname=n.name,
                storage_nic=n.storage_nic, storage_address=n.storage_address, pod_subnet=n.pod_subnet,
                sshd_pid_file=str(p.node_dir(n.name) / "sshd.pid"), host_veth=n.host_veth) for n in names.nodes])

    def _build_artifacts(self) -> tuple[str, str]:
        url = self.params.artifacts.cni_plugins.url or ""
        filename = url.rsplit("/", 1)[-1] or f"cni-plugins-linux-amd64-{self.params.versions.cni_plugins}.tgz"
        return filename, artifacts.build_tarball(self.paths.artifacts_dir, filename)

    def _start_artifacts(self, st: LabState, filename: str, digest: str) -> None:
        pid_file, log_file = self.paths.state_dir / "artifacts.pid", self.paths.state_dir / "artifacts.log"
        pid = artifacts.start_server(self.paths.artifacts_dir, self.names.artifact_host, self.names.artifact_port, pid_file, log_file)
        st.artifacts = ProcState(str(pid_file), str(log_file), self.names.artifact_host, self.names.artifact_port)
        self.progress(f"artifacts: {filename} (sha256 {digest[:12]}...) on http://{self.names.artifact_host}:{self.names.artifact_port}/ (pid {pid})")

    def _start_api(self, st: LabState) -> None:
        if not apiproc.available():
            st.notes.append("lab API module runbooklib.lab.api not available: no API started")
            self.progress("lab API: runbooklib.lab.api not available, skipped")
            return
        port = apiproc.choose_port()
        pid_file, log_file = self.paths.state_dir / "api.pid", self.paths.state_dir / "api.log"
        pid = apiproc.start(self.paths.api_dir, port, self.kubeconfig, pid_file, log_file)
        st.api = ProcState(str(pid_file), str(log_file), apiproc.API_HOST, port)
        st.save()
        roles = {n.name: list(n.roles) for n in self.params.nodes}
        apiproc.register_nodes(self.kubeconfig, [apiproc.node_object(self.names, n.name, roles[n.name], st.k3s_version)
                                                 for n in self.names.nodes])
        self.progress(f"lab API on {apiproc.API_HOST}:{port} (pid {pid}), kubeconfig {self.kubeconfig}, {len(self.names.nodes)} Node objects")

    # ------------------------------------------------------------------ down
    def _lab_pids(self) -> set[int]:
        tag = str(self.paths.state_dir) + "/"
        pids = set()
        for pid in procs.pids_mentioning(tag):
            argv0 = os.path.basename(procs.cmdline(pid).split(" ", 1)[0])
            if argv0 in ("sshd", "nsenter", "unshare") or argv0.startswith("python"):
                pids.add(pid)
        if self.paths.state_dir.exists():
            for pid_file in list(self.paths.state_dir.glob("*.pid")) + list(self.paths.state_dir.glob("nodes/*/*.pid")):
                pid = procs.read_pid(pid_file)
                if pid and procs.alive(pid) and tag in procs.cmdline(pid):
                    pids.add(pid)
        for ns in netns.lab_netns(self.names.prefix):
            pids.update(netns.netns_pids(ns))
        return pids

    def down(self) -> list[str]:
        """Remove everything this lab made; safe to run any number of times. Returns what was removed."""
        if os.geteuid() != 0:
            raise LabError("`runbook lab down` needs root")
        removed: list[str] = []
        pids = self._lab_pids()
        if pids:
            self.progress(f"stopping {len(pids)} lab processes")
            procs.stop(pids)
            removed.append(f"{len(pids)} processes")
        spaces = netns.lab_netns(self.names.prefix)
        if spaces:
            self.progress(f"deleting {len(spaces)} namespaces")
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(netns.delete_netns, spaces))
            removed += [f"netns {n}" for n in spaces]
        links = [str(link["ifname"]) for link in netns.root_links() if str(link.get("ifname", "")).startswith(self.names.prefix)]
        netns.delete_root_links(self.names.prefix)
        removed += [f"link {n}" for n in links]
        removed += [f"host dir {d}" for d in hostdirs.release(str(self.paths.state_dir))]
        sd = self.paths.state_dir
        if sd.exists():
            if not (sd / MARKER).exists() and any(sd.iterdir()):
                raise LabError(f"{sd} has no {MARKER} marker: not removing a directory the lab did not make")
            shutil.rmtree(sd)
            removed.append(f"state dir {sd}")
        self.progress("lab down: " + (", ".join(removed) if removed else "nothing to remove"))
        return removed

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        try:
            st: LabState | None = LabState.load(self.paths.state_dir)
        except (OSError, ValueError, TypeError):
            st = None
        nodes = []
        for n in self.names.nodes:
            ns = st.node(n.name) if st and n.name in {x.name for x in st.nodes} else None
            pid = procs.read_pid(ns.sshd_pid_file) if ns else None
            running = procs.alive(pid)
            nodes.append({
                "name": n.name, "namespace": n.netns, "mgmt_address": n.mgmt_address, "ssh_port": n.ssh_port,
                "ssh_user": n.ssh_user, "key_file": str(self.paths.client_key), "known_hosts": str(self.paths.known_hosts),
                "storage_nic": n.storage_nic, "storage_address": n.storage_address,
                "netns_exists": netns.netns_exists(n.netns),
                "sshd": {"pid": pid, "running": running,
                         "answering": running and procs.port_open(n.mgmt_address, n.ssh_port)},
                "kubeconfig": str(self.kubeconfig),
            })

        def proc(p: ProcState | None) -> dict[str, Any] | None:
            if p is None:
                return None
            pid = procs.read_pid(p.pid_file)
            return {"pid": pid, "running": procs.alive(pid), "address": p.address, "port": p.port,
                    "answering": procs.alive(pid) and procs.port_open(p.address, p.port), "log": p.log_file}
        problems = self.health() if st else ["not up"]
        return {
            "cluster": self.names.cluster, "prefix": self.names.prefix, "state_dir": str(self.paths.state_dir),
            "phase": st.phase if st else "down", "healthy": not problems, "problems": problems,
            "mgmt_bridge": self.names.mgmt_bridge, "mgmt_gateway": self.names.mgmt_gateway,
            "storage_namespace": self.names.storage_netns, "static_hosts": list(self.names.static_addresses),
            "kubeconfig": str(self.kubeconfig), "nodes": nodes,
            "artifacts": proc(st.artifacts) if st else None, "api": proc(st.api) if st else None,
            "notes": st.notes if st else [],
        }
