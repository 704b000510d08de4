#!/usr/bin/env bash
# Installs what slirpmon, its tests and its install need on a fresh Debian 12 machine
# (idempotent; every package of assets/requirements.tsv), then builds. Run as root (it uses
# apt-get). The Swift toolchain is the machine's own (/opt/swift on this machine kind).
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < <(grep -v '^#' assets/requirements.tsv | cut -f2 | sort -u)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Recommends stay out on purpose: every package a command needs is named in requirements.tsv.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift is not in PATH (this machine kind ships it at /opt/swift)"; exit 1; }
swift build 2>&1 | grep -E "error|warning: unre|Compiling slirpmon|Build complete" || true
