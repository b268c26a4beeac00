#!/usr/bin/env bash
# Runs the libFuzzer targets (Sources/FuzzHarnesses) with the address sanitizer, each for SECONDS (default 600), on
# a working copy of its kept corpus (Fuzz/Corpus/TARGET). A crash or hang leaves its input in .build-fuzz/crashes/:
# fix it, then add the input to Fuzz/Corpus/TARGET so that FuzzRegressionTests replays it for good.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]       TARGET: websocket-reader, client-request, request-head
#   .build-fuzz/release/chatrelay-fuzz ...       libFuzzer's own flags, with CHATRELAY_FUZZ_TARGET=TARGET
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
which=${1:-all}
seconds=${2:-600}
scratch=$root/.build-fuzz
targets=(websocket-reader client-request request-head)
[ "$which" = all ] || targets=("$which")

swift build --package-path "$root" --scratch-path "$scratch" -c release --product chatrelay-fuzz \
    --sanitize fuzzer --sanitize address -Xswiftc -DFUZZING
binary=$scratch/release/chatrelay-fuzz
mkdir -p "$scratch/crashes"
status=0
for target in "${targets[@]}"; do
    work=$scratch/corpus/$target
    mkdir -p "$work"
    echo "== $target for ${seconds}s"
    CHATRELAY_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
        -artifact_prefix="$scratch/crashes/$target-" -print_final_stats=1 "$work" "$root/Fuzz/Corpus/$target" \
        2>&1 | tee "$scratch/$target.log" | grep -E '^#[0-9]+ +(DONE|INITED)|^==|ERROR|SUMMARY|stat::' || true
    if grep -qE 'ERROR: (libFuzzer|AddressSanitizer)|deadly signal|Test unit written' "$scratch/$target.log"; then status=1; fi
done
exit $status
