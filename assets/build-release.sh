#!/usr/bin/env bash
# Builds slirpmon as it is installed and benchmarked: a release build linked into one static
# executable (the Swift runtime and Foundation inside, nothing loaded or relocated at start),
# in its own build folder so that a plain `swift build -c release` is left as it is.
# Arguments go to `swift build` (e.g. --product slirpmon; `slirpmon serve` needs --product
# slirpmon-serve too, in the same folder). Prints the folder of the binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-static)
swift build "${flags[@]}" "$@" >&2
swift build "${flags[@]}" --show-bin-path
