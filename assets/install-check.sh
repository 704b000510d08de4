#!/usr/bin/env bash
# The release build a Swift user types (`swift run -c release slirpmon --version`), then an
# install into a temporary prefix with assets/install.sh, used as an operator would: --version,
# `list --json` finding a live slirp4netns started here, the man page rendered by man, and each
# shell's completion script in its place. Root (ip netns). The prefix holds | & % and a space
# (sed's and systemd's special characters); the units go to a directory of the check's own
# (SLIRPMON_UNIT_DIR), never into /etc/systemd/system.
# Prints "install-check: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
base=$(mktemp -d /tmp/slirpmon-install.XXXXXX)
prefix="$base/odd|pre&fix 100%"
units="$base/units"
netns="slirpmon-install-$$"
slirp_pid=""
cleanup() {
  [ -n "$slirp_pid" ] && kill "$slirp_pid" 2>/dev/null && wait "$slirp_pid" 2>/dev/null
  ip netns delete "$netns" 2>/dev/null
  rm -rf "$base"
}
trap cleanup EXIT
passed=0 failed=0
check() { # NAME COMMAND...: passes when COMMAND succeeds
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "PASS  $name"; else failed=$((failed + 1)); echo "FAIL  $name"; fi
}

version=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/slirpmon/Version.swift)
check "swift run -c release slirpmon --version (the default release build links)" \
  test "$(swift run -c release slirpmon --version 2>/dev/null | tail -n 1)" = "$version"
check "install.sh puts units in /etc/systemd/system for /usr/local and /opt/slirpmon, in systemd's own directory for /usr" \
  sh -c 'sd=$(pkg-config systemd --variable=systemdsystemunitdir 2>/dev/null); [ -n "$sd" ] || sd=/lib/systemd/system
         [ "$(bash assets/install.sh --print-unit-dir /usr/local)" = /etc/systemd/system ] &&
         [ "$(bash assets/install.sh --print-unit-dir /opt/slirpmon)" = /etc/systemd/system ] &&
         [ "$(bash assets/install.sh --print-unit-dir /usr)" = "$sd" ]'
check "install.sh refuses a prefix with a backslash (systemd cannot run a program there), before building" \
  sh -c 'out=$(bash assets/install.sh "$1" 2>&1); [ $? -eq 1 ] && printf "%s" "$out" | grep -q "systemd cannot run a program under PREFIX" && [ ! -e "$1" ]' _ "$base/back\\slash"
mkdir -p "$units"
install_out="$base/install.out"
if ! SLIRPMON_UNIT_DIR="$units" bash assets/install.sh "$prefix" | tee "$install_out"; then
  echo "install-check: $passed passed, $((failed + 1)) failed"
  exit 1
fi
if [ "$(cat /proc/1/comm)" = systemd ]; then said="SLIRPMON_UNIT_DIR is not a directory systemd reads: no systemctl daemon-reload"
else said="systemd is not running (PID 1 is $(cat /proc/1/comm)): no systemctl daemon-reload"; fi
check "install.sh says whether it ran systemctl daemon-reload ($said)" grep -qF "($said)" "$install_out"
check "--version prints the version kept in Version.swift ($version)" test "$("$prefix/bin/slirpmon" --version)" = "$version"
check "the binary is stripped (no symbol table)" sh -c "! readelf -S '$prefix/bin/slirpmon' | grep -q '[.]symtab'"
check "the binary is static (nothing for the loader to load)" sh -c "! ldd '$prefix/bin/slirpmon' 2>/dev/null | grep -q '=>'"

ip netns add "$netns"
slirp4netns --configure --api-socket "/tmp/$netns.sock" --netns-type=path "/run/netns/$netns" tap0 >/dev/null 2>&1 &
slirp_pid=$!
for _ in $(seq 50); do [ -S "/tmp/$netns.sock" ] && break; sleep 0.1; done
listed=$("$prefix/bin/slirpmon" list --json)
check "list --json shows the live slirp4netns $slirp_pid with its API socket" \
  python3 -c 'import json,sys; rows=json.loads(sys.argv[1]); sys.exit(0 if any(r.get("pid")==int(sys.argv[2]) and r.get("api_socket")==sys.argv[3] for r in rows) else 1)' \
  "$listed" "$slirp_pid" "/tmp/$netns.sock"

page=$(MANWIDTH=80 man -l "$prefix/share/man/man1/slirpmon.1" 2>&1)
check "man -l renders slirpmon.1 with its subcommands" sh -c 'for w in SLIRPMON list show log fwd doctor demo; do printf "%s" "$1" | grep -q "$w" || exit 1; done' _ "$page"
check "bash completion in share/bash-completion/completions" grep -q "complete" "$prefix/share/bash-completion/completions/slirpmon"
check "zsh completion in share/zsh/site-functions" grep -q "#compdef slirpmon" "$prefix/share/zsh/site-functions/_slirpmon"
check "fish completion in share/fish/vendor_completions.d" grep -q "complete -c 'slirpmon'" "$prefix/share/fish/vendor_completions.d/slirpmon.fish"
check "slirpmon-metrics.service (ExecStart: the installed binary, quoted, % doubled) and .timer pass systemd-analyze verify; TimeoutStartSec=5min" \
  sh -c 'grep -qxF "ExecStart=\"$(printf "%s" "$1" | sed "s/%/%%/g")/bin/slirpmon\" metrics --textfile /var/lib/prometheus/node-exporter" "$2/slirpmon-metrics.service" &&
         grep -qx "TimeoutStartSec=5min" "$2/slirpmon-metrics.service" &&
         systemd-analyze verify "$2/slirpmon-metrics.service" "$2/slirpmon-metrics.timer"' _ "$prefix" "$units"
textfile=$(mktemp -d /tmp/slirpmon-install-textfile.XXXXXX)
check "metrics --textfile writes slirpmon.prom, which promtool accepts, with the live slirp4netns $slirp_pid" \
  sh -c '"$1/bin/slirpmon" metrics --textfile "$2" && promtool check metrics < "$2/slirpmon.prom" &&
         grep -q "^slirpmon_instance_defunct{pid=\"$3\"" "$2/slirpmon.prom"' _ "$prefix" "$textfile" "$slirp_pid"
check "the alert rules in share/slirpmon pass promtool check rules" promtool check rules "$prefix/share/slirpmon/slirpmon.rules.yml"
rm -rf "$textfile"
check "slirpmon-serve beside slirpmon, stripped and static; slirpmon-serve.service passes systemd-analyze verify" \
  sh -c '! readelf -S "$1/bin/slirpmon-serve" | grep -q "[.]symtab" && ! ldd "$1/bin/slirpmon-serve" 2>/dev/null | grep -q "=>" &&
         systemd-analyze verify "$2/slirpmon-serve.service"' _ "$prefix" "$units"
serve_err=$(mktemp /tmp/slirpmon-install-serve.XXXXXX)
"$prefix/bin/slirpmon" serve --listen 127.0.0.1:0 2>"$serve_err" &
serve_pid=$!
for _ in $(seq 100); do grep -q "serving http://" "$serve_err" && break; sleep 0.1; done
serve_url=$(sed -n 's|.*serving \(http://[^ ]*\).*|\1|p' "$serve_err")
check "serve --listen 127.0.0.1:0 answers /metrics with the live slirp4netns $slirp_pid" \
  python3 -c 'import sys, urllib.request; page = urllib.request.urlopen(sys.argv[1], timeout=30).read().decode(); sys.exit(0 if ("slirpmon_instance_defunct{pid=\"%s\"" % sys.argv[2]) in page else 1)' \
  "$serve_url" "$slirp_pid"
kill -TERM "$serve_pid"
check "serve stops with status 0 on SIGTERM" wait "$serve_pid"
rm -f "$serve_err"
rm -f "/tmp/$netns.sock"
echo "install-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
