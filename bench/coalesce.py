#!/usr/bin/python3
"""bench/coalesce: fewest tasks on a long-tailed fleet.

A seeded long-tailed fleet in the fake (tests/fakeaws, seed option
`long_tail`): GROUPS log groups x MONTHS months, each group-month drawn
empty (45 %), tiny under 1 MB (25 %), 20-300 MB (25 %) or 1-3 GB (5 %), one
log stream per run of months with data. The groups are spread over ACCOUNTS
accounts (one lane each). The same fleet is exported three times, each
strategy in its own accounts of one fake, one after the other:

  per-window   skip_empty: off, coalesce off: one task per window
  skip_empty   skip_empty: streams (windows without events skipped)
  coalesce     skip_empty: streams and coalesce {max_bytes: 1GiB, max_windows: 12}

Every export task takes at least 60 s of AWS time (the fake's PENDING 55 s
plus at least 5 s RUNNING at 20 MB/s), run at 1/SCALE in the fake; every
interval of cwexport is scaled alike (poll, api_rate, the DescribeLogStreams
quota and cwexport's pacing of it), as bench/handoff does.

Prints per strategy: tasks (CreateExportTask that made a task), windows
marked, AWS calls by operation (DescribeLogStreams per group too), the
makespan in AWS time -- measured (wall time x SCALE) and modelled (the
longest lane's sum of its tasks' AWS durations, i.e. the makespan without
cwexport's own latency, which the time scaling magnifies) -- and the ratios
against per-window. Figures only; never asserted.

usage: bench/coalesce.py [--binary build/release/cli/cwexport] [--groups 2000]
                         [--months 36] [--accounts 10] [--scale 20000]
                         [--only per-window|skip_empty|coalesce ...]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakeaws"))
from fixture import FakeAWS  # noqa: E402

STRATEGIES = ["per-window", "skip_empty", "coalesce"]
PENDING_S = 55.0
THROUGHPUT = 2e7


def acct(s, i):
    return "%012d" % (400000000000 + s * 1000 + i)


def key(a):
    return {"access_key": "AKIABENCHCO" + a[-9:], "secret": ("benchcoalesce" + a + "z" * 40)[:40],
            "account": a}


def make_seed(args, strategies):
    groups, accounts, buckets = [], [], []
    per = (args.groups + args.accounts - 1) // args.accounts
    for s in strategies:
        for i in range(args.accounts):
            a = acct(s, i)
            n = min(per, args.groups - i * per)
            if n <= 0:
                continue
            accounts.append({"id": a, "name": "%s-%d" % (STRATEGIES[s], i), "keys": [key(a)]})
            buckets.append({"name": "bench-co-%s" % a, "account": a, "region": "us-east-1"})
            # The same fleet for every strategy: the prefix seeds the generator.
            groups.append({"generate": {"count": n, "prefix": "/fleet/a%02d/g" % i, "width": 4,
                                        "accounts": [a], "regions": ["us-east-1"],
                                        "long_tail": {"months": args.months}}})
    return {
        "settings": {"time_factor": 1.0 / args.scale, "jitter": 0.0, "pending_delay_s": PENDING_S,
                     "throughput_bps": THROUGHPUT, "min_running_s": 5.0, "rng_seed": 11,
                     "timeline_requests": False,
                     "describe_log_streams_tps": 5 * args.scale},
        "accounts": accounts,
        "buckets": buckets,
        "log_groups": groups,
    }


def run_strategy(args, fake, s, tmp):
    scale = args.scale
    defaults = {"region": "us-east-1", "settle": "1h",
                "destination": {"bucket": "bench-co-{account_id}"},
                "api_rate": min(10000, 5 * scale),
                "poll": {"min": "%dms" % max(10, round(5000 / scale)),
                         "max": "%dms" % max(10, round(60000 / scale))},
                "loop_guard": {"max_creates_per_run": 0},
                "skip_empty": {"mode": "off" if s == 0 else "streams",
                               "api_rate": min(10000, 5 * scale)}}
    if s == 2:
        defaults["coalesce"] = {"max_bytes": "1GiB", "max_windows": 12}
    cfg = {"version": 1, "defaults": defaults, "range": {"last": args.months},
           "accounts": [{"name": "a%d" % i, "account_id": acct(s, i),
                         "profile": "p%d" % i, "log_groups": [{"prefix": "/fleet/"}]}
                        for i in range(args.accounts)]}
    path = os.path.join(tmp, "%s.yaml" % STRATEGIES[s])
    with open(path, "w") as f:
        json.dump(cfg, f)
    creds = os.path.join(tmp, "credentials-%d" % s)
    with open(creds, "w") as f:
        for i in range(args.accounts):
            k = key(acct(s, i))
            f.write("[p%d]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n"
                    % (i, k["access_key"], k["secret"]))
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env.update(fake.env(key(acct(s, 0))))
    env.pop("AWS_ACCESS_KEY_ID", None)
    env.pop("AWS_SECRET_ACCESS_KEY", None)
    env["AWS_SHARED_CREDENTIALS_FILE"] = creds
    summary = os.path.join(tmp, "summary-%d.json" % s)
    plan = subprocess.run([args.binary, "plan", "-c", path, "--format", "json"], env=env,
                          capture_output=True, text=True)
    planned = json.loads(plan.stdout)["totals"]["tasks"] if plan.returncode == 0 else None
    before = fake.stats()["by_operation"]
    t0 = time.monotonic()
    p = subprocess.run([args.binary, "run", "-c", path, "--summary", summary, "--progress", "none"],
                       env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = fake.stats()["by_operation"]
    if p.returncode != 0:
        print("%s: cwexport exit %d:\n%s" % (STRATEGIES[s], p.returncode, p.stderr[-2000:]),
              file=sys.stderr)
    calls = {op: after.get(op, 0) - before.get(op, 0) for op in after}
    calls = {k: v for k, v in calls.items() if v}
    accounts = {acct(s, i) for i in range(args.accounts)}
    tasks = [t for t in fake.tasks() if t["account"] in accounts]
    lane_s = {}
    for t in tasks:
        d = fake_duration_s(t)
        lane_s[t["account"]] = lane_s.get(t["account"], 0.0) + d
    marked = sum(len(fake.s3_list("bench-co-%s" % a, "_cwexport/")) for a in accounts)
    return {"strategy": STRATEGIES[s], "exit": p.returncode, "planned_tasks": planned,
            "tasks": len(tasks), "windows_marked": marked, "api_calls": calls,
            "api_calls_total": sum(calls.values()),
            "describe_log_streams_per_group": round(calls.get("DescribeLogStreams", 0) / args.groups, 3),
            "makespan_measured_s": round(wall * scale),
            "makespan_model_s": round(max(lane_s.values()) if lane_s else 0),
            "wall_s": round(wall, 1)}


def fake_duration_s(t):
    """A task's AWS duration as the fake planned it (PENDING + RUNNING), in AWS seconds."""
    return sum(t.get("planned_s") or (0, 0)) * ARGS.scale


def fmt_days(s):
    return "%.1f d" % (s / 86400.0)


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "release", "cli", "cwexport"))
    ap.add_argument("--groups", type=int, default=2000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--accounts", type=int, default=10)
    ap.add_argument("--scale", type=float, default=20000)
    ap.add_argument("--only", action="append", choices=STRATEGIES)
    ap.add_argument("--json", help="write the figures to this file too")
    ARGS = args = ap.parse_args()
    chosen = [STRATEGIES.index(s) for s in (args.only or STRATEGIES)]
    tmp = tempfile.mkdtemp(prefix="bench-coalesce-")
    out = []
    with FakeAWS(seed=make_seed(args, chosen), tmp_dir=tmp, startup_timeout=180) as fake:
        for s in chosen:
            r = run_strategy(args, fake, s, tmp)
            out.append(r)
            print(json.dumps(r), flush=True)
    base = next((r for r in out if r["strategy"] == "per-window"), None)
    print("\n%-11s %8s %8s %10s %12s %12s %9s" % ("strategy", "tasks", "planned", "API calls",
                                                   "makespan", "(model)", "DLS/group"))
    for r in out:
        print("%-11s %8d %8s %10d %12s %12s %9.2f" % (
            r["strategy"], r["tasks"], r["planned_tasks"], r["api_calls_total"],
            fmt_days(r["makespan_measured_s"]), fmt_days(r["makespan_model_s"]),
            r["describe_log_streams_per_group"]))
    if base:
        for r in out:
            if r is base or not r["tasks"]:
                continue
            print("%s vs per-window: %.1f %% fewer tasks (%.1fx), makespan %.1fx shorter "
                  "(model %.1fx)" % (
                      r["strategy"], 100.0 * (1 - r["tasks"] / base["tasks"]),
                      base["tasks"] / r["tasks"],
                      base["makespan_measured_s"] / max(1, r["makespan_measured_s"]),
                      base["makespan_model_s"] / max(1, r["makespan_model_s"])))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


ARGS = None

if __name__ == "__main__":
    main()
