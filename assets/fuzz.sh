#!/usr/bin/env bash
# Fuzz one parser that takes outside data with libFuzzer, for a bounded time.
#
#   bash assets/fuzz.sh TARGET [SECONDS]     (default 30 s)
#   bash assets/fuzz.sh all [SECONDS]        every target in turn
#   bash assets/fuzz.sh list
#
# SlirpCore is compiled once with swiftc -sanitize=fuzzer,address (coverage + ASan), its C
# shim with clang; each target is one driver in Tests/Fuzz/Fuzz<Name>.swift linked against
# it. Seeds: Tests/Fuzz/Corpus/<target>/ (real inputs); the growing corpus and any crash
# input stay in .build-fuzz/. Exit status 1 when a target crashes or breaks a property
# (the input is saved and printed), 0 otherwise. Prints one line per target:
#   fuzz TARGET: N executions in S s, corpus C inputs, no crash
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/.build-fuzz
TARGETS=(command-line network-options addresses api-reply port-mapping log proc-text containers-conf dns-reply)

driver() { # command-line -> FuzzCommandLine
    local name="" part
    IFS=- read -ra parts <<<"$1"
    for part in "${parts[@]}"; do name+="${part^}"; done
    case "$name" in ApiReply) name=APIReply ;; esac
    echo "Tests/Fuzz/Fuzz$name.swift"
}

if [[ "${1:-}" == list || $# -lt 1 ]]; then printf '%s\n' "${TARGETS[@]}"; [[ $# -ge 1 ]]; exit; fi
TARGET=$1
SECONDS_PER_TARGET=${2:-30}
if [[ "$TARGET" == all ]]; then
    status=0
    for t in "${TARGETS[@]}"; do bash "$0" "$t" "$SECONDS_PER_TARGET" || status=1; done
    exit $status
fi
DRIVER=$(driver "$TARGET")
[[ -f "$DRIVER" ]] || { echo "fuzz: unknown target $TARGET (try: ${TARGETS[*]})" >&2; exit 2; }

SWIFTC=${SWIFTC:-$(command -v swiftc)}
CLANG=${CLANG:-$(dirname "$(readlink -f "$SWIFTC")")/clang}
mkdir -p "$OUT/core" "$OUT/corpus/$TARGET" "$OUT/crashes"
exec 9>"$OUT/.lock"
flock 9 # one build at a time (the test runs targets one after another; people may run it beside)

# SlirpCore, instrumented, rebuilt only when its sources change.
STAMP=$(cat Sources/CSlirpSystem/cslirp_system.c Sources/CSlirpSystem/include/*.h $(find Sources/SlirpCore -name '*.swift' | sort) | sha256sum | cut -c1-16)
if [[ ! -f "$OUT/core/$STAMP" ]]; then
    echo "fuzz: building instrumented SlirpCore ($STAMP)" >&2
    rm -f "$OUT"/core/*
    cat >"$OUT/core/module.modulemap" <<MAP
module CSlirpSystem {
    header "$ROOT/Sources/CSlirpSystem/include/cslirp_system.h"
    export *
}
MAP
    BUILDLOG=$OUT/build-core.log
    : >"$BUILDLOG"
    "$CLANG" -c -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/CSlirpSystem/include \
        Sources/CSlirpSystem/cslirp_system.c -o "$OUT/core/cslirp_system.o" >>"$BUILDLOG" 2>&1 || { cat "$BUILDLOG" >&2; exit 1; }
    # shellcheck disable=SC2046
    "$SWIFTC" -module-name SlirpCore -parse-as-library -wmo -O -g -swift-version 6 \
        -sanitize=fuzzer,address -Xcc -fmodule-map-file="$OUT/core/module.modulemap" \
        -emit-module -emit-module-path "$OUT/core/SlirpCore.swiftmodule" \
        -c -o "$OUT/core/SlirpCore.o" $(find Sources/SlirpCore -name '*.swift' | sort) >>"$BUILDLOG" 2>&1 || { cat "$BUILDLOG" >&2; exit 1; }
    touch "$OUT/core/$STAMP"
    rm -f "$OUT"/fuzz-*
fi
BIN=$OUT/fuzz-$TARGET
if [[ ! -x "$BIN" || "$DRIVER" -nt "$BIN" || Tests/Fuzz/Common.swift -nt "$BIN" ]]; then
    echo "fuzz: building $TARGET" >&2
    "$SWIFTC" -parse-as-library -O -g -swift-version 6 -sanitize=fuzzer,address \
        -I "$OUT/core" -Xcc -fmodule-map-file="$OUT/core/module.modulemap" \
        Tests/Fuzz/Common.swift "$DRIVER" "$OUT/core/SlirpCore.o" "$OUT/core/cslirp_system.o" -o "$BIN" >"$OUT/build-$TARGET.log" 2>&1 \
        || { grep -v 'Cannot export local symbol' "$OUT/build-$TARGET.log" >&2; exit 1; }
fi
exec 9>&-

SEEDS=Tests/Fuzz/Corpus/$TARGET
LOG=$OUT/$TARGET.log
set +e
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} "$BIN" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 -print_final_stats=1 -artifact_prefix="$OUT/crashes/$TARGET-" \
    "$OUT/corpus/$TARGET" $( [[ -d "$SEEDS" ]] && echo "$SEEDS" ) >"$LOG" 2>&1
status=$?
set -e
runs=$(grep -aoE 'stat::number_of_executed_units: *[0-9]+' "$LOG" | grep -oE '[0-9]+$' | tail -1)
corpus=$(find "$OUT/corpus/$TARGET" -type f | wc -l)
if [[ $status -ne 0 ]]; then
    echo "fuzz $TARGET: FAILED (status $status) after ${runs:-?} executions; log $LOG" >&2
    grep -aE 'ERROR|property failed|Fatal error|SUMMARY|Test unit written|Base64' "$LOG" | head -20 >&2
    exit 1
fi
# A fuzzer that ran nothing (its runtime missing, a driver that exits at once) proves nothing.
if [[ -z "$runs" || "$runs" -eq 0 ]]; then
    echo "fuzz $TARGET: FAILED: no executions recorded (libFuzzer's final stats missing from $LOG)" >&2
    tail -5 "$LOG" >&2
    exit 1
fi
echo "fuzz $TARGET: ${runs} executions in ${SECONDS_PER_TARGET} s, corpus $corpus inputs, no crash"
