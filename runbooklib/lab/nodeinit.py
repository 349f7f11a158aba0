"""First process of a lab node's mount namespace: set up the node's view, then exec its sshd.

Started by `sshd.start_node` as
    nsenter --net=/run/netns/<ns> -- unshare --mount --uts --propagation unchanged -- \
        python -m runbooklib.lab.nodeinit <node dir>/init.json
so it runs in the node's network namespace, in a fresh mount + UTS namespace. sshd and every SSH
session inherit both (sshd re-execs itself per connection; children keep the namespaces).

Mount propagation (why `--propagation unchanged` and not `private`/`slave`):
- every mount that is *shared* with the host is made a *slave* one by one — EXCEPT /run/netns and
  the nsfs mounts below it. So nothing the node mounts leaks to the host, host mounts still appear
  in the node, and /run/netns stays in the host's peer group: a pod netns created on a node with
  `ip netns add` is visible on the host (and to the lab API), as containerd's are on a real node.
  (`ip netns add` on the host made /run/netns a shared mount before any node starts.)
- /sys is remounted so /sys/class/net shows the node's own links (what `ip netns exec` does).
- each private dir (state.PRIVATE_DIRS) is a private bind mount of `<node dir>/root/<path>`.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

MS_BIND, MS_REC, MS_PRIVATE, MS_SLAVE = 4096, 16384, 1 << 18, 1 << 19
MNT_DETACH = 2
_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(src: str | None, target: str, fstype: str | None, flags: int) -> None:
    _check(_libc.mount(src.encode() if src else None, target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), None), f"mount {src} {target}")


def _unescape(path: str) -> str:
    return path.encode().decode("unicode_escape") if "\\" in path else path


def shared_mounts() -> list[str]:
    out: list[str] = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if any(opt.startswith("shared:") for opt in fields[6:sep]):
                out.append(_unescape(fields[4]))
    return out


def isolate_mounts() -> None:
    for mp in shared_mounts():
        if mp == "/run/netns" or mp.startswith("/run/netns/"):
            continue
        mount(None, mp, None, MS_SLAVE)


def main(spec_file: str) -> None:
    spec = json.loads(open(spec_file).read())
    isolate_mounts()
    _check(_libc.umount2(b"/sys", MNT_DETACH), "umount /sys")
    mount("sysfs", "/sys", "sysfs", 0)
    for src, dst in spec["binds"]:
        mount(src, dst, None, MS_BIND | MS_REC)
        mount(None, dst, None, MS_PRIVATE | MS_REC)
    name = spec["hostname"].encode()
    _check(_libc.sethostname(name, len(name)), "sethostname")
    os.chdir("/")
    os.execve(spec["exec"][0], spec["exec"], spec["env"])  # noqa: S606


if __name__ == "__main__":
    main(sys.argv[1])
