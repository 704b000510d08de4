#!/usr/bin/env bash
# The full test run, on a fresh machine or not (as root): installs what is missing (then stops
# at once, naming it, if a command the suite runs is still absent), builds the release, installs it into a temporary prefix and uses it (assets/install-check.sh),
# runs `swift test`, then the soak alone (its hundred instances would crowd the other
# monitor tests; SLIRPMON_SOAK_SECONDS, default 180), then fuzzes every parser that takes
# outside data for a bounded time (assets/fuzz.sh; SLIRPMON_FUZZ_SECONDS, default 20 each).
# The exit status is the first failure's. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash assets/setup.sh
# Every command the suite runs, before a test fails minutes later for want of one.
absent=()
while IFS=$'\t' read -r tool package _; do
  [[ -z "$tool" || "$tool" == \#* ]] && continue
  if [[ "$tool" == pkgconfig:* ]]; then
    pkg-config --exists "${tool#pkgconfig:}" 2>/dev/null || absent+=("${tool#pkgconfig:} ($package)")
  else
    command -v "$tool" >/dev/null || absent+=("$tool ($package)")
  fi
done < assets/requirements.tsv
if ((${#absent[@]})); then
  echo "test: missing ${absent[*]}: run bash assets/setup.sh as root, or apt-get install the packages named" >&2
  exit 1
fi
set +e
bash assets/install-check.sh
install_status=$?
# grep -a: a test that prints a peer's raw bytes (a NUL) must not make grep treat the rest of
# the run as binary and drop it from the log.
swift test 2>&1 | grep -avE '^\[[0-9]+/[0-9]+\] |^◇ '
status=${PIPESTATUS[0]}
if [[ $status -eq 0 && $install_status -ne 0 ]]; then status=$install_status; fi
SLIRPMON_SOAK_SECONDS=${SLIRPMON_SOAK_SECONDS:-180} swift test --skip-build --filter SoakTests 2>&1 | grep -avE '^\[[0-9]+/[0-9]+\] |^◇ '
soak_status=${PIPESTATUS[0]}
if [[ $status -eq 0 && $soak_status -ne 0 ]]; then status=$soak_status; fi
bash assets/fuzz.sh all "${SLIRPMON_FUZZ_SECONDS:-20}"
fuzz_status=$?
if [[ $status -eq 0 && $fuzz_status -ne 0 ]]; then status=$fuzz_status; fi
exit "$status"
