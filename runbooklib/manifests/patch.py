"""The reference runbook's sed patch, reproduced exactly and verified.

The runbook runs
    sed -e 's|path: /etc/cni/net.d$|path: <conf_dir>|g' -e 's|path: /etc/cni/multus/net.d$|path: <multus conf dir>|g'
on the Multus thick manifest and the conf-dir rule on the Whereabouts manifest. `apply_rules` gives
the same bytes as those seds (line by line, BRE `.` = any character, `$` = end of line, CR kept),
counts the lines each rule hits and refuses when a count differs from the expected one.
`verify_structure` then parses both texts and confirms that exactly the intended hostPath volumes
(and, with pinning, the intended images) changed and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from runbooklib.errors import RunbookError
from runbooklib.manifests.docs import load_docs
from runbooklib.manifests.structure import FieldChange, changed_fields
from runbooklib.params import K3sPaths

UPSTREAM_CONF_DIR = "/etc/cni/net.d"
UPSTREAM_MULTUS_CONF_DIR = "/etc/cni/multus/net.d"
MULTUS_DS = "kube-multus-ds"
WHEREABOUTS_DS = "whereabouts"


class ManifestPatchError(RunbookError):
    """The patch would not do what the runbook means (upstream moved). Nothing was written."""

    def __init__(self, manifest: str, problems: list[str]) -> None:
        self.manifest = manifest
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{manifest}: refusing to patch, upstream does not look as expected:\n{lines}\n"
                         "  (nothing was written; check the upstream version or the params' pinned source)")


@dataclass(frozen=True)
class SedRule:
    """`s|<pattern>$|<replacement>|g` where pattern is a BRE without special characters other than `.`."""

    pattern: str  # e.g. "path: /etc/cni/net.d" (matched at end of line)
    replacement: str
    expected_hits: int
    daemonset: str
    volume: str  # the hostPath volume this rule is meant to re-point

    @property
    def regex(self) -> re.Pattern[str]:
        # sed BRE: only `.` is special in these patterns; everything else is literal
        return re.compile("".join("." if ch == "." else re.escape(ch) for ch in self.pattern) + r"\Z")

    @property
    def sed_expression(self) -> str:
        return f"s|{self.pattern}$|{self.replacement}|g"


@dataclass(frozen=True)
class RuleHit:
    rule: str  # the sed expression
    expected: int
    lines: tuple[int, ...]  # 1-based line numbers hit

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def ok(self) -> bool:
        return self.count == self.expected


@dataclass(frozen=True)
class ImagePin:
    repository: str  # ghcr.io/k8snetworkplumbingwg/multus-cni
    tag: str  # v4.2.2-thick
    derived: bool = False  # tag derived from the release workflow, not checked against the registry
    note: str = ""


@dataclass
class PatchResult:
    name: str
    text: str
    hits: list[RuleHit]
    changed_volumes: list[str]  # `<daemonset>/<volume>: <old> -> <new>`
    changes: list[FieldChange] = field(default_factory=list)
    pinned_images: list[str] = field(default_factory=list)  # `<old> -> <new>`

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "hits": [{"rule": h.rule, "expected": h.expected, "count": h.count, "lines": list(h.lines)} for h in self.hits],
            "changed_volumes": self.changed_volumes,
            "pinned_images": self.pinned_images,
            "changes": [str(c) for c in self.changes],
        }


def multus_rules(k3s: K3sPaths) -> list[SedRule]:
    return [
        SedRule(f"path: {UPSTREAM_CONF_DIR}", f"path: {k3s.conf_dir}", 1, MULTUS_DS, "cni"),
        SedRule(f"path: {UPSTREAM_MULTUS_CONF_DIR}", f"path: {k3s.multus_conf_dir}", 1, MULTUS_DS, "multus-conf-dir"),
    ]


def whereabouts_rules(k3s: K3sPaths) -> list[SedRule]:
    # whereabouts v0.9.1 daemonset-install.yaml: the conf-dir rule hits line 159 only
    # (volume cni-net-dir); `/opt/cni/bin` (line 156) stays, it is a real directory on the nodes.
    return [SedRule(f"path: {UPSTREAM_CONF_DIR}", f"path: {k3s.conf_dir}", 1, WHEREABOUTS_DS, "cni-net-dir")]


def sed_command(rules: list[SedRule], infile: str, outfile: str) -> str:
    """The equivalent shell command, for reports and for users who want to diff against their own sed."""
    exprs = " ".join(f"-e '{r.sed_expression}'" for r in rules)
    return f"sed {exprs} {infile} > {outfile}"


def apply_rules(text: str, rules: list[SedRule]) -> tuple[str, list[RuleHit]]:
    """Apply the rules exactly like sed would (each line: every rule in order). No verification."""
    compiled = [(r, r.regex) for r in rules]
    hit_lines: dict[int, list[int]] = {i: [] for i in range(len(rules))}
    out: list[str] = []
    for lineno, raw in enumerate(text.splitlines(keepends=True), start=1):
        body, nl = (raw[:-1], "\n") if raw.endswith("\n") else (raw, "")
        for i, (rule, rx) in enumerate(compiled):
            new, n = rx.subn(lambda _m, rep=rule.replacement: rep, body, count=1)
            if n:
                hit_lines[i].append(lineno)
                body = new
        out.append(body + nl)
    hits = [RuleHit(r.sed_expression, r.expected_hits, tuple(hit_lines[i])) for i, r in enumerate(rules)]
    return "".join(out), hits


_IMAGE_LINE = re.compile(r"^(?P<lead>\s*(?:-\s+)?image:\s*)(?P<q>[\"']?)(?P<image>[^\s\"']+)(?P=q)(?P<trail>\s*)$")


def split_image(image: str) -> tuple[str, str]:
    """`repo[:tag]` -> (repo, tag or ''); digests stay part of the tag."""
    if "@" in image:
        repo, _, digest = image.partition("@")
        return repo, "@" + digest
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1:]
    return image, ""


def pin_image_lines(text: str, pins: list[ImagePin]) -> tuple[str, list[str]]:
    """Rewrite `image:` lines whose repository is pinned; returns the text and `old -> new` notes."""
    by_repo = {p.repository: p for p in pins}
    out: list[str] = []
    notes: list[str] = []
    for raw in text.splitlines(keepends=True):
        body, nl = (raw[:-1], "\n") if raw.endswith("\n") else (raw, "")
        m = _IMAGE_LINE.match(body)
        if m:
            repo, tag = split_image(m["image"])
            pin = by_repo.get(repo)
            if pin is not None and tag != pin.tag:
                new_image = f"{repo}:{pin.tag}"
                body = f"{m['lead']}{m['q']}{new_image}{m['q']}{m['trail']}"
                notes.append(f"{m['image']} -> {new_image}")
        out.append(body + nl)
    return "".join(out), notes


def patch_manifest(name: str, text: str, rules: list[SedRule], pins: list[ImagePin] | None = None) -> PatchResult:
    """Apply `rules` (sed-exact), optionally pin images, and verify. Raises `ManifestPatchError`."""
    patched, hits = apply_rules(text, rules)
    problems = [f"rule {h.rule!r} hit {h.count} line(s) {list(h.lines)}, expected {h.expected}" for h in hits if not h.ok]
    if problems:
        raise ManifestPatchError(name, problems)
    pinned: list[str] = []
    if pins:
        patched, pinned = pin_image_lines(patched, pins)
    changes, volumes = verify_structure(name, text, patched, rules, pins or [])
    return PatchResult(name, patched, hits, volumes, changes, pinned)


def verify_structure(name: str, before: str, after: str, rules: list[SedRule],
                     pins: list[ImagePin]) -> tuple[list[FieldChange], list[str]]:
    """Parse both texts; every changed field must be an intended hostPath (or pinned image)."""
    try:
        docs_a, docs_b = load_docs(before), load_docs(after)
    except Exception as e:  # yaml errors
        raise ManifestPatchError(name, [f"cannot parse as YAML: {e}"]) from None
    if len(docs_a) != len(docs_b):
        raise ManifestPatchError(name, [f"document count changed: {len(docs_a)} -> {len(docs_b)}"])
    changes = changed_fields(docs_a, docs_b)
    intended = {(f"DaemonSet {_ns(docs_b, r.daemonset)}{r.daemonset}",
                 f"spec.template.spec.volumes[name={r.volume}].hostPath.path"): r for r in rules}
    pinned_repos = {p.repository for p in pins}
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    volumes: list[str] = []
    for c in changes:
        key = (c.obj, c.path)
        if key in intended:
            rule = intended[key]
            want_old = rule.pattern.removeprefix("path: ")
            want_new = rule.replacement.removeprefix("path: ")
            if c.old != want_old or c.new != want_new:
                problems.append(f"{c}: expected {want_old!r} -> {want_new!r}")
            seen.add(key)
            volumes.append(f"{rule.daemonset}/{rule.volume}: {c.old} -> {c.new}")
        elif c.path.endswith(".image") and isinstance(c.old, str) and split_image(c.old)[0] in pinned_repos:
            continue
        else:
            problems.append(f"unintended change: {c}")
    for key, rule in intended.items():
        if key not in seen:
            problems.append(f"{rule.daemonset} volume {rule.volume!r} hostPath did not change "
                            f"(the sed hit a line that is not this volume's hostPath)")
    if problems:
        raise ManifestPatchError(name, problems)
    return changes, volumes


def _ns(docs: list[dict], ds_name: str) -> str:
    for d in docs:
        meta = d.get("metadata") or {}
        if d.get("kind") == "DaemonSet" and meta.get("name") == ds_name:
            return f"{meta['namespace']}/" if meta.get("namespace") else ""
    return "kube-system/"


def multus_image_pin(multus_version: str) -> ImagePin:
    return ImagePin("ghcr.io/k8snetworkplumbingwg/multus-cni", f"{multus_version}-thick", derived=True,
                    note="tag derived from multus' release workflow (<tag>-thick); not checked against the registry")


def whereabouts_image_pin(whereabouts_version: str) -> ImagePin:
    return ImagePin("ghcr.io/k8snetworkplumbingwg/whereabouts", whereabouts_version, derived=True,
                    note="release workflow pushes ghcr.io/k8snetworkplumbingwg/whereabouts:<tag>; not checked against the registry")


def patch_multus(text: str, k3s: K3sPaths, *, pin: ImagePin | None = None, name: str = "multus-daemonset-thick.yml") -> PatchResult:
    """The Multus thick manifest with its conf-dir hostPaths re-pointed at k3s (the reference seds)."""
    return patch_manifest(name, text, multus_rules(k3s), [pin] if pin else None)


def patch_whereabouts(text: str, k3s: K3sPaths, *, pin: ImagePin | None = None,
                      name: str = "whereabouts-daemonset-install.yaml") -> PatchResult:
    """The Whereabouts daemonset manifest with its conf-dir hostPath re-pointed at k3s."""
    return patch_manifest(name, text, whereabouts_rules(k3s), [pin] if pin else None)
