#!/usr/bin/python3
"""bench/sfn_polls: DescribeExportTasks per job of the state machine that
`cwexport sfn` emits, against bench/handoff's cwexport strategy (the real
binary) on the same export durations.

The jobs and their durations are bench/handoff's (log-normal, median 120 s,
sigma 1, clipped), one day window each, in one fake AWS at 1/SCALE time:
account 300000000000 runs `cwexport run` with poll {min: 5s, max: 60s}
scaled (bench/handoff's run_cwexport), account 300000000001 runs the
machine emitted for the same groups (poll {min: 5s, max: 60s}; its poll
schedule comes from the online plan's predictions) under
aws-local-stepfunctions with its waits run at 1/SCALE
(tests/sfn/run-machine.mjs --time-scale). Both at once. Counted: every
DescribeExportTasks of cwexport's account (its reconciliation included),
and every DescribeExportTasks the machine made. Figures only; the test
tests/sfn/test_sfn.py runs it small.

usage: bench/sfn_polls.py [--binary build/release/cli/cwexport] [--jobs 20] [--scale 200]
                          [--node-dir DIR]   (DIR holds run-machine.mjs and its node_modules)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import handoff  # noqa: E402
from handoff import FakeAWS, Timeline  # noqa: E402

SFN = 1  # the account index (handoff's "stepfn" account) the machine runs in


def run_machine(binary, node_dir, fake, scale, tmp):
    """Emits the machine for account SFN and runs it; returns (calls, outcomes)."""
    a = handoff.acct(SFN)
    cfg = {"version": 1,
           "defaults": {"region": "us-east-1", "window": "day", "settle": "1s",
                        "destination": {"bucket": "bench-" + a}},
           "range": {"last": 1},
           "accounts": [{"name": "sfn", "account_id": a, "log_groups": [{"prefix": "/bench/"}]}]}
    path = os.path.join(tmp, "sfn.yaml")
    with open(path, "w") as f:
        json.dump(cfg, f)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(fake.env(handoff.key(a)))
    out = os.path.join(tmp, "sfn")
    p = subprocess.run([binary, "sfn", "-c", path, "-o", out], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("cwexport sfn exit %d:\n%s" % (p.returncode, p.stderr[-3000:]))
    calls = os.path.join(tmp, "sfn-calls.json")
    d = os.path.join(out, "sfn")
    p = subprocess.run(["node", "run-machine.mjs", os.path.join(d, "state-machine.asl.json"),
                        os.path.join(d, "input.json"), "--calls", calls, "--time-scale", str(scale)],
                       cwd=node_dir, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("run-machine exit %d:\n%s" % (p.returncode, p.stderr[-3000:]))
    with open(calls) as f:
        made = json.load(f)
    outcomes = [o for lane in json.loads(p.stdout) for o in lane]
    with open(os.path.join(d, "input.json")) as f:
        jobs = json.load(f)["Lanes"][0]["Jobs"]
    return made, outcomes, jobs


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "release", "cli", "cwexport"))
    ap.add_argument("--jobs", type=int, default=20)
    ap.add_argument("--scale", type=float, default=200.0)
    ap.add_argument("--node-dir", default=os.path.join(ROOT, "tests", "sfn"))
    args = ap.parse_args(argv)
    durs = handoff.durations(args.jobs)
    print("bench/sfn_polls: %d jobs, durations log-normal(median 120 s, sigma 1) clipped, "
          "sum %.0f s, time scale 1/%g" % (args.jobs, sum(durs), args.scale))
    result = {}
    with tempfile.TemporaryDirectory() as tmp, \
            FakeAWS(seed=handoff.make_seed(durs, args.scale), tmp_dir=tmp) as fake:
        t0 = time.monotonic()

        def cli():
            handoff.run_cwexport(args.binary, fake, args.jobs, args.scale, tmp)
            result["cwexport_wall"] = time.monotonic() - t0

        def machine():
            result["sfn"] = run_machine(args.binary, args.node_dir, fake, args.scale, tmp)
            result["sfn_wall"] = time.monotonic() - t0

        threads = [threading.Thread(target=cli), threading.Thread(target=machine)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        f = handoff.figures(fake.timeline(), handoff.acct(0), args.jobs, args.scale)
        made, outcomes, jobs = result["sfn"]
        sf = handoff.figures(fake.timeline(), handoff.acct(SFN), args.jobs, args.scale)
    describes = sum(1 for c in made if c["op"] == "DescribeExportTasks")
    exported = sum(1 for o in outcomes if o["Outcome"] == "exported")
    cw = f["describe_per_job"] if f else float("nan")
    sm = describes / args.jobs
    print("%-10s %5s %12s %10s %11s" % ("strategy", "jobs", "describe/job", "create/job", "makespan_s"))
    print("%-10s %5d %12.2f %10.2f %11.0f   wall %.1f s" % (
        "cwexport", args.jobs, cw, f["create_per_job"] if f else 0, f["makespan_s"] if f else 0,
        result["cwexport_wall"]))
    print("%-10s %5d %12.2f %10.2f %11.0f   wall %.1f s (%d exported, %d in the input)" % (
        "sfn", args.jobs, sm, sf["create_per_job"] if sf else 0, sf["makespan_s"] if sf else 0,
        result["sfn_wall"], exported, len(jobs)))
    return {"cwexport": cw, "sfn": sm, "exported": exported}


if __name__ == "__main__":
    main()
