#!/bin/sh
# Valgrind memcheck of a full demo run: builds cwexport without sanitizers
# (build/harden/release), starts the fake AWS with its demo seed, and runs
# validate, plan (online), run (the whole demo backfill), run again (nothing
# to do), status and cancel under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
#            --error-exitcode=1
# Prints each command's exit code and valgrind's error and leak summary;
# exits 1 when valgrind reported an error or a definite/indirect leak.
#   tests/harden/valgrind_demo.sh [TIME_FACTOR]   (default 0.0022, the demo's)
set -eu
cd "$(dirname "$0")/../.."
factor=${1:-0.0022}
build=${CWX_VALGRIND_BUILD_DIR:-build/harden/release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" --target cwexport -j"$(nproc)" >/dev/null
bin="$build/cli/cwexport"

work=$(mktemp -d)
fake_pid=""
cleanup() {
    [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
FAKE_ARGS="--time-factor $factor"
. scripts/fakeaws-env.sh

status=0
n=0
vg() {
    n=$((n + 1))
    log="$work/vg-$n.log"
    start=$(date +%s)
    rc=0
    valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect --error-exitcode=99 --log-file="$log" \
        "$bin" "$@" >"$work/out-$n.txt" 2>"$work/err-$n.txt" || rc=$?
    end=$(date +%s)
    errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
    leaks=$(grep -E "definitely lost|indirectly lost|possibly lost|still reachable|All heap blocks" "$log" |
        sed 's/^==[0-9]*== *//' | tr '\n' ';')
    printf '%-40s exit %-3s %4ss  errors: %s  %s\n' "$*" "$rc" "$((end - start))" \
        "${errors:-?}" "$leaks"
    if [ "$rc" = 99 ] || [ "${errors:-1}" != 0 ]; then
        status=1
        cat "$log"
    fi
    tail -n 3 "$work/err-$n.txt" | sed 's/^/    /'
}
vg validate -c configs/demo.yaml
vg plan -c configs/demo.yaml --format json -o "$work/plan.json"
vg run -c configs/demo.yaml --progress none --summary "$work/summary.json" --events "$work/events.jsonl"
vg run -c configs/demo.yaml --progress none
vg status -c configs/demo.yaml
vg cancel -c configs/demo.yaml --dry-run
/usr/bin/python3 - "$work/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("demo run summary:", json.dumps(s.get("totals", s))[:400])
PY
exit $status
