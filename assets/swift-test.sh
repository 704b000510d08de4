#!/usr/bin/env bash
# `swift test ARGS` whose green means every test it selected ran and passed:
#
#   bash assets/swift-test.sh [swift test arguments]      (assets/test.sh runs it; CI=true there)
#
# Prints the run (without build progress and "started" lines), then names every skipped test
# and suite; Swift Testing prints them as
#   ➜ Suite SoakTests skipped: "reason"     ➜ Test name() skipped: "reason"
# (the symbol differs by platform) and XCTest as "Test Case '...' skipped". Exit status: swift
# test's; else 1 when CI=true (or NO_SKIPS=1) and anything was skipped (a skip is a claim the
# run did not check),
# or when no test passed at all (a filter that matched nothing is not a pass).
set -uo pipefail
cd "$(dirname "$0")/.."
output=$(mktemp)
trap 'rm -f "$output"' EXIT
# grep -a: a test that prints a peer's raw bytes (a NUL) must not make grep treat the rest of
# the run as binary and drop it.
swift test "$@" 2>&1 | grep -avE '^\[[0-9]+/[0-9]+\] |^◇ ' | tee "$output"
status=${PIPESTATUS[0]}
skipped=$(grep -aE "^[^ ]+ (Test|Suite) .* skipped(: |\.|$)|^Test Case '.*' skipped" "$output" \
  | sed -E "s/^[^ ]+ //; s/^Test Case '([^']*)' skipped.*/XCTest \1/")
if [[ -n "$skipped" ]]; then
  echo "swift-test: $(wc -l <<<"$skipped") skipped, each a claim this run did not check:" >&2
  sed 's/^/  skipped: /' <<<"$skipped" >&2
  if [[ "${CI:-}" == true || "${CI:-}" == 1 || "${NO_SKIPS:-}" == 1 ]]; then
    echo "swift-test: CI (or NO_SKIPS=1) fails on any skip: run as root with everything assets/requirements.tsv names installed" >&2
    [[ $status -ne 0 ]] || status=1
  fi
fi
# Counted, not `grep -q`: under pipefail an early exit of the reader would fail the writer (SIGPIPE)
# and a long passing run would read as "no test passed".
passed=$(grep -aE "^[^ ]+ Test .* passed after|^Test Case '.*' passed" "$output" | grep -acv '^[^ ]* Test run with ' || true)
if [[ $status -eq 0 && ${passed:-0} -eq 0 ]]; then
  echo "swift-test: no test passed in swift test $*" >&2
  status=1
fi
exit "$status"
