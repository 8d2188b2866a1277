#!/usr/bin/python3
"""bench/plan_online: `cwexport plan` against the fake AWS at backfill scale.

2,000 log groups x 36 months (72,000 jobs) in one lane, 30,000 of them done
(markers in the lane's marker index; the world comes from
bench/plan_online_seed.py). Runs `cwexport plan -c FILE --format json >
/dev/null` under `/usr/bin/time -f "%e %M"` and prints the AWS calls the fake
saw (from /_fake/stats), S3 list calls against the marker index's pages
(expected: ceil(markers / 1000) = 30 per lane), wall time and peak RSS, and
checks the JSON's totals against the seed (done = markers). Figures only;
never asserted in CI.

usage: bench/plan_online.py [--binary build/release/cli/cwexport] [--groups 2000]
                            [--months 36] [--marked 15] [--runs 1] [--detect marker|objects]

With --detect objects the plan also lists each group's data root once (the
groups with windows left after the markers): expect 30 + 2,000 list calls.
"""
import argparse
import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fakeaws"))
sys.path.insert(0, str(ROOT / "bench"))

from fixture import FakeAWS  # noqa: E402
import plan_online_seed as world  # noqa: E402


def default_binary():
    env = os.environ.get("CWX_BIN")
    if env:
        return env
    for sub in ("build/release", "build/online-rel", "build", "build/online"):
        cand = ROOT / sub / "cli" / "cwexport"
        if cand.exists():
            return str(cand)
    return str(ROOT / "build/release/cli/cwexport")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=default_binary())
    ap.add_argument("--groups", type=int, default=2000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--marked", type=int, default=15, help="newest months with a marker")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--detect", choices=["marker", "objects"], default="marker")
    a = ap.parse_args()
    if not os.access(a.binary, os.X_OK):
        sys.exit("build cwexport first (or pass --binary): %s" % a.binary)

    with tempfile.TemporaryDirectory(prefix="plan-online-") as tmp:
        cfg = pathlib.Path(tmp) / "bench.yaml"
        cfg.write_text(json.dumps(world.config(a.months, detect=a.detect), indent=1) + "\n")
        t0 = time.monotonic()
        with FakeAWS(seed=world.seed(a.groups, a.marked), tmp_dir=tmp, startup_timeout=300) as fake:
            print("plan_online: fake ready in %.1f s: %d groups, %d markers" % (
                time.monotonic() - t0, a.groups,
                len(fake.s3_list(world.BUCKET, "_cwexport/"))), flush=True)
            markers = a.groups * min(a.marked, a.months)
            env = dict(os.environ)
            for k in list(env):
                if k.startswith("AWS_"):
                    del env[k]
            env.update(fake.env(world.KEY))
            for run in range(a.runs):
                before = fake.stats()["by_operation"]
                out = pathlib.Path(tmp) / "plan.json"
                timing = pathlib.Path(tmp) / "time"
                with open(out, "w") as f:
                    p = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", str(timing),
                                        a.binary, "plan", "-c", str(cfg), "--format", "json"],
                                       env=env, stdout=f, stderr=subprocess.PIPE, text=True)
                if p.returncode != 0:
                    sys.exit("cwexport plan exited %d:\n%s" % (p.returncode, p.stderr[-2000:]))
                wall, rss_kb = timing.read_text().split()[-2:]
                after = fake.stats()["by_operation"]
                ops = {k: after.get(k, 0) - before.get(k, 0) for k in after
                       if after.get(k, 0) != before.get(k, 0)}
                doc = json.loads(out.read_text())
                t = doc["totals"]
                lanes = len(doc.get("lanes", [])) or 1
                lists = ops.get("ListObjectsV2", 0)
                pages = math.ceil(markers / 1000)
                roots = a.groups if a.detect == "objects" and a.marked < a.months else 0
                print("plan_online run %d: %d jobs (%d done, %d pending, %d skipped) in %s s wall, "
                      "peak RSS %.1f MiB" % (run + 1, t["jobs"], t["done"], t["pending"], t["skipped"],
                                             wall, int(rss_kb) / 1024))
                print("  S3 ListObjectsV2: %d calls for %d lane(s) = %.1f per lane; marker index: "
                      "%d markers = %d pages%s" % (lists, lanes, lists / lanes, markers, pages,
                                                   "; + %d data roots" % roots if roots else ""))
                print("  AWS calls: %s (%d in all)" % (
                    ", ".join("%s %d" % kv for kv in sorted(ops.items())), sum(ops.values())))
                if t["done"] != markers:
                    print("  WARNING: %d jobs done, %d markers seeded" % (t["done"], markers))


if __name__ == "__main__":
    main()
