#!/usr/bin/env bash
# The full test run, on a fresh machine or not (as root): installs what is missing, builds,
# runs `swift test`, then the soak alone (its hundred instances would crowd the other
# monitor tests; SLIRPMON_SOAK_SECONDS, default 180), then fuzzes every parser that takes
# outside data for a bounded time (assets/fuzz.sh; SLIRPMON_FUZZ_SECONDS, default 20 each).
# The exit status is the first failure's. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash assets/setup.sh
set +e
# grep -a: a test that prints a peer's raw bytes (a NUL) must not make grep treat the rest of
# the run as binary and drop it from the log.
swift test 2>&1 | grep -avE '^\[[0-9]+/[0-9]+\] |^◇ '
status=${PIPESTATUS[0]}
SLIRPMON_SOAK_SECONDS=${SLIRPMON_SOAK_SECONDS:-180} swift test --skip-build --filter SoakTests 2>&1 | grep -avE '^\[[0-9]+/[0-9]+\] |^◇ '
soak_status=${PIPESTATUS[0]}
if [[ $status -eq 0 && $soak_status -ne 0 ]]; then status=$soak_status; fi
bash assets/fuzz.sh all "${SLIRPMON_FUZZ_SECONDS:-20}"
fuzz_status=$?
if [[ $status -eq 0 && $fuzz_status -ne 0 ]]; then status=$fuzz_status; fi
exit "$status"
