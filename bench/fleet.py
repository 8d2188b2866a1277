#!/usr/bin/python3
"""bench/fleet: one cwexport process driving 200 accounts × 5 jobs at once.

Prints cwexport's total CPU seconds (user + system), its peak RSS, the wall
time and the API calls it made. Targets: under 2 s of CPU and under 64 MiB.
Figures only; never asserted.

usage: bench/fleet.py [--binary build/release/cli/cwexport] [--accounts 200] [--jobs 5]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakeaws"))
from fixture import FakeAWS  # noqa: E402
from timeline import Timeline  # noqa: E402


def acct(i):
    return "%012d" % (400000000000 + i)


def key(a):
    return {"access_key": "AKIAFLEET000" + a[-8:], "secret": ("fleetsecret" + a + "z" * 40)[:40]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "release", "cli", "cwexport"))
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=5)
    ap.add_argument("--time-factor", type=float, default=0.02)
    args = ap.parse_args()
    ids = [acct(i) for i in range(args.accounts)]
    seed = {
        "settings": {"time_factor": args.time_factor, "jitter": 0.2, "rng_seed": 9,
                     "timeline_requests": True},
        "accounts": [{"id": a, "name": "fleet" + a[-4:], "keys": [dict(key(a))]} for a in ids],
        "buckets": [{"name": "fleet-%s" % a, "account": a, "region": "us-east-1"} for a in ids],
        "log_groups": [{"name": "/fleet/app", "account": a, "region": "us-east-1",
                        "created": "now-30d", "bytes_per_day": 5e7, "streams": 2} for a in ids],
    }
    with tempfile.TemporaryDirectory() as tmp, FakeAWS(seed=seed, tmp_dir=tmp) as fake:
        creds = os.path.join(tmp, "credentials")
        with open(creds, "w") as f:
            for i, a in enumerate(ids):
                k = key(a)
                f.write("[f%d]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n"
                        % (i, k["access_key"], k["secret"]))
        cfg = {"version": 1,
               "defaults": {"region": "us-east-1", "window": "day", "settle": "1h",
                            "destination": {"bucket": "fleet-{account_id}"},
                            "poll": {"min": "100ms", "max": "1s"}},
               "range": {"last": args.jobs},
               "accounts": [{"name": "fleet%d" % i, "account_id": a, "profile": "f%d" % i,
                             "log_groups": [{"name": "/fleet/app"}]} for i, a in enumerate(ids)]}
        path = os.path.join(tmp, "fleet.yaml")
        with open(path, "w") as f:
            json.dump(cfg, f)
        env = dict(os.environ)
        env.update(fake.env(dict(key(ids[0]), account=ids[0])))
        env["AWS_SHARED_CREDENTIALS_FILE"] = creds
        summary = os.path.join(tmp, "summary.json")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = subprocess.run([args.binary, "run", "-c", path, "--summary", summary, "--progress", "none"],
                           env=env, capture_output=True, text=True)
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        tl = Timeline(fake.timeline())
        if p.returncode != 0:
            print("cwexport exit %d:\n%s" % (p.returncode, p.stderr[-3000:]), file=sys.stderr)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        calls = tl.api_calls()
        s = json.load(open(summary)) if os.path.exists(summary) else {}
    print("bench/fleet: %d accounts x %d jobs (time factor %g)" % (args.accounts, args.jobs, args.time_factor))
    print("  exit %d, wall %.1f s, exported %s, duplicates %d, max active per account %d"
          % (p.returncode, wall, s.get("totals", {}).get("exported"), len(tl.duplicates()),
             max(tl.max_concurrent_active().values() or [0])))
    print("  cwexport CPU %.2f s (user %.2f, sys %.2f), peak RSS %.1f MiB"
          % (cpu, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime,
             after.ru_maxrss / 1024.0))
    print("  API calls: %s" % ", ".join("%s %d" % kv for kv in sorted(calls.items())))


if __name__ == "__main__":
    main()
