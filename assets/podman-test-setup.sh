#!/usr/bin/env bash
# Reusable Podman set-up for tests, without any registry (run as root):
#   - writes DIR/containers.conf, the configuration rootful Podman needs on this kind of
#     kernel (runc: crun fails on hybrid cgroups; cgroupfs; ulimits it may set; file events);
#   - imports a busybox-static image as IMAGE (default localhost/slirpmon-doctor-bb) if missing.
# Usage: bash assets/podman-test-setup.sh DIR [IMAGE]; prints the containers.conf path.
# Point podman (and slirpmon) at it with CONTAINERS_CONF=DIR/containers.conf.
set -euo pipefail
dir=${1:?usage: podman-test-setup.sh DIR [IMAGE]}
image=${2:-localhost/slirpmon-doctor-bb}
command -v podman >/dev/null || { echo "podman is not installed: apt-get install podman runc" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "/bin/busybox is missing: apt-get install busybox-static" >&2; exit 1; }
mkdir -p "$dir"
chmod 0755 "$dir"
cat > "$dir/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
chmod 0644 "$dir/containers.conf"
export CONTAINERS_CONF="$dir/containers.conf"
if ! podman image exists "$image"; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/www"
  cp /bin/busybox "$root/bin/"
  for tool in sh httpd sleep cat ls ip; do ln -s busybox "$root/bin/$tool"; done
  echo ok > "$root/www/index.html"
  tar -C "$root" -cf "$root.tar" .
  podman import -q "$root.tar" "$image" >/dev/null
  rm -f "$root.tar"
fi
echo "$dir/containers.conf"
