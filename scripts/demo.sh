#!/usr/bin/env bash
# The main job on the local lab: lab up, then the install runbook, then the upgrade check.
# Called by `make demo`; reports land in $OUT. BIN may point at another venv's bin dir.
set -euo pipefail
PARAMS=${1:-params/lab.yaml}
OUT=${2:-out}
BIN=${BIN:-.venv/bin}
mkdir -p "$OUT"
echo "==> lab up ($PARAMS)"
$BIN/runbook lab up --params "$PARAMS"
echo "==> params check"
$BIN/runbook params check "$PARAMS"
status=0
echo "==> install runbook (node prep, manifests, rollout, NADs, test pod with net1)"
$BIN/runbook run install --params "$PARAMS" -p dry_run=false --out "$OUT" || status=$?
echo "==> upgrade check (links, flannel copy, bin dir layout, DaemonSets, test pod)"
$BIN/runbook run upgrade-check --params "$PARAMS" --out "$OUT" || status=$?
echo
echo "reports (open in a browser, they work offline):"
for name in install upgrade-check; do
  [ -f "$OUT/$name.html" ] && echo "  $(cd "$OUT" && pwd)/$name.html   (results: $OUT/$name.results.json)"
done
exit "$status"
