#!/bin/sh
# Regenerates assets/slirpmon.svg: `slirpmon demo` (as root) in a private tmux at 120x40,
# captured with colours and converted to SVG. Run from anywhere: sh assets/screenshot.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
bin=${SLIRPMON:-}
if [ -z "$bin" ]; then
    (cd "$repo" && swift build --scratch-path .build-tui >/dev/null)
    bin="$repo/.build-tui/debug/slirpmon"
fi
sock="slirpmon-shot-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true' EXIT INT TERM
tmux -L "$sock" -f /dev/null new-session -d -s shot -x 120 -y 40 \
    "env TERM=tmux-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 $bin demo; sleep 5"
tmux -L "$sock" set -g status off
# Wait for the demo instances, then show only this demo's (the host may run others, other demos too).
i=0
until tmux -L "$sock" capture-pane -p -t shot | grep -q "slirpmon-demo-.*-noapi"; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "demo did not come up" >&2; exit 1; }
    sleep 0.2
done
shell=$(tmux -L "$sock" list-panes -t shot -F '#{pane_pid}')
demo=$(cut -d' ' -f1 "/proc/$shell/task/$shell/children")
tmux -L "$sock" send-keys -t shot F4 && tmux -L "$sock" send-keys -t shot -l "slirpmon-demo-$demo-" && tmux -L "$sock" send-keys -t shot Enter
sleep 1.5
tmux -L "$sock" capture-pane -e -p -t shot > "$here/slirpmon.ansi"
tmux -L "$sock" send-keys -t shot q
python3 "$here/ansi2svg.py" "$here/slirpmon.ansi" "$here/slirpmon.svg" 120 40
rm -f "$here/slirpmon.ansi"
echo "wrote $here/slirpmon.svg"
