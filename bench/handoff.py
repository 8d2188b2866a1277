#!/usr/bin/python3
"""bench/handoff: how well each strategy keeps one account's export slot busy.

One account, 100 jobs whose export durations are drawn from a seeded
log-normal distribution (median 120 s, sigma 1.0, clipped to 20 s–1 h). The
whole run is at 1/SCALE time in the fake, and every interval of every
strategy is scaled alike. Three strategies run side by side, at once, each
in its own account of one fake (identical log groups); each one's figures
are printed as soon as it finishes:

  cwexport   the real binary (poll {min: 5s, max: 60s}, scaled)
  stepfn     the original Step Functions design: every job created at once
             (Map state); on LimitExceededException retry after 60 s with
             backoff x10, 5 attempts (Step Functions' MaxAttempts: 5 retries
             after the first call), then the job fails; a created task is
             waited on with Wait 30 s / DescribeExportTasks
  loop30     one job at a time: create, then wait 30 s and describe, again

stepfn's retry waits reach 600000 s (50 min even at 1/200). While every one
of its jobs sleeps in such a wait and none of its tasks is active, nothing
can happen in its account, so the bench fast-forwards its clock to the
first wake-up (a virtual clock, like a discrete-event simulation) and adds
the skipped time to its timeline: its figures are those of the real
schedule, and the bench stays bounded (--stepfn-jobs runs it on fewer jobs).

A fourth account measures what the remembered lane time model
(`_model.json`) is worth on short runs, like the nightly ones: a 12-job
cwexport run on a lane with no model yet ("cwexport-12 first"), then a second
run of 12 other jobs of the same lane, which reads the model the first one
wrote ("cwexport-12 model"). Durations drawn from the same distribution
(seed 12).

Prints per strategy: makespan, the sum of task durations, efficiency =
sum / makespan, mean and p95 gap between a task's end and the next task's
creation, DescribeExportTasks and CreateExportTask calls per job, and jobs
that never got a task. Figures only; never asserted.

usage: bench/handoff.py [--binary build/release/cli/cwexport] [--jobs 100] [--scale 200]
                        [--only cwexport|stepfn|loop30|model ...] [--stepfn-jobs N] [--timeline FILE]
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
STRATEGIES = ["cwexport", "stepfn", "loop30", "model"]
MODEL_JOBS = 12


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


def _group(name, a, d):
    # One day window (yesterday) holding (d - pending) s of export work.
    return {"name": name, "account": a, "region": "us-east-1", "created": "now-10d",
            "bytes_per_day": (d - PENDING_S) * THROUGHPUT, "streams": 1}


def make_seed(durs, scale):
    groups = []
    for s in range(len(STRATEGIES) - 1):
        for j, d in enumerate(durs):
            groups.append(_group("/bench/job%03d" % j, acct(s), d))
    model = STRATEGIES.index("model")
    for j, d in enumerate(durations(2 * MODEL_JOBS, seed=12)):
        groups.append(_group("/bench12/%s%02d" % ("ab"[j // MODEL_JOBS], j % MODEL_JOBS), acct(model), d))
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


def run_cwexport(binary, fake, n, scale, tmp, a=None, prefix="/bench/", tag="handoff"):
    a = a or acct(0)
    cfg = {"version": 1,
           "defaults": {"region": "us-east-1", "window": "day", "settle": "1s",
                        # The API rate limiter is scaled like every interval.
                        "api_rate": min(10000, 5 * scale),
                        "destination": {"bucket": "bench-" + a},
                        # The default poll {min: 5s, max: 60s}, scaled (the config
                        # takes down to 10 ms, for tests and fakes like this one).
                        "poll": {"min": "%dms" % max(10, round(5000 / scale)),
                                 "max": "%dms" % max(10, round(60000 / scale))},
                        # The lane lease's default ttl (2m), scaled (1 s at least).
                        "lease": {"ttl": "%dms" % max(1000, round(120000 / scale))}},
           "range": {"last": 1},
           "accounts": [{"name": "cwexport", "account_id": a, "log_groups": [{"prefix": prefix}]}]}
    path = os.path.join(tmp, tag + ".yaml")
    with open(path, "w") as f:
        json.dump(cfg, f)
    env = dict(os.environ)
    env.update(fake.env(key(a)))
    summary = os.path.join(tmp, tag + "-summary.json")
    p = subprocess.run([binary, "run", "-c", path, "--summary", summary, "--progress", "none"],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        print("cwexport exit %d:\n%s" % (p.returncode, p.stderr[-3000:]), file=sys.stderr)
    # The lease's S3 requests (acquire, renews, release) per lane-hour of real time.
    try:
        with open(summary) as f:
            lane = json.load(f)["lanes"][0]
        hours = lane["duration_s"] * scale / 3600.0
        lease = lane.get("lease") or {}
        if hours > 0 and lease:
            print("cwexport lease: %d S3 requests (%d renews) in %.2f lane-hours at ttl %.0f s: "
                  "%.1f per lane-hour" % (lease["requests"], lease["renews"], hours,
                                          max(1000, round(120000 / scale)) * scale / 1000.0,
                                          lease["requests"] / hours))
    except (OSError, ValueError, KeyError, IndexError) as e:
        print("no lease figures: %s" % e, file=sys.stderr)


def _client(fake, a):
    return botocore_client(fake, "logs", key=key(a))


class VirtualClock:
    """The stepfn strategy's clock: real time plus the idle spans skipped.

    Each job thread sleeps through sleep(); a sleeper registers its virtual
    deadline. When every live job is asleep and none of them has a task
    active (`busy` counts the jobs between a successful create and their
    task's end), the clock jumps to the earliest deadline. Skips are
    recorded as (wall time, seconds) to shift the timeline afterwards."""

    def __init__(self, jobs):
        self.cv = threading.Condition()
        self.offset = 0.0
        self.live = jobs
        self.sleepers = {}
        self.busy = 0
        self.skips = []

    def now(self):
        return time.monotonic() + self.offset

    def sleep(self, s):
        with self.cv:
            me = object()
            deadline = self.now() + s
            self.sleepers[me] = deadline
            try:
                while True:
                    self._maybe_skip()
                    left = deadline - self.now()
                    if left <= 0:
                        return
                    self.cv.wait(left)
            finally:
                del self.sleepers[me]

    def _maybe_skip(self):
        if self.busy or not self.sleepers or len(self.sleepers) < self.live:
            return
        first = min(self.sleepers.values())
        skip = first - self.now()
        if skip > 0.001:
            self.offset += skip
            self.skips.append((time.time(), skip))
            self.cv.notify_all()

    def task_started(self):
        with self.cv:
            self.busy += 1

    def task_ended(self):
        with self.cv:
            self.busy -= 1
            self._maybe_skip()

    def job_done(self):
        with self.cv:
            self.live -= 1
            self._maybe_skip()
            self.cv.notify_all()

    def shift(self, wall):
        """Seconds skipped before wall time `wall`."""
        return sum(s for w, s in self.skips if w <= wall)


def run_stepfn(fake, n, scale, frm, to, clock):
    a = acct(1)
    c = _client(fake, a)
    lock = threading.Lock()
    failed = []

    def job(j):
        try:
            name = "/bench/job%03d" % j
            delay = 60.0
            tid = None
            for attempt in range(1 + 5):  # the first call, then MaxAttempts 5 retries
                try:
                    with lock:
                        r = c.create_export_task(logGroupName=name, fromTime=frm, to=to,
                                                 destination="bench-" + a, destinationPrefix="sf/%03d" % j)
                    tid = r["taskId"]
                    clock.task_started()
                    break
                except c.exceptions.LimitExceededException:
                    if attempt == 5:
                        break
                    clock.sleep(delay / scale)
                    delay *= 10
            if tid is None:
                failed.append(j)
                return
            while True:
                clock.sleep(30.0 / scale)
                with lock:
                    t = c.describe_export_tasks(taskId=tid)["exportTasks"][0]
                if t["status"]["code"] not in ("PENDING", "RUNNING"):
                    clock.task_ended()
                    return
        finally:
            clock.job_done()

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


def run_model(binary, fake, scale, tmp):
    """The two 12-job runs of one lane: (first, second) figures."""
    a = acct(STRATEGIES.index("model"))
    run_cwexport(binary, fake, MODEL_JOBS, scale, tmp, a, "/bench12/a", "model-first")
    events = fake.timeline()
    cut = max((e["seq"] for e in events), default=0)
    first = figures(events, a, MODEL_JOBS, scale)
    run_cwexport(binary, fake, MODEL_JOBS, scale, tmp, a, "/bench12/b", "model-next")
    second = figures([e for e in fake.timeline() if e["seq"] > cut], a, MODEL_JOBS, scale)
    return first, second


def figures(events, a, n, scale, shift=None):
    evs = [dict(e) for e in events if e.get("account") == a]
    if shift:
        for e in evs:
            e["t"] = e["t"] + shift(e["wall"])
    tl = Timeline(evs)
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


HEADER = "%-17s %5s %6s %11s %11s %10s %9s %9s %12s %10s %6s" % (
    "strategy", "jobs", "tasks", "makespan_s", "task_sum_s", "efficiency", "gap_mean", "gap_p95",
    "describe/job", "create/job", "failed")


def line(name, jobs, f, failed, wall, note=""):
    if not f:
        return "%-17s %5d (no tasks) wall %.1f s%s" % (name, jobs, wall, note)
    return "%-17s %5d %6d %11.0f %11.0f %10.4f %9.2f %9.2f %12.2f %10.2f %6d   wall %.1f s%s" % (
        name, jobs, f["tasks"], f["makespan_s"], f["task_sum_s"], f["efficiency"], f["gap_mean_s"],
        f["gap_p95_s"], f["describe_per_job"], f["create_per_job"], failed, wall, note)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "release", "cli", "cwexport"))
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--scale", type=float, default=200.0)
    ap.add_argument("--only", choices=STRATEGIES, action="append")
    ap.add_argument("--stepfn-jobs", type=int, default=None,
                    help="run the Step Functions strategy on the first N jobs only")
    ap.add_argument("--timeline", help="write the fake's timeline (JSON) to this file")
    args = ap.parse_args()
    durs = durations(args.jobs)
    frm, to = day_window()
    only = args.only or STRATEGIES
    sf_jobs = min(args.jobs, args.stepfn_jobs or args.jobs)
    out = threading.Lock()
    print("bench/handoff: %d jobs, durations log-normal(median 120 s, sigma 1) clipped, "
          "sum %.0f s, time scale 1/%g; strategies side by side: %s" % (
              args.jobs, sum(durs), args.scale, ", ".join(only)))
    if "stepfn" in only and sf_jobs < args.jobs:
        print("bench/handoff: stepfn runs on the first %d jobs only (--stepfn-jobs)" % sf_jobs)
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory() as tmp, FakeAWS(seed=make_seed(durs, args.scale), tmp_dir=tmp) as fake:
        t0 = time.monotonic()
        clock = VirtualClock(sf_jobs)
        results = {}

        def runner(name):
            failed = 0
            shift = None
            note = ""
            jobs = args.jobs
            if name == "model":
                first, second = run_model(args.binary, fake, args.scale, tmp)
                wall = time.monotonic() - t0
                results["model"] = (first, second)
                with out:
                    print(line("cwexport-12 first", MODEL_JOBS, first, 0, wall, " (no model yet)"),
                          flush=True)
                    print(line("cwexport-12 model", MODEL_JOBS, second, 0, wall,
                               " (reads the first run's _model.json)"), flush=True)
                return
            if name == "cwexport":
                run_cwexport(args.binary, fake, args.jobs, args.scale, tmp)
            elif name == "stepfn":
                jobs = sf_jobs
                failed = len(run_stepfn(fake, sf_jobs, args.scale, frm, to, clock))
                shift = clock.shift
                if clock.skips:
                    note = " (+%.0f s of idle backoff fast-forwarded)" % sum(x for _, x in clock.skips)
            else:
                run_loop30(fake, args.jobs, args.scale, frm, to)
            wall = time.monotonic() - t0
            f = figures(fake.timeline(), acct(STRATEGIES.index(name)), jobs, args.scale, shift)
            results[name] = f
            with out:
                print(line(name, jobs, f, failed, wall, note), flush=True)

        threads = [threading.Thread(target=runner, args=(name,)) for name in STRATEGIES if name in only]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if args.timeline:
            with open(args.timeline, "w") as fh:
                json.dump(fake.timeline(), fh)
    print("bench/handoff: wall %.1f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    main()
