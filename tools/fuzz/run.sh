#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one after another.
#
#   tools/fuzz/run.sh [SECONDS]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain; without them it
# prints why it skips and exits 0. Exits 1 if a target finds a crash (the input is saved under
# tools/fuzz/artifacts/<target>/; reproduce with
# `cargo +nightly fuzz run --fuzz-dir tools/fuzz <target> <file>`, shrink with `fuzz tmin`).
# Logs go to ${TMPDIR:-/tmp}/fuzz-<target>.log.
set -uo pipefail

secs="${1:-60}"
if ! [[ "$secs" =~ ^[0-9]+$ ]] || (( secs == 0 )); then
    echo "usage: $0 [SECONDS]" >&2
    exit 2
fi

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "run.sh: skipping fuzzing: no nightly toolchain (rustup toolchain install nightly)"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "run.sh: skipping fuzzing: cargo-fuzz is not installed (cargo install cargo-fuzz)"
    exit 0
fi

cd "$root" || exit 1
"$here/seed_corpus.sh" >/dev/null || echo "run.sh: no capture seeds; starting from an empty corpus"

targets=$(cargo +nightly fuzz list --fuzz-dir "$here")
logdir="${TMPDIR:-/tmp}"

# Build first, so that a crate that does not compile is not reported as a crash.
if ! cargo +nightly fuzz build --fuzz-dir "$here" >"$logdir/fuzz-build.log" 2>&1; then
    echo "run.sh: the fuzz targets do not build (log: $logdir/fuzz-build.log):"
    grep -E '^error' "$logdir/fuzz-build.log" | head -10 | sed 's/^/   /'
    exit 1
fi
failed=()
for t in $targets; do
    log="$logdir/fuzz-$t.log"
    echo "== $t: ${secs}s (log: $log)"
    mkdir -p "$here/corpus/$t"
    if cargo +nightly fuzz run --fuzz-dir "$here" "$t" -- -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
        echo "   ok: ${execs:-?} executions"
    else
        if grep -q 'Test unit written to' "$log"; then
            echo "   CRASH:"
            grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written|Base64' "$log" | head -20 | sed 's/^/   /'
        else
            echo "   FAILED without a crash input; the end of the log:"
            tail -15 "$log" | sed 's/^/   /'
        fi
        failed+=("$t")
    fi
done

if (( ${#failed[@]} )); then
    echo "run.sh: failures in: ${failed[*]}"
    exit 1
fi
echo "run.sh: all targets ran ${secs}s without a crash"
