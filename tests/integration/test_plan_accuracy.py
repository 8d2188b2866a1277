"""The plan's projections against the run that follows it, on the fake: per
lane, the projected makespan within ±25 % of the run's (first task created to
last task ended) and the DescribeExportTasks estimate within ±30 % of the
calls the run made. Both worlds first see a shorter run that leaves the lanes'
time models (_model.json) behind, as a real backfill's earlier nights do:
the demo config (its 6 newest months, after a run of the 3 before them), and
a 300-job world of one-day windows whose export durations are drawn from a
log-normal distribution (median 30 s, sigma 1; after a 40-job run of the same
distribution), with the fake's ±20 % jitter on every task."""
import json
import math
import os
import random
import subprocess
import time

import pytest

from fixture import FakeAWS, demo_seed
from timeline import Timeline

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = open(os.path.join(ROOT, "configs", "demo.yaml")).read()
LAST6 = "  last: 6                       # the 6 newest settled months"


def _env(fake, key=None):
    e = fake.env(key) if key else fake.env()
    e.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
             AWS_EC2_METADATA_DISABLED="true")
    return e


def _plan(cwx, cfg, env):
    p = cwx("plan", "-c", cfg, "--format", "json", env=env, check=0, timeout=300)
    return json.loads(p.stdout)


def _measure(fake, lanes):
    """Per lane (account id): (makespan s, DescribeExportTasks calls) of the run."""
    tl = Timeline(fake.timeline())
    out = {}
    for acct in lanes:
        ts = [t for t in tl.tasks().values() if t["account"] == acct and t["ended"] is not None]
        span = max(t["ended"] for t in ts) - min(t["created"] for t in ts)
        calls = sum(1 for e in tl.requests()
                    if e["op"] == "DescribeExportTasks" and e["account"] == acct)
        out[acct] = (span, calls)
    return out


def _check(doc, measured):
    report = []
    for lane in doc["lanes"]:
        if not lane["pending"]:
            continue
        span, calls = measured[lane["account_id"]]
        plan_s = lane["est_backfill_seconds"]
        plan_calls = lane["aws_calls"]["describe_export_tasks"]
        est = lane["estimates"]
        assert est["makespan_seconds"]["source"] == "model"
        assert est["makespan_seconds"]["low"] <= plan_s <= est["makespan_seconds"]["high"]
        report.append("%s: makespan plan %.1f s run %.1f s (%+.0f %%); DescribeExportTasks plan "
                      "%d run %d (%+.0f %%)" % (lane["account"], plan_s, span,
                                               100 * (plan_s / span - 1), plan_calls, calls,
                                               100 * (plan_calls / calls - 1)))
        print(report[-1])
    for lane in doc["lanes"]:
        if not lane["pending"]:
            continue
        span, calls = measured[lane["account_id"]]
        assert abs(lane["est_backfill_seconds"] / span - 1) <= 0.25, report
        assert abs(lane["aws_calls"]["describe_export_tasks"] / calls - 1) <= 0.30, report


def _month_back(label, k):
    y, m = map(int, label.split("-"))
    m -= k
    while m < 1:
        m += 12
        y -= 1
    return "%04d-%02d" % (y, m)


def test_demo_config(cwx, tmp_path):
    with FakeAWS(seed=demo_seed(), tmp_dir=tmp_path) as fake:
        env = _env(fake)
        b = tmp_path / "b.yaml"
        b.write_text(DEMO)
        months = sorted({j["window"] for j in _plan(cwx, b, env)["jobs"]})
        a = tmp_path / "a.yaml"
        a.write_text(DEMO.replace(LAST6, "  from: %s\n  to: %s" % (
            _month_back(months[0], 3), _month_back(months[0], 1))))
        cwx("run", "-c", a, "--progress", "none", env=env, check=0, timeout=600)
        doc = _plan(cwx, b, env)
        fake.clear_timeline()
        cwx("run", "-c", b, "--progress", "none", env=env, check=0, timeout=600)
        _check(doc, _measure(fake, [l["account_id"] for l in doc["lanes"]]))


# The fake's clock runs 200 times faster: the run's own latencies (a few ms
# a call) stay small next to poll.min (5 s → 25 ms).
SCALE = 200.0
PENDING_S = 5.0
THROUGHPUT = 2e7
MEDIAN_S = 30.0
ACCT = "333333333333"
KEY = {"access_key": "AKIAACCURACY00000001", "secret": "accuracysecret" + "z" * 26,
       "account": ACCT}


def _durations(n, seed):
    rnd = random.Random(seed)
    return [min(900.0, max(PENDING_S + 5.0, math.exp(rnd.gauss(math.log(MEDIAN_S), 1.0))))
            for _ in range(n)]


def test_lognormal_300_jobs(cwx, tmp_path):
    groups = []
    for prefix, n, seed in (("/first/", 40, 1), ("/backfill/", 300, 2)):
        for j, d in enumerate(_durations(n, seed)):
            groups.append({"name": "%sjob%03d" % (prefix, j), "account": ACCT,
                           "region": "us-east-1", "created": "now-10d", "streams": 1,
                           "bytes_per_day": (d - PENDING_S) * THROUGHPUT})
    seed = {"settings": {"time_factor": 1.0 / SCALE, "jitter": 0.2, "pending_delay_s": PENDING_S,
                         "throughput_bps": THROUGHPUT, "min_running_s": 2.0, "rng_seed": 5},
            "accounts": [{"id": ACCT, "name": "acc", "keys": [KEY]}],
            "buckets": [{"name": "acc-" + ACCT, "account": ACCT, "region": "us-east-1"}],
            "log_groups": groups}
    with FakeAWS(seed=seed, tmp_dir=tmp_path) as fake:
        env = _env(fake, KEY)

        def config(name, prefix):
            cfg = {"version": 1,
                   "defaults": {"region": "us-east-1", "window": "day", "settle": "1s",
                                "api_rate": 1000, "destination": {"bucket": "acc-" + ACCT},
                                # poll {min: 5s, max: 60s} at the fake's time scale
                                "poll": {"min": "25ms", "max": "300ms"}},
                   "range": {"last": 1},
                   "accounts": [{"name": "acc", "account_id": ACCT,
                                 "log_groups": [{"prefix": prefix}]}]}
            path = tmp_path / name
            path.write_text(json.dumps(cfg))
            return path

        cwx("run", "-c", config("first.yaml", "/first/"), "--progress", "none", env=env,
            check=0, timeout=600)
        b = config("backfill.yaml", "/backfill/")
        doc = _plan(cwx, b, env)
        assert doc["lanes"][0]["pending"] == 300
        fake.clear_timeline()
        cwx("run", "-c", b, "--progress", "none", env=env, check=0, timeout=600)
        _check(doc, _measure(fake, [ACCT]))
