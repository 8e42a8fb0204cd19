#!/usr/bin/env bash
# Fuzzes one target (or all) for SECONDS each with libFuzzer, on stable Rust: the targets are
# built with SanitizerCoverage through plain -C flags (no nightly, no cargo-fuzz; libfuzzer-sys
# builds libFuzzer with the C++ compiler). See fuzz/README.md.
#
#   scripts/fuzz.sh TARGET SECONDS [--keep]     TARGET: sketch, onnx_scan, contract, bank or all
#
# Starts from the committed corpus fuzz/corpus/TARGET (and the seeds: the sample sketch of every
# format, the contract test models). New inputs go to a temporary folder; with --keep the corpus
# is then minimised (libFuzzer -merge=1) into fuzz/corpus/TARGET, to be committed. A crash stops
# the run with exit status 1 and leaves its input in fuzz/artifacts/TARGET/; make it a
# regression test (fuzz/README.md). Runs at nice 19 in one process; FUZZ_TARGET_DIR (default
# target/fuzz) is the build folder, FUZZ_TIMEOUT (default 60) the seconds that make a hang.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

targets=(sketch onnx_scan contract bank)
usage() { echo "usage: scripts/fuzz.sh sketch|onnx_scan|contract|bank|all SECONDS [--keep]" >&2; exit 2; }
(($# >= 2)) || usage
target=$1 seconds=$2 keep=${3:-}
[[ $seconds =~ ^[0-9]+$ ]] || usage
[[ -z $keep || $keep == --keep ]] || usage
case $target in
    all) run=("${targets[@]}") ;;
    sketch | onnx_scan | contract | bank) run=("$target") ;;
    *) usage ;;
esac

build_dir=${FUZZ_TARGET_DIR:-target/fuzz}
# Seconds one input may take before it counts as a hang: wall-clock time, so generous for a
# machine that gives the fuzzer (at nice 19) a small share of its cores.
timeout=${FUZZ_TIMEOUT:-60}
# The project's versions of image, ort and the rest: what is fuzzed is what ships.
cp Cargo.lock fuzz/Cargo.lock
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
bins=()
for t in "${run[@]}"; do bins+=(--bin "$t"); done
# An explicit --target keeps RUSTFLAGS off the build scripts and proc macros (as cargo-fuzz does).
host=$(rustc -vV | sed -n 's/^host: //p')
nice -n 19 cargo build --quiet --release --manifest-path fuzz/Cargo.toml --target-dir "$build_dir" \
    --target "$host" "${bins[@]}"
bin_dir=$build_dir/$host/release

# Seeds besides the corpus, per target (read only).
seeds() {
    case $1 in
        sketch) echo tests/data/sketch_formats ;;
        onnx_scan) echo tests/data/contract ;;
        contract | bank) ;;
    esac
}
# Longest input tried: room for headers, chunks and a few nested messages.
max_len() {
    case $1 in
        sketch) echo 65536 ;;
        onnx_scan) echo 16384 ;;
        contract) echo 4096 ;;
        bank) echo 65536 ;;
    esac
}

for t in "${run[@]}"; do
    corpus=fuzz/corpus/$t
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    fresh=$(mktemp -d)
    trap 'rm -rf "$fresh" "$fresh.log"' EXIT
    echo "== fuzz $t for ${seconds}s"
    log=$fresh.log
    status=0
    # shellcheck disable=SC2046 # seeds: zero or one folder
    nice -n 19 "$bin_dir/$t" "$fresh" "$corpus" $(seeds "$t") \
        -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout="$timeout" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1 || status=$?
    grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::(number_of_executed_units|new_units_added|peak_rss_mb)|==[0-9]+==|SUMMARY|.*(panicked|Test unit written|ERROR))' "$log" || true
    rm -f "$log"
    if ((status != 0)); then
        echo "error: fuzz target $t failed (status $status); its input is in fuzz/artifacts/$t/" >&2
        exit 1
    fi
    if [[ $keep == --keep ]]; then
        merged=$(mktemp -d)
        nice -n 19 "$bin_dir/$t" -merge=1 "$merged" "$corpus" "$fresh" $(seeds "$t") \
            -max_len="$(max_len "$t")" -timeout="$timeout" -rss_limit_mb=2048 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true
        rm -rf "$corpus" && mv "$merged" "$corpus"
        echo "corpus fuzz/corpus/$t: $(find "$corpus" -type f | wc -l) files, $(du -sh "$corpus" | cut -f1)"
    fi
    rm -rf "$fresh"
done
