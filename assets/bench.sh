#!/bin/bash
# The benchmark: slirpmon beside its baselines (ps + socat, ps, a raw-socket loop, htop)
# at N real slirp4netns instances. Root only (ip netns). Takes a few minutes at the
# default sizes 1,100,500; a quick run: bash assets/bench.sh --sizes 1,10 --runs 3 --tui-n 10 --tui-seconds 10
# `slirpmon serve`'s rows alone (scrape beside list --json, idle CPU): --serve-only --sizes 100,500
# Arguments go to slirpmon-bench (see `slirpmon-bench --help`). The table is printed and
# written to assets/bench-latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for tool in socat:socat htop:htop tmux:tmux ip:iproute2 slirp4netns:slirp4netns; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then apt-get install -y "${missing[@]}"; fi
# The release build as installed (assets/build-release.sh); slirpmon-bench finds slirpmon beside it.
bin=$(bash assets/build-release.sh)
exec "$bin/slirpmon-bench" "$@"
