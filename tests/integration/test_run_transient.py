"""Transient AWS failures that outlast a call's own retries: the phases
before the lanes (resolve, reconcile) and the jobs wait them out; a lane
that AWS keeps failing pauses and goes on, and after three pauses without
progress stops with its windows pending, not failed; a credential refresh
that meets a transient STS failure is retried."""
import json
import re

import pytest

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

A0, A1 = ru.account_id(0), ru.account_id(1)


@pytest.fixture
def fake(tmp_path):
    s = ru.seed(accounts=2)
    s["roles"] = [{"arn": "arn:aws:iam::%s:role/cwexport-t" % A0,
                   "trusted_accounts": [A0], "max_session_s": 3600}]
    with FakeAWS(seed=s, tmp_dir=tmp_path) as f:
        yield f


def _no_account_id(cfg):
    """The config without its accounts' account_id: resolved by GetCallerIdentity."""
    d = json.loads(cfg.read_text())
    for a in d["accounts"]:
        a.pop("account_id", None)
    cfg.write_text(json.dumps(d, indent=1))
    return cfg


def test_phase_failures_are_waited_out(cwx, fake, tmp_path):
    """GetCallerIdentity, DescribeLogGroups, the marker listing and the
    active-task listing each fail on every attempt of their first call: the
    run tries each again later and exports everything."""
    cfg = _no_account_id(ru.config(tmp_path))
    fake.faults(rules=[{"operations": [op], "error_rate": 1.0, "error_status": 503,
                        "max_hits": 3}
                       for op in ("GetCallerIdentity", "DescribeLogGroups", "ListObjectsV2",
                                  "DescribeExportTasks")])
    p = ru.run(cwx, fake, tmp_path, cfg)
    assert p.returncode == 0, p.stderr[-3000:]
    tl = Timeline(fake.timeline())
    assert len(tl.completed()) == 3 and not tl.duplicates()
    for what in ("sts:GetCallerIdentity", "logs:DescribeLogGroups",
                 "s3:ListBucket \\(marker index\\)", "logs:DescribeExportTasks"):
        assert re.search(what + r"( \(by name\))? failed \(.*\); trying again in \d+ ms", p.stderr), \
            (what, p.stderr[-3000:])
    t = p.summary["totals"]
    assert t["exported"] == 3 and t["api_retries"] >= 4 * 2, t
    assert p.summary["account_errors"] == []


# One attempt a call, and short waits: every failure of a step is one
# HeadObject, and nine in a row take under a second.
ONE_ATTEMPT = {"AWS_MAX_ATTEMPTS": "1"}
FAST_POLL = {"poll": {"min": "10ms", "max": "40ms"}}


def test_aws_unavailable_pauses_then_stops_the_lane(cwx, fake, tmp_path):
    """Every HeadObject of one account fails: its job redoes the step nine
    times, the lane pauses (outage.pause) and goes on, twice (outage.pauses);
    then it stops as "AWS unavailable" with its windows pending (exit 1,
    nothing failed). The other account exports; the next run finishes the
    first."""
    cfg = ru.config(tmp_path, accounts=2,
                    defaults=dict(FAST_POLL, outage={"pause": "300ms", "pauses": 2}))
    fake.faults(rules=[{"operations": ["HeadObject"], "accounts": [A1], "error_rate": 1.0}])
    p = ru.run(cwx, fake, tmp_path, cfg, extra_env=ONE_ATTEMPT)
    assert p.returncode == 1, p.stderr[-3000:]
    s = p.summary
    lanes = {la["account_id"]: la for la in s["lanes"]}
    assert lanes[A0]["exported"] == 3 and not lanes[A0]["stopped"]
    assert lanes[A0]["pauses"] == 0
    bad = lanes[A1]
    assert bad["stopped"] and bad["failed"] == 0 and bad["pending"] == 3, bad
    assert bad["stop_reason"].startswith("AWS unavailable: reading the marker failed 9 times"), bad
    assert bad["pauses"] == 2 and bad["step_retries"] == 3 * 8 and bad["api_retries"] == 0, bad
    assert len(re.findall(r"lane \S+: AWS unavailable .*; pausing 0.3 s before going on",
                          p.stderr)) == 2, p.stderr[-3000:]
    assert s["totals"]["failed"] == 0 and s["failures"] == []
    heads = [e for e in fake.timeline() if e["kind"] == "request" and e["op"] == "HeadObject"
             and e.get("account") == A1]
    assert len(heads) == 3 * 9, len(heads)
    assert not [e for e in ru.creates(fake.timeline()) if e.get("account") == A1]

    fake.clear_faults()
    p = ru.run(cwx, fake, tmp_path, cfg)
    assert p.returncode == 0, p.stderr[-3000:]
    tl = Timeline(fake.timeline())
    assert len(tl.completed()) == 6 and not tl.duplicates()


def test_aws_outage_ridden_out(cwx, fake, tmp_path):
    """HeadObject of one account fails twelve times, then works: one pause
    (shown in the progress lines), and the lane finishes its windows."""
    cfg = ru.config(tmp_path, accounts=2, defaults=dict(FAST_POLL, outage={"pause": "2500ms"}))
    fake.faults(rules=[{"operations": ["HeadObject"], "accounts": [A1], "error_rate": 1.0,
                        "max_hits": 12}])
    p = ru.run(cwx, fake, tmp_path, cfg, extra_env=ONE_ATTEMPT)
    assert p.returncode == 0, p.stderr[-3000:]
    lanes = {la["account_id"]: la for la in p.summary["lanes"]}
    assert lanes[A1]["exported"] == 3 and not lanes[A1]["stopped"], lanes[A1]
    assert lanes[A1]["pauses"] == 1 and lanes[A1]["step_retries"] == 11, lanes[A1]
    progress = [json.loads(x) for x in p.stderr.splitlines()
                if x.startswith('{"event":"progress"')]
    paused = [e for e in progress if e["lane"] == "acct1" and e["state"] == "paused"]
    assert paused and all(0 <= e["resume_s"] <= 3 for e in paused), progress[-5:]
    tl = Timeline(fake.timeline())
    assert len(tl.completed()) == 6 and not tl.duplicates()


def test_transient_sts_failure_of_a_refresh_is_retried(cwx, fake, tmp_path):
    """The account's role is assumed through STS, which fails on every
    attempt of the first AssumeRole: not a credential error (exit 3) but a
    transient one, waited out."""
    cfg = ru.config(tmp_path)
    d = json.loads(cfg.read_text())
    d["accounts"][0].pop("profile")  # the base credentials: the environment's
    d["accounts"][0]["role_arn"] = "arn:aws:iam::%s:role/cwexport-t" % A0
    cfg.write_text(json.dumps(d, indent=1))
    fake.faults(rules=[{"operations": ["AssumeRole"], "error_rate": 1.0, "max_hits": 3}])
    p = ru.run(cwx, fake, tmp_path, cfg)
    assert p.returncode == 0, p.stderr[-3000:]
    assert len(Timeline(fake.timeline()).completed()) == 3
    assert re.search(r"sts:AssumeRole .*InternalFailure.*trying again", p.stderr), \
        p.stderr[-3000:]
    creds = p.summary["credentials"][0]
    assert creds["failures"] == 1 and creds["fetches"] >= 2, creds
