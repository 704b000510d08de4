#!/usr/bin/env bash
# Installs what slirpmon and its tests need on a fresh Debian 12 machine (idempotent),
# then builds. Run as root (or with sudo): it uses apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  slirp4netns      # the program slirpmon monitors (and the demo runs)
  iproute2         # ip netns: namespaces for the demo and the tests
  libncurses-dev   # ncursesw, for the monitor
  pkg-config       # finds ncursesw for the Swift build
  tmux             # the end-to-end tests drive the real monitor in tmux
  socat            # test listeners inside namespaces
  procps           # ps, for scripts and benchmarks
  util-linux       # unshare and runuser: the doctor's trial (private mount namespace, rootless namespaces) and its tests
  passwd           # useradd: the doctor's tests run it as a non-root user
  podman           # container metadata (names, pods, failed startups); the tests start real containers
  runc             # the OCI runtime podman uses on this kernel (crun fails on hybrid cgroups)
  uidmap           # newuidmap/newgidmap for rootless podman users
  busybox-static   # a container image without any registry (assets/podman-test-setup.sh)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift is not in PATH (this machine kind ships it at /opt/swift)"; exit 1; }
swift build 2>&1 | grep -E "error|warning: unre|Compiling slirpmon|Build complete" || true
