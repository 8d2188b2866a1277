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

(cd tests/fakeaws && exec /usr/bin/python3 -m fakeaws --seed seeds/demo.json \
    --port 0 --ready-file "$work/ready") >"$work/fake.log" 2>&1 &
fake_pid=$!
i=0
while [ ! -s "$work/ready" ]; do
    i=$((i + 1))
    if [ "$i" -gt 100 ] || ! kill -0 "$fake_pid" 2>/dev/null; then
        echo "demo: the fake AWS did not start:" >&2
        cat "$work/fake.log" >&2
        exit 1
    fi
    sleep 0.1
done

# The demo account's keys exist only inside the fake AWS.
AWS_ENDPOINT_URL=$(head -n 1 "$work/ready")
AWS_ACCESS_KEY_ID=AKIAFAKEDEMO00000001
AWS_SECRET_ACCESS_KEY=fakedemosecretkey000000000000000000000001
AWS_CONFIG_FILE=/dev/null
AWS_SHARED_CREDENTIALS_FILE=/dev/null
AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_CONFIG_FILE \
    AWS_SHARED_CREDENTIALS_FILE AWS_EC2_METADATA_DISABLED
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION 2>/dev/null || true

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
