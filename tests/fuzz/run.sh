#!/bin/sh
# Builds the libFuzzer targets with clang (ASan + UBSan) in build/fuzz and
# runs each one after the other, on one core, for SECONDS (default 60):
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
# Each run starts from the committed corpus (tests/fuzz/corpus/TARGET) and
# keeps what it finds in build/fuzz/corpus-run/TARGET (never in the source
# tree); a crash input lands in build/fuzz/artifacts/. Prints executions,
# executions per second, time and peak RSS per target; exits 1 when a target
# crashed. Environment: CWX_FUZZ_BUILD_DIR (default build/fuzz).
set -eu
cd "$(dirname "$0")/../.."
seconds=${1:-60}
[ $# -gt 0 ] && shift
build=${CWX_FUZZ_BUILD_DIR:-build/fuzz}
targets=${*:-"fuzz_config fuzz_template fuzz_logs_json fuzz_s3_list fuzz_query_xml fuzz_aws_error fuzz_sigv4"}

CC=clang cmake -S . -B "$build" -DFUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" --target $targets -j"$(nproc)" >/dev/null

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
mkdir -p "$build/artifacts"
status=0
printf '%-16s %14s %10s %8s %8s %s\n' target executions exec/s seconds rss_mb result
for t in $targets; do
    work="$build/corpus-run/$t"
    log="$build/artifacts/$t.log"
    mkdir -p "$work"
    dict=tests/fuzz/dict/$t.dict
    set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-"
    [ -f "$dict" ] && set -- "$@" -dict="$dict"
    start=$(date +%s)
    if "$build/tests/fuzz/$t" "$@" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
        result=ok
    else
        result="CRASH (see $log)"
        status=1
    fi
    end=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    printf '%-16s %14s %10s %8s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" \
        "$((end - start))" "${rss:-?}" "$result"
done
exit $status
