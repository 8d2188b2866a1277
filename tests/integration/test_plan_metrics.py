"""`cwexport plan` with CloudWatch metrics: windows inside the 455 days CloudWatch keeps
daily IncomingBytes are estimated from them, older windows from storedBytes spread over
the group's life; a refused GetMetricData leaves every window to storedBytes with one
warning and the plan still succeeds."""
import datetime as dt
import json

import pytest

from fixture import FakeAWS

A = "123456789013"
REGION = "us-east-1"
BUCKET = "plan-metrics-archive"
KEY = {"access_key": "AKIAPLANMETRICS00001", "secret": "planmetricssecret" + "x" * 23, "account": A}
DAY = 86400000


def month_label(months_back):
    now = dt.datetime.now(dt.timezone.utc)
    y, m = now.year, now.month - months_back
    while m <= 0:
        y, m = y - 1, m + 12
    return "%04d-%02d" % (y, m)


# /app/gappy has no data in two recent months and in one month 20 months back: metrics
# see the recent gaps (0 bytes), storedBytes cannot (it spreads evenly).
RECENT_GAPS = [month_label(3), month_label(5)]
OLD_GAP = month_label(20)
GROUPS = [
    {"name": "/app/gappy", "bytes_per_day": 4e6, "gaps": RECENT_GAPS + [OLD_GAP]},
    {"name": "/app/steady", "bytes_per_day": 2e6},
    {"name": "/app/many", "bytes_per_day": 1e6, "streams": 3},
]


def seed():
    return {
        "settings": {"time_factor": 0.01, "rng_seed": 5},
        "accounts": [{"id": A, "name": "metrics", "keys": [KEY]}],
        "buckets": [{"name": BUCKET, "account": A, "region": REGION}],
        "log_groups": [dict({"account": A, "region": REGION, "created": "now-800d", "streams": 1}, **g)
                       for g in GROUPS],
    }


def config(tmp_path, **defaults):
    cfg = {"version": 1,
           "defaults": dict({"region": REGION, "settle": "1h", "destination": {"bucket": BUCKET}}, **defaults),
           "range": {"from": month_label(24)},
           "accounts": [{"name": "metrics", "account_id": A, "regions": [REGION],
                         "log_groups": [{"prefix": "/app/"}]}]}
    p = tmp_path / "plan.yaml"
    p.write_text(json.dumps(cfg, indent=1) + "\n")
    return p


@pytest.fixture
def fake(tmp_path):
    with FakeAWS(seed=seed(), tmp_dir=tmp_path) as f:
        yield f


def plan(cwx, fake, cfg):
    return cwx("plan", "-c", cfg, "-f", "json", env=fake.env(KEY), check=0)


def requests(fake, op):
    return [e for e in fake.timeline(kind="request") if e["op"] == op]


def by_window(doc, group):
    return {j["window"]: j for j in doc["jobs"] if j["log_group"] == group}


def window_start_ms(label):
    y, m = map(int, label.split("-"))
    return int(dt.datetime(y, m, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)


def test_recent_windows_from_metrics_old_ones_from_stored_bytes(cwx, fake, tmp_path):
    cfg = config(tmp_path)
    fake.clear_timeline()
    proc = plan(cwx, fake, cfg)
    doc = json.loads(proc.stdout)
    assert "warn" not in proc.stderr, proc.stderr
    # One GetMetricData call: three groups fit in one, signed and accepted.
    calls = requests(fake, "GetMetricData")
    assert len(calls) == 1 and calls[0]["outcome"] == "ok" and calls[0]["service"] == "monitoring"
    lane = doc["lanes"][0]
    b = lane["estimates"]["bytes"]
    assert b["source"] == "metrics, stored_bytes", b
    assert b["calibration"] == "stored_bytes"
    horizon = fake_now_ms() - 455 * DAY
    jobs = [j for j in doc["jobs"] if j["status"] == "pending"]
    recent = [j for j in jobs if window_start_ms(j["window"]) >= horizon + DAY]
    assert b["metrics_jobs"] == len(recent) and b["stored_bytes_jobs"] == len(jobs) - len(recent)
    gappy = by_window(doc, "/app/gappy")
    # The recent months without data: nothing to export, as the metrics say.
    for w in RECENT_GAPS:
        assert gappy[w]["est_bytes"] == 0, (w, gappy[w])
    # The old one, beyond the metrics: storedBytes spread over the group's life.
    assert gappy[OLD_GAP]["est_bytes"] > 0
    # A full recent month of a steady group: a month of its daily bytes, calibrated
    # against storedBytes (in the fake both count the same bytes: the ratio is ~1).
    steady = by_window(doc, "/app/steady")
    w = month_label(2)
    days = (window_start_ms(month_label(1)) - window_start_ms(w)) / DAY
    assert steady[w]["est_bytes"] == pytest.approx(2e6 * days, rel=0.02)
    # Every window starting inside the metrics has its estimate from them: a gap month of
    # /app/gappy differs from the storedBytes estimate of the same window.
    denied = plan_denied(cwx, fake, cfg)
    assert by_window(denied, "/app/gappy")[RECENT_GAPS[0]]["est_bytes"] > 0


def fake_now_ms():
    return int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)


def plan_denied(cwx, fake, cfg):
    fake.faults(operations=["GetMetricData"], error_rate=1.0, error_code="AccessDenied", error_status=403)
    try:
        proc = plan(cwx, fake, cfg)
    finally:
        fake.clear_faults()
    warnings = [ln for ln in proc.stderr.splitlines() if "warn" in ln]
    assert len(warnings) == 1, proc.stderr
    assert "cloudwatch:GetMetricData" in warnings[0] and "AccessDenied" in warnings[0]
    return json.loads(proc.stdout)


def test_denied_get_metric_data_falls_back_to_stored_bytes(cwx, fake, tmp_path):
    cfg = config(tmp_path)
    doc = plan_denied(cwx, fake, cfg)
    b = doc["lanes"][0]["estimates"]["bytes"]
    assert b["source"] == "stored_bytes" and "metrics_jobs" not in b
    # storedBytes spreads evenly: a gap month gets its share like any other.
    gappy = by_window(doc, "/app/gappy")
    assert all(gappy[w]["est_bytes"] > 0 for w in RECENT_GAPS)


def test_many_groups_page_through_next_token(cwx, tmp_path):
    # 600 groups: two calls of at most 500 queries; 455 days of data for 500 groups
    # is more than one answer's 100,800 points, so the first call pages.
    s = seed()
    s["log_groups"] = [{"generate": {"count": 600, "prefix": "/app/g", "account": A, "region": REGION,
                                     "bytes_per_day": [1e5, 1e6], "created": "now-800d", "streams": 1}}]
    with FakeAWS(seed=s, tmp_dir=tmp_path) as fake:
        cfg = config(tmp_path, skip_empty="off", api_rate=50)
        proc = plan(cwx, fake, cfg)
        doc = json.loads(proc.stdout)
        calls = requests(fake, "GetMetricData")
        assert len(calls) >= 3 and all(c["outcome"] == "ok" for c in calls), calls
        b = doc["lanes"][0]["estimates"]["bytes"]
        assert b["source"] == "metrics, stored_bytes"
        assert b["metrics_jobs"] > 600 * 12
