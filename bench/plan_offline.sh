#!/bin/sh
# bench/plan_offline: 10,000 log groups x 120 monthly windows (1.2 M jobs)
# through `cwexport plan --offline --format json > /dev/null`. Prints wall
# time, jobs/s, CPU time (user + system: what a busy shared machine does not
# inflate), peak RSS and bytes of RSS per job. Never asserted.
set -eu
cd "$(dirname "$0")/.."
bin=${CWX_BIN:-build/release/cli/cwexport}
groups=${GROUPS:-10000}
[ -x "$bin" ] || { echo "build cwexport first (scripts/demo.sh builds build/release)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/bench.yaml" "$groups" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("version: 1\ndefaults:\n  region: us-east-1\n"
            "  destination: {bucket: bench-archive}\n"
            "range: {from: 2015-01, to: 2024-12}\n"
            "accounts:\n  - name: bench\n    account_id: \"123456789012\"\n"
            "    log_groups:\n")
    for i in range(n):
        f.write(f"      - name: /bench/service-{i:05d}/application\n")
PY
jobs=$((groups * 120))
/usr/bin/time -f "%e %M %U %S" -o "$tmp/time" "$bin" plan --offline --format json \
    -c "$tmp/bench.yaml" > /dev/null
read -r wall rss_kb user sys < "$tmp/time"
/usr/bin/python3 - "$jobs" "$wall" "$rss_kb" "$user" "$sys" <<'PY'
import sys
jobs, wall, rss_kb = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
cpu = float(sys.argv[4]) + float(sys.argv[5])
print(f"plan_offline: {jobs} jobs in {wall:.2f} s wall = {jobs / max(wall, 1e-9):,.0f} jobs/s; "
      f"{cpu:.2f} s CPU (user + system); "
      f"peak RSS {rss_kb / 1024:.1f} MiB = {rss_kb * 1024 / jobs:.0f} bytes/job")
PY
