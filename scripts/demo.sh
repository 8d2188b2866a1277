#!/bin/sh
# The main job end to end on the embedded default: builds cwexport, starts the
# local fake AWS with its demo seed (two accounts, two regions, ~40 log groups,
# 24 months of data; 127.0.0.1 only), backfills the demo config into the
# fake's S3, then runs again to show that nothing is left to do.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh

build=${CWX_BUILD_DIR:-build/release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target cwexport
bin="$build/cli/cwexport"

work=$(mktemp -d)
fake_pid=""
cleanup() {
    [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

FAKE_ARGS=""
. scripts/fakeaws-env.sh

echo "== fake AWS at $AWS_ENDPOINT_URL"
echo "== cwexport validate -c configs/demo.yaml"
"$bin" validate -c configs/demo.yaml
echo "== cwexport plan -c configs/demo.yaml (what a run would do)"
"$bin" plan -c configs/demo.yaml --format table > "$work/plan.txt"
tail -n 9 "$work/plan.txt"
echo "== cwexport run -c configs/demo.yaml (backfill)"
"$bin" run -c configs/demo.yaml --summary "$work/summary.json"
echo "== cwexport run -c configs/demo.yaml (again: nothing left to do)"
"$bin" run -c configs/demo.yaml
echo "== what the fake AWS saw"
/usr/bin/python3 tests/fakeaws/timeline.py "$AWS_ENDPOINT_URL" > "$work/timeline.json"
/usr/bin/python3 - "$work/timeline.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
print("completed export tasks:", t["completed"], "| duplicates:", len(t["duplicates"]),
      "| max active tasks per account:", t["max_concurrent_active"])
print("API calls:", t["api_calls"])
PY
