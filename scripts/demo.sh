#!/usr/bin/env bash
# The main job on the local lab: lab up, then the install runbook, then the upgrade check.
# Called by `make demo`; reports land in $OUT.
set -euo pipefail
PARAMS=${1:-params/lab.yaml}
OUT=${2:-out}
BIN=.venv/bin
mkdir -p "$OUT"
echo "==> lab up ($PARAMS)"
$BIN/runbook lab up --params "$PARAMS"
echo "==> params check"
$BIN/runbook params check "$PARAMS"
