"""Entry point of the lab's multicall zipapp: dispatch on the base name of argv[0] (like k3s's `cni`).

Installed names: `whereabouts`, `multus-shim`, `passthru`. Run as `rbl-cni.pyz <helper>` it runs a
lab helper inside a node: `containerd` (a sandbox's CNI step) or `view` (a container's view).
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    name = os.path.basename(sys.argv[0])
    if name == "whereabouts":
        from runbooklib.lab.cni.nodeside import whereabouts
        return whereabouts.main()
    if name == "multus-shim":
        from runbooklib.lab.cni.nodeside import shim
        return shim.shim_main()
    if name == "passthru":
        from runbooklib.lab.cni.nodeside import shim
        return shim.passthru_main()
    helper = sys.argv[1] if len(sys.argv) > 1 else ""
    if helper == "containerd":
        from runbooklib.lab.cni.nodeside import containerd
        return containerd.main()
    if helper == "view":
        from runbooklib.lab.cni.nodeside import view
        return view.main()
    sys.stderr.write("runbooklib lab multicall: whereabouts | multus-shim | passthru | <pyz> containerd|view\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
