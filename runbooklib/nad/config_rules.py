"""Rules on one NAD's `spec.config` alone (pure; no node, no cluster).

Each rule names the field it concerns (`spec.config.ipam.range_end`) and, where one exists,
proposes the right value. The texts quote what the Go side would say where that helps grep logs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from runbooklib.nad.document import NadDocument
from runbooklib.nad.findings import RuleBook
from runbooklib.nad.jsontext import parse_strict, repair_json
from runbooklib.nad.pools import Pool, parse_ip, parse_net, parse_range, pool_from_ipam, usable_bounds
from runbooklib.results import Finding

CNI_VERSIONS = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
MACVLAN_MODES = ("bridge", "private", "vepa", "passthru")
WHEREABOUTS_KEYS = frozenset({
    "type", "range", "range_start", "range_end", "exclude", "ipRanges", "node_slice_size", "gateway", "routes",
    "dns", "addresses", "network_name", "enable_overlapping_ranges", "configuration_path", "kubernetes",
    "log_file", "log_level", "leader_lease_duration", "leader_renew_deadline", "leader_retry_period",
    "sleep_for_race", "reconciler_cron_expression", "datastore", "etcd_host", "etcd_username", "etcd_password",
    "etcd_key_file", "etcd_cert_file", "etcd_ca_cert_file", "omit_ranges",
})
F = "spec.config"


@dataclass
class ParsedNad:
    """A NAD after its config was parsed: `config` is None when `spec.config` is unusable."""

    document: NadDocument
    config: dict[str, Any] | None

    @property
    def ref(self) -> str:
        return self.document.ref

    @property
    def plugin_type(self) -> str | None:
        if not self.config:
            return None
        if isinstance(self.config.get("type"), str):
            return self.config["type"]
        plugins = self.config.get("plugins")
        if isinstance(plugins, list) and plugins and isinstance(plugins[0], dict):
            t = plugins[0].get("type")
            return t if isinstance(t, str) else None
        return None

    @property
    def ipam(self) -> dict[str, Any]:
        ipam = (self.config or {}).get("ipam")
        return ipam if isinstance(ipam, dict) else {}

    @property
    def ipam_type(self) -> str | None:
        t = self.ipam.get("type")
        return t if isinstance(t, str) and t else None

    @property
    def cni_version(self) -> str | None:
        v = (self.config or {}).get("cniVersion")
        return v if isinstance(v, str) else None

    @property
    def master(self) -> str | None:
        m = (self.config or {}).get("master")
        return m if isinstance(m, str) and m else None

    @property
    def mtu(self) -> int | None:
        m = (self.config or {}).get("mtu")
        return m if isinstance(m, int) and not isinstance(m, bool) else None

    @property
    def pool(self) -> Pool | None:
        return pool_from_ipam(self.ipam) if self.ipam_type == "whereabouts" else None


def validate_config(doc: NadDocument) -> tuple[ParsedNad, list[Finding]]:
    """Every rule on `spec.config` alone. Returns the parsed NAD (for later rules) and findings."""
    book = RuleBook(doc.ref)
    config = _parse(doc, book)
    parsed = ParsedNad(doc, config)
    if config is not None:
        _top_level(parsed, book)
        if parsed.plugin_type == "macvlan":
            _macvlan(config, book)
        if parsed.ipam_type == "whereabouts":
            _whereabouts(parsed.ipam, book)
    return parsed, book.finish()


def _parse(doc: NadDocument, book: RuleBook) -> dict[str, Any] | None:
    book.ran("config.json", "spec.config is valid JSON")
    if not doc.config_raw.strip():
        book.fail("config.json", F, "spec.config is empty; multus would look the name up in the conf dir instead",
                  "put the CNI configuration JSON into spec.config")
        return None
    value, problem = parse_strict(doc.config_raw)
    if problem is not None:
        repaired = repair_json(doc.config_raw)
        proposal = json.dumps(repaired) if repaired is not None else None
        fixes = ["parse spec.config with a strict JSON parser before applying"]
        if proposal:
            fixes.insert(0, f"corrected spec.config: {proposal}")
        book.fail("config.json", F, f"not valid JSON: failed to unmarshal Spec.Config: {problem.message} "
                  f"at line {problem.line}, column {problem.column}", fixes,
                  go_error=f"failed to unmarshal Spec.Config: {problem.message}", offset=problem.offset,
                  line=problem.line, column=problem.column, right_value=proposal)
        return None
    book.ran("config.object", "spec.config is a JSON object")
    if not isinstance(value, dict):
        book.fail("config.object", F, f"must be a JSON object, found {type(value).__name__}",
                  'wrap the configuration in {...} with "cniVersion" and "type"')
        return None
    return value


def _top_level(nad: ParsedNad, book: RuleBook) -> None:
    config = nad.config or {}
    book.ran("config.cniVersion", f"cniVersion {config.get('cniVersion')} is a CNI spec version")
    version = config.get("cniVersion")
    if version is None:
        book.fail("config.cniVersion", f"{F}.cniVersion", "missing", f"add \"cniVersion\", e.g. \"0.3.1\" (one of {', '.join(CNI_VERSIONS)})")
    elif version not in CNI_VERSIONS:
        book.fail("config.cniVersion", f"{F}.cniVersion", f"{version!r} is not a CNI spec version",
                  f"use one of {', '.join(CNI_VERSIONS)}", right_value="0.3.1")
    book.ran("config.type", f"plugin type {nad.plugin_type}")
    if nad.plugin_type is None:
        book.fail("config.type", f"{F}.type", "missing: the delegate must have the 'type' or 'plugins' field",
                  'add "type": "macvlan"')


def _macvlan(config: dict[str, Any], book: RuleBook) -> None:
    mode = config.get("mode", "")
    book.ran("macvlan.mode", f"macvlan mode {mode or 'bridge (default)'}")
    if mode not in ("", *MACVLAN_MODES):
        book.fail("macvlan.mode", f"{F}.mode", f"unknown macvlan mode {mode!r}", f"use one of {', '.join(MACVLAN_MODES)}",
                  right_value="bridge")
    book.ran("macvlan.master", f"master {config.get('master')}")
    master = config.get("master")
    if master is None or master == "":
        book.warn("macvlan.master", f"{F}.master", "not set: macvlan falls back to each node's default-route interface",
                  "set master to the storage NIC name, e.g. ens2")
    elif not isinstance(master, str) or len(master) > 15 or any(c in master for c in " /\t"):
        book.fail("macvlan.master", f"{F}.master", f"{master!r} is not an interface name", "1-15 characters, no '/' or spaces")
    mtu = config.get("mtu")
    book.ran("macvlan.mtu", "mtu " + ("inherited from master" if mtu is None else str(mtu)))
    if mtu is not None and (not isinstance(mtu, int) or isinstance(mtu, bool)):
        book.fail("macvlan.mtu", f"{F}.mtu", f"{mtu!r} is not an integer", "write the MTU as a number, e.g. 9000, or leave it out")
    elif isinstance(mtu, int) and mtu < 0:
        book.fail("macvlan.mtu", f"{F}.mtu", f"invalid MTU {mtu}, must be [0, master MTU]", "use the master's MTU or leave it out")


def _whereabouts(ipam: dict[str, Any], book: RuleBook) -> None:
    f = f"{F}.ipam"
    book.ran("ipam.keys", "ipam keys are whereabouts keys")
    for key in sorted(set(ipam) - WHEREABOUTS_KEYS):
        book.warn("ipam.keys", f"{f}.{key}", "not a whereabouts key: whereabouts ignores it silently",
                  "check the spelling (whereabouts keys are snake_case: range_start, range_end, exclude, ...)")
    book.ran("ipam.range", f"range {ipam.get('range')} is a usable CIDR")
    spec = parse_range(ipam.get("range"))
    if spec is None:
        book.fail("ipam.range", f"{f}.range", f"{ipam.get('range')!r} is not a CIDR (or A-B/prefix)",
                  "e.g. 192.168.205.0/24")
        return
    net = spec.network
    bounds = usable_bounds(net)
    if bounds is None:
        book.fail("ipam.range", f"{f}.range", f"{net} has no usable addresses (whereabouts: net mask is too short)",
                  "use a /30 or larger")
        return
    usable_first, usable_last = bounds
    if str(net) != ipam["range"].strip() and spec.dash_start is None:
        book.warn("ipam.range", f"{f}.range", f"{ipam['range']!r} has host bits set; whereabouts uses {net}",
                  f"write range: {net}", right_value=str(net))

    book.ran("ipam.bounds", "range_start/range_end inside the range and ordered (both inclusive)")
    values: dict[str, Any] = {}
    for key, dash in (("range_start", spec.dash_start), ("range_end", spec.dash_end)):
        raw = ipam.get(key)
        if raw is None:
            values[key] = dash
            continue
        addr = parse_ip(raw)
        if addr is None:
            book.fail("ipam.bounds", f"{f}.{key}", f"{raw!r} is not an IP address", f"an address inside {net}")
            values[key] = None
        elif addr.version != net.version or not usable_first <= addr <= usable_last:
            right = usable_first if key == "range_start" else usable_last
            book.fail("ipam.bounds", f"{f}.{key}",
                      f"{addr} is outside the usable range {usable_first}-{usable_last} of {net}; whereabouts silently "
                      f"ignores it and hands out {'from ' + str(usable_first) if key == 'range_start' else 'up to ' + str(usable_last)}",
                      f"use an address inside {usable_first}-{usable_last} (both bounds are inclusive)", right_value=str(right))
            values[key] = None
        else:
            values[key] = addr
    start, end = values.get("range_start"), values.get("range_end")
    if start is not None and end is not None and start > end:
        book.fail("ipam.bounds", f"{f}.range_end", f"range_end {end} is before range_start {start}; whereabouts ignores it",
                  "swap them; both bounds are inclusive", right_value={"range_start": str(end), "range_end": str(start)})

    book.ran("ipam.exclude", "exclude entries inside the range")
    exclude = ipam.get("exclude")
    if exclude is not None and not isinstance(exclude, list):
        book.fail("ipam.exclude", f"{f}.exclude", "must be a list of CIDRs or IPs", 'e.g. ["192.168.205.250/32"]')
        return
    for j, entry in enumerate(exclude or []):
        en = parse_net(entry)
        if en is None:
            book.fail("ipam.exclude", f"{f}.exclude[{j}]", f"{entry!r} is not a CIDR or IP (whereabouts: could not parse exclude range)",
                      "e.g. 192.168.205.250/32")
        elif en.version != net.version or not en.subnet_of(net):  # type: ignore[arg-type]
            book.fail("ipam.exclude", f"{f}.exclude[{j}]", f"{en} is not inside range {net}", "exclude only addresses of the range")
