#!/usr/bin/python3
"""bench/handoff: how well each strategy keeps one account's export slot busy.

One account, 100 jobs whose export durations are drawn from a seeded
log-normal distribution (median 120 s, sigma 1.0, clipped to 20 s–1 h). The
whole run is at 1/SCALE time in the fake, and every interval of every
strategy is scaled alike. Three strategies run side by side, each in its own
account of one fake (identical log groups):

  cwexport   the real binary (poll 5 s..60 s, scaled)
  stepfn     the original Step Functions design: every job created at once
             (Map state); on LimitExceededException retry after 60 s with
             backoff x10, 5 attempts; then Wait 30 s / DescribeExportTasks
  loop30     one job at a time: create, then wait 30 s and describe, again

Prints per strategy: makespan, the sum of task durations, efficiency =
sum / makespan, mean and p95 gap between a task's end and the next
task's creation, DescribeExportTasks and CreateExportTask calls per job.
Figures only; never asserted.

usage: bench/handoff.py [--binary build/release/cli/cwexport] [--jobs 100] [--scale 200]
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakeaws"))
from fixture import FakeAWS, botocore_client  # noqa: E402
from timeline import Timeline  # noqa: E402

PENDING_S = 20.0
THROUGHPUT = 2e7
STRATEGIES = ["cwexport", "stepfn", "loop30"]


def durations(n, seed=42):
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        d = math.exp(rnd.gauss(math.log(120.0), 1.0))
        out.append(min(3600.0, max(20.0 + 5.0, d)))  # ≥ the fake's pending + min running
    return out


def acct(i):
    return "%012d" % (300000000000 + i)


def key(a):
    return {"access_key": "AKIABENCH000" + a[-8:], "secret": ("benchsecret" + a + "y" * 40)[:40],
            "account": a}


def make_seed(durs, scale):
    groups = []
    for s in range(len(STRATEGIES)):
        for j, d in enumerate(durs):
            # One day window (yesterday) holding (d - pending) s of export work.
            bpd = (d - PENDING_S) * THROUGHPUT
            groups.append({"name": "/bench/job%03d" % j, "account": acct(s), "region": "us-east-1",
                           "created": "now-10d", "bytes_per_day": bpd, "streams": 1})
    return {
        "settings": {"time_factor": 1.0 / scale, "jitter": 0.0, "pending_delay_s": PENDING_S,
                     "throughput_bps": THROUGHPUT, "min_running_s": 5.0, "rng_seed": 3,
                     "timeline_requests": True},
        "accounts": [{"id": acct(s), "name": n, "keys": [key(acct(s))]} for s, n in enumerate(STRATEGIES)],
        "buckets": [{"name": "bench-%s" % acct(s), "account": acct(s), "region": "us-east-1"}
                    for s in range(len(STRATEGIES))],
        "log_groups": groups,
    }


def day_window():
    now = time.time()
    day = 86400
    start = (int(now) // day - 1) * day  # yesterday 00:00 UTC; settled after 12 h today
    return start * 1000, (start + day) * 1000 - 1


def run_cwexport(binary, fake, n, scale, tmp):
    a = acct(0)
    cfg = {"version": 1,
           "defaults": {"region": "us-east-1", "window": "day", "settle": "1s",
                        # The API rate limiter is scaled like every interval.
                        "api_rate": min(10000, 5 * scale),
                        "destination": {"bucket": "bench-" + a},
                        # The config refuses poll.min under 100 ms: at 1/200 the
                        # 5 s minimum (25 ms) is raised to 100 ms.
                        "poll": {"min": "%dms" % max(100, round(5000 / scale)),
                                 "max": "%dms" % max(100, round(60000 / scale))}},
           "range": {"last": 1},
           "accounts": [{"name": "cwexport", "account_id": a, "log_groups": [{"prefix": "/bench/"}]}]}
    path = os.path.join(tmp, "handoff.yaml")
    with open(path, "w") as f:
        json.dump(cfg, f)
    env = dict(os.environ)
    env.update(fake.env(key(a)))
    summary = os.path.join(tmp, "summary.json")
    p = subprocess.run([binary, "run", "-c", path, "--summary", summary, "--progress", "none"],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        print("cwexport exit %d:\n%s" % (p.returncode, p.stderr[-3000:]), file=sys.stderr)


def _client(fake, a):
    return botocore_client(fake, "logs", key=key(a))


def run_stepfn(fake, n, scale, frm, to):
    a = acct(1)
    c = _client(fake, a)
    lock = threading.Lock()
    failed = []

    def job(j):
        name = "/bench/job%03d" % j
        delay = 60.0
        tid = None
        for attempt in range(5):
            try:
                with lock:
                    r = c.create_export_task(logGroupName=name, fromTime=frm, to=to,
                                             destination="bench-" + a, destinationPrefix="sf/%03d" % j)
                tid = r["taskId"]
                break
            except c.exceptions.LimitExceededException:
                time.sleep(delay / scale)
                delay *= 10
        if tid is None:
            failed.append(j)
            return
        while True:
            time.sleep(30.0 / scale)
            with lock:
                t = c.describe_export_tasks(taskId=tid)["exportTasks"][0]
            if t["status"]["code"] not in ("PENDING", "RUNNING"):
                return

    threads = [threading.Thread(target=job, args=(j,)) for j in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failed


def run_loop30(fake, n, scale, frm, to):
    a = acct(2)
    c = _client(fake, a)
    for j in range(n):
        while True:
            try:
                tid = c.create_export_task(logGroupName="/bench/job%03d" % j, fromTime=frm, to=to,
                                           destination="bench-" + a,
                                           destinationPrefix="l30/%03d" % j)["taskId"]
                break
            except c.exceptions.LimitExceededException:
                time.sleep(30.0 / scale)
        while True:
            time.sleep(30.0 / scale)
            t = c.describe_export_tasks(taskId=tid)["exportTasks"][0]
            if t["status"]["code"] not in ("PENDING", "RUNNING"):
                break


def figures(events, a, n, scale):
    tl = Timeline([e for e in events if e.get("account") == a])
    tasks = sorted((t for t in tl.tasks().values() if t["ended"] is not None), key=lambda t: t["created"])
    if not tasks:
        return None
    makespan = (tasks[-1]["ended"] - tasks[0]["created"]) * scale
    busy = sum((t["ended"] - t["created"]) for t in tasks) * scale
    gaps = sorted(g * scale for g in tl.idle_gaps().get(a, []))
    calls = tl.api_calls()
    p95 = gaps[min(len(gaps) - 1, int(0.95 * len(gaps)))] if gaps else 0.0
    return {"tasks": len(tasks), "makespan_s": makespan, "task_sum_s": busy,
            "efficiency": busy / makespan if makespan else 0.0,
            "gap_mean_s": sum(gaps) / len(gaps) if gaps else 0.0, "gap_p95_s": p95,
            "describe_per_job": calls.get("DescribeExportTasks", 0) / n,
            "create_per_job": calls.get("CreateExportTask", 0) / n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "release", "cli", "cwexport"))
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--scale", type=float, default=200.0)
    ap.add_argument("--only", choices=STRATEGIES, action="append")
    args = ap.parse_args()
    durs = durations(args.jobs)
    frm, to = day_window()
    only = args.only or STRATEGIES
    with tempfile.TemporaryDirectory() as tmp, FakeAWS(seed=make_seed(durs, args.scale), tmp_dir=tmp) as fake:
        threads = []
        if "cwexport" in only:
            threads.append(threading.Thread(target=run_cwexport,
                                            args=(args.binary, fake, args.jobs, args.scale, tmp)))
        if "stepfn" in only:
            threads.append(threading.Thread(target=run_stepfn, args=(fake, args.jobs, args.scale, frm, to)))
        if "loop30" in only:
            threads.append(threading.Thread(target=run_loop30, args=(fake, args.jobs, args.scale, frm, to)))
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        events = fake.timeline()
    print("bench/handoff: %d jobs, durations log-normal(median 120 s, sigma 1) clipped, "
          "sum %.0f s, time scale 1/%g, wall %.1f s" % (args.jobs, sum(durs), args.scale, wall))
    print("%-10s %6s %11s %11s %10s %10s %10s %12s %10s" % (
        "strategy", "tasks", "makespan_s", "task_sum_s", "efficiency", "gap_mean", "gap_p95",
        "describe/job", "create/job"))
    for s, name in enumerate(STRATEGIES):
        if name not in only:
            continue
        f = figures(events, acct(s), args.jobs, args.scale)
        if not f:
            print("%-10s (no tasks)" % name)
            continue
        print("%-10s %6d %11.0f %11.0f %10.4f %10.2f %10.2f %12.2f %10.2f" % (
            name, f["tasks"], f["makespan_s"], f["task_sum_s"], f["efficiency"], f["gap_mean_s"],
            f["gap_p95_s"], f["describe_per_job"], f["create_per_job"]))


if __name__ == "__main__":
    main()
