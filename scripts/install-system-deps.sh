#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages runbooklib and its local lab need. Idempotent; needs root.
set -euo pipefail
need=()
have() { dpkg -s "$1" >/dev/null 2>&1; }
for pkg in openssh-server openssh-client containernetworking-plugins iproute2 iputils-ping util-linux procps curl python3-venv; do
  have "$pkg" || need+=("$pkg")
done
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-system-deps: need root to install: ${need[*]}" >&2
    exit 1
  fi
  echo "==> apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian's openssh-server may start a system sshd; the lab runs its own per node and needs none.
echo "==> system packages ok"
