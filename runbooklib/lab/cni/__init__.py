"""Pod networking of the lab: containerd's, Multus thick's and Whereabouts' roles (see README.md here).

Host side (imported by the lab API process): `runtime` (containerd's role: sandbox + CNI call per
pod), `daemon` (the Multus thick daemon per node), `effects` (what the Multus and Whereabouts
DaemonSet pods do to a node), `multus` (pure Multus logic), `podview` (a DaemonSet pod's
filesystem view from its hostPath volumes), `wiring` (plugs all of it into the lab API).

Node side (`nodeside/`, stdlib only): packed into one multicall zipapp that is run by the node's
`/usr/bin/python3` inside the node's namespaces and installed as the lab executables
`multus-shim`, `passthru` and `whereabouts`.

This package must stay import-light: nothing here may import pydantic-using modules at import time
because `nodeside` is also imported inside the zipapp with a stub `runbooklib` package.
"""
