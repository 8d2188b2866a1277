#!/usr/bin/python3
"""bench/plan_online_seed: the fake AWS world of bench/plan_online.

One account (123456789012, us-east-1) with GROUPS log groups /bench/g0000...
created five years ago, a bucket `bench-archive`, and the markers of the
MARKED newest settled months of every group (GROUPS x MARKED markers: 2,000 x
15 = 30,000 by default) in the lane's marker index
`_cwexport/123456789012/us-east-1/bench/gNNNN/YYYY-MM.json`. The fake
generates groups and objects itself from the two generators below, so the
seed stays a few hundred bytes.

usage: bench/plan_online_seed.py [--groups 2000] [--marked 15] > seed.json
"""
import argparse
import json
import sys

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "bench-archive"
KEY = {"access_key": "AKIABENCHPLANONLINE1", "secret": "benchplanonlinesecret" + "x" * 19,
       "account": ACCOUNT}


def seed(groups=2000, marked=15):
    width = max(4, len(str(groups - 1)))
    markers = {"template": "_cwexport/%s/%s/bench/g{g:0%dd}/{m}.json" % (ACCOUNT, REGION, width),
               "vars": {"g": {"range": [0, groups]},
                        "m": {"months": ["now-%dM" % marked, "now-1M"]}},
               "body": "{}"}
    return {
        # Task events only: the requests are counted from /_fake/stats.
        "settings": {"time_factor": 0.01, "rng_seed": 1, "timeline_requests": True},
        "accounts": [{"id": ACCOUNT, "name": "bench", "keys": [KEY]}],
        "buckets": [{"name": BUCKET, "account": ACCOUNT, "region": REGION,
                     "objects": [markers] if marked > 0 else []}],
        "log_groups": [{"generate": {"count": groups, "prefix": "/bench/g", "width": width,
                                     "accounts": [ACCOUNT], "regions": [REGION],
                                     "bytes_per_day": [1e5, 1e9], "created": "now-5y",
                                     "retention_choices": [None], "streams": 2}}],
    }


def config(months=36, account_id=True, detect="marker"):
    """The config (JSON is YAML): every group by one prefix selector, the
    `months` newest settled months."""
    acct = {"name": "bench", "regions": [REGION], "log_groups": [{"prefix": "/bench/"}]}
    if account_id:
        acct["account_id"] = ACCOUNT
    return {"version": 1,
            "defaults": {"region": REGION, "settle": "12h", "api_rate": 50,
                         "destination": {"bucket": BUCKET, "detect": detect}},
            "range": {"last": months},
            "accounts": [acct]}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=2000)
    ap.add_argument("--marked", type=int, default=15)
    a = ap.parse_args()
    json.dump(seed(a.groups, a.marked), sys.stdout, indent=1)
    sys.stdout.write("\n")
