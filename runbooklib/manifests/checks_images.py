"""Moving image tags (`snapshot-thick`, `latest`, no tag): flagged, with the pin `--pin-images` would use."""

from __future__ import annotations

from runbooklib.manifests.docs import Doc, containers, obj_ref
from runbooklib.manifests.patch import ImagePin, split_image
from runbooklib.results import Finding, Severity

CHECK = "manifests.image-tags"
MOVING_TAGS = {"", "latest", "snapshot", "snapshot-thick", "stable", "stable-thick", "master", "main"}


def check_image_tags(docs: list[Doc], pins: list[ImagePin]) -> list[Finding]:
    by_repo = {p.repository: p for p in pins}
    out: list[Finding] = []
    for d in docs:
        if d.get("kind") not in ("DaemonSet", "Deployment", "StatefulSet", "Job"):
            continue
        for init in (True, False):
            for c in containers(d, init=init):
                image = str(c.get("image") or "")
                repo, tag = split_image(image)
                pin = by_repo.get(repo)
                target = f"{obj_ref(d)} {'initContainer' if init else 'container'} {c.get('name')}"
                if tag in MOVING_TAGS:
                    fix = ([f"pin with --pin-images: {repo}:{pin.tag}" + (f" ({pin.note})" if pin.derived else "")]
                           if pin else [f"pin {repo} to a release tag or digest"])
                    out.append(Finding(CHECK, f"moving image tag {tag or '(none)'!r}", Severity.WARN, target,
                                       f"{image} can change under the same name; nodes may run different builds",
                                       {"image": image, "pin": f"{repo}:{pin.tag}" if pin else None,
                                        "pin_derived": pin.derived if pin else None}, fix))
                elif pin and tag == pin.tag:
                    out.append(Finding(CHECK, "image pinned to the release tag", Severity.OK, target,
                                       f"{image}" + (f" ({pin.note})" if pin.derived else ""),
                                       {"image": image, "pin_derived": pin.derived}))
    return out
