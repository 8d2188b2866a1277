"""`cwexport plan` against the fake AWS: every job's status checked against the
fake's own ground truth (markers, tasks, log groups) in every format, and the
S3 calls counted on the fake's timeline (one paginated listing of the marker
index per lane, one listing per data root with `detect: objects`)."""
import csv
import datetime as dt
import io
import json
import math
import re
import subprocess

import pytest

from fixture import FakeAWS

A = "123456789012"
REGION = "us-east-1"
BUCKET = "plan-archive"
KEY = {"access_key": "AKIAPLANONLINE000001", "secret": "planonlinesecret" + "x" * 24, "account": A}
STATUS_DIGITS = ["pending", "done", "running", "skipped", "failed"]


def month_label(months_back):
    """YYYY-MM of the month `months_back` before the current UTC month."""
    now = dt.datetime.now(dt.timezone.utc)
    y, m = now.year, now.month - months_back
    while m <= 0:
        y, m = y - 1, m + 12
    return "%04d-%02d" % (y, m)


def world(groups, objects=(), deny=None):
    return {
        "settings": {"time_factor": 0.01, "rng_seed": 3},
        "accounts": [{"id": A, "name": "plan", "keys": [KEY]}],
        "buckets": [{"name": BUCKET, "account": A, "region": REGION, "objects": list(objects)}],
        "log_groups": [dict({"account": A, "region": REGION, "created": "now-400d",
                             "bytes_per_day": 3e6, "streams": 2}, **g) for g in groups],
    }


def config(tmp_path, selectors, months=6, detect="marker", account_id=None, name="plan.yaml"):
    acct = {"name": "plan", "regions": [REGION], "log_groups": selectors}
    if account_id:
        acct["account_id"] = account_id
    cfg = {"version": 1,
           "defaults": {"region": REGION, "settle": "1h",
                        "destination": {"bucket": BUCKET, "detect": detect}},
           "range": {"from": month_label(months)},
           "accounts": [acct]}
    p = tmp_path / name
    p.write_text(json.dumps(cfg, indent=1) + "\n")
    return p


def plan(cwx, fake, cfg, fmt="json", *extra, check=0):
    return cwx("plan", "-c", cfg, "-f", fmt, *extra, env=fake.env(KEY), check=check)


def requests(fake, op=None):
    return [e for e in fake.timeline(kind="request") if op is None or e["op"] == op]


def marker_key(log_group, window):
    return "_cwexport/%s/%s/%s/%s.json" % (A, REGION, log_group.lstrip("/"), window)


def marker_body(job, objects, nbytes, task_id="task-0001", took_ms=90_000):
    t1 = job["from"] + 40 * 86400000
    return json.dumps({"marker_version": 1, "account_id": A, "region": REGION,
                       "log_group": job["log_group"], "window": job["window"],
                       "from": job["from"], "to": job["to"], "bucket": BUCKET,
                       "prefix": job["prefix"], "task_id": task_id, "task_name": job["task_name"],
                       "objects": objects, "bytes": nbytes,
                       "task_creation_time": t1 - took_ms, "task_completion_time": t1})


# ------------------------------------------------------------ ground truth

def expected_statuses(fake, jobs, detect="marker"):
    """Each job's status from what the fake holds, computed without cwexport:
    the groups' creation and retention, the markers, the tasks by name, (for
    detect: objects) the data objects, and (skip_empty) the groups without data."""
    now_ms = dt.datetime.now(dt.timezone.utc).timestamp() * 1000
    groups = {g["name"]: g for g in fake.call("GET", "log-groups", query={"account": A})["log_groups"]}
    keys = {o["key"] for o in fake.s3_list(BUCKET)}
    tasks = fake.tasks(account=A)
    active = {t["taskName"] for t in tasks if t["status"]["code"] in ("PENDING", "RUNNING")}
    completed = {t["taskName"] for t in tasks if t["status"]["code"] == "COMPLETED"}
    out = {}
    for j in jobs:
        g = groups.get(j["log_group"])
        end = j["to"] + 1
        if g is None:
            st = "failed"
        elif end <= g["creationTime"]:
            st = "skipped"
        elif g.get("retentionInDays") and end <= now_ms - g["retentionInDays"] * 86400000:
            st = "skipped"
        elif marker_key(j["log_group"], j["window"]) in keys:
            st = "done"
        elif j["task_name"] in active:
            st = "running"
        elif j["task_name"] in completed:
            st = "done"
        elif detect == "objects" and any(
                k.startswith(j["prefix"] + "/") and not k.endswith("/aws-logs-write-test")
                for k in keys):
            st = "done"
        elif g.get("storedBytes") == 0:
            st = "skipped"  # skip_empty: no stream has events (no call needed)
        else:
            st = "pending"
        out[(j["log_group"], j["window"])] = st
    return out


# ------------------------------------------------------------ the scenario

GROUPS = [
    {"name": "/app/api"},                                    # done, empty, running x2, completed, pending
    {"name": "/app/new", "created": "now-70d"},              # not yet created for the old windows
    {"name": "/app/short", "retentionInDays": 30},           # retention-expired windows
    {"name": "/svc/alpha"}, {"name": "/svc/beta", "bytes_per_day": 0},  # by prefix
    {"name": "/pay/payments-eu"},                            # by pattern
    {"name": "/other/unrelated"},                            # selected by nothing
]
SELECTORS = [{"name": "/app/api"}, {"name": "/app/new"}, {"name": "/app/short"},
             {"prefix": "/svc/"}, {"pattern": "payments"}]


@pytest.fixture
def fake(tmp_path):
    with FakeAWS(seed=world(GROUPS), tmp_dir=tmp_path) as f:
        yield f


def seed_state(fake, jobs):
    """Puts the account into the scenario's state; returns what was done."""
    api = [j for j in jobs if j["log_group"] == "/app/api"]
    assert [j["window"] for j in api] == [month_label(k) for k in range(6, 0, -1)]
    w_done, w_empty, w_running, w_pending_task, w_completed, _ = api
    # Done: the marker and the export's objects.
    fake.s3_put(BUCKET, marker_key("/app/api", w_done["window"]),
                marker_body(w_done, 2, 4_000_000_000, took_ms=500_000))
    fake.s3_put(BUCKET, w_done["prefix"] + "/t-1/s-1/000000.gz", b"x" * 100)
    # Empty: exported, nothing but the write test, marker with 0 objects.
    fake.s3_put(BUCKET, w_empty["prefix"] + "/aws-logs-write-test", "Permission Check Successful")
    fake.s3_put(BUCKET, marker_key("/app/api", w_empty["window"]), marker_body(w_empty, 0, 0))
    # Running: tasks with cwexport's names, RUNNING and PENDING.
    for j, status in ((w_running, "RUNNING"), (w_pending_task, "PENDING")):
        fake.inject_task(A, REGION, "/app/api", j["from"], j["to"], status=status, name=j["task_name"],
                         destination=BUCKET, prefix=j["prefix"], duration_s=600)
    # Completed, marker missing (a crash between COMPLETED and the marker).
    fake.inject_task(A, REGION, "/app/api", w_completed["from"], w_completed["to"], status="COMPLETED",
                     name=w_completed["task_name"], destination=BUCKET, prefix=w_completed["prefix"])
    # A foreign task: no job of ours.
    fake.foreign_task(A, REGION, duration_s=600, name="someone-else", log_group="/other/unrelated")
    # A marker of a group found by prefix.
    alpha = [j for j in jobs if j["log_group"] == "/svc/alpha"]
    fake.s3_put(BUCKET, marker_key("/svc/alpha", alpha[-1]["window"]), marker_body(alpha[-1], 1, 10))


def test_online_plan_every_status_every_format(cwx, fake, tmp_path):
    cfg = config(tmp_path, SELECTORS)
    # A first plan of the untouched account: resolves the account id and the
    # selectors, and changes nothing.
    fake.clear_timeline()
    first = json.loads(plan(cwx, fake, cfg).stdout)
    ops = {e["op"] for e in requests(fake)}
    assert ops <= {"GetCallerIdentity", "DescribeLogGroups", "ListObjectsV2", "DescribeExportTasks",
                   "GetObject", "DescribeLogStreams", "GetMetricData"}, ops
    jobs = first["jobs"]
    assert {j["log_group"] for j in jobs} == {"/app/api", "/app/new", "/app/short", "/svc/alpha",
                                             "/svc/beta", "/pay/payments-eu"}
    assert all(j["account_id"] == A and j["task_name"].startswith("cwexport-") for j in jobs)
    assert len(jobs) == 6 * 6

    seed_state(fake, jobs)
    truth = expected_statuses(fake, jobs)
    # The scenario has every status it claims.
    api = [truth[("/app/api", month_label(k))] for k in range(6, 0, -1)]
    assert api == ["done", "done", "running", "running", "done", "pending"]
    assert truth[("/app/new", month_label(6))] == "skipped"
    assert truth[("/app/new", month_label(1))] == "pending"
    assert truth[("/app/short", month_label(6))] == "skipped"
    assert truth[("/app/short", month_label(1))] == "pending"

    fake.clear_timeline()
    proc = plan(cwx, fake, cfg, "json", "-v")
    doc = json.loads(proc.stdout)
    got = {(j["log_group"], j["window"]): j["status"] for j in doc["jobs"]}
    assert got == truth
    reasons = {(j["log_group"], j["window"]): j["reason"] for j in doc["jobs"]}
    assert reasons[("/app/api", month_label(6))] == "marker present"
    assert reasons[("/app/api", month_label(4))] == "an export task with this name is active"
    assert reasons[("/app/api", month_label(2))] == "export task completed; marker not yet written"
    assert reasons[("/app/new", month_label(6))] == "window ends before the log group was created"
    assert reasons[("/app/short", month_label(6))] == \
        "window is wholly beyond the log group's retention"
    assert reasons[("/app/api", month_label(1))] is None
    counts = {s: list(truth.values()).count(s) for s in STATUS_DIGITS}
    t = doc["totals"]
    assert (t["jobs"], t["pending"], t["done"], t["running"], t["skipped"]) == (
        len(truth), counts["pending"], counts["done"], counts["running"], counts["skipped"])
    # The foreign task is named on stderr; it changes no job.
    assert "foreign export task" in proc.stderr and "someone-else" not in proc.stdout
    # Estimates: sizes known online, throughput observed from the markers.
    assert all(j["est_bytes"] is not None for j in doc["jobs"] if j["status"] == "pending")
    (lane,) = doc["lanes"]
    assert lane["rate_source"] != "default" and lane["rate_samples"] >= 1

    # S3: one listing of the marker index (one page), no call per window.
    calls = requests(fake)
    lists = [e for e in calls if e["op"] == "ListObjectsV2"]
    assert len(lists) == 1
    assert {e["op"] for e in calls} <= {"GetCallerIdentity", "DescribeLogGroups", "ListObjectsV2",
                                        "DescribeExportTasks", "GetObject", "DescribeLogStreams",
                                        "GetMetricData"}
    assert not [e for e in calls if e["op"] == "HeadObject"]

    # CSV: the same statuses.
    rows = list(csv.DictReader(io.StringIO(plan(cwx, fake, cfg, "csv").stdout)))
    assert {(r["log_group"], r["window"]): r["status"] for r in rows} == truth
    assert {(r["log_group"], r["window"]): r["task_name"] for r in rows} == \
        {(j["log_group"], j["window"]): j["task_name"] for j in jobs}

    # Table: one line per job with its status.
    table = plan(cwx, fake, cfg, "table").stdout
    for (group, window), st in truth.items():
        assert re.search(r"^plan\s+%s\s+%s\s+%s\s+%s\b" % (REGION, re.escape(group), window, st),
                         table, re.M), (group, window, st)

    # Markdown: the jobs table.
    md = plan(cwx, fake, cfg, "markdown").stdout
    md_jobs = [line for line in md.splitlines() if line.startswith("| plan |")]
    md_status = {}
    for line in md_jobs:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        for (group, window) in truth:
            if group in cells and window in cells:
                md_status[(group, window)] = [c for c in cells if c in STATUS_DIGITS][0]
    assert md_status == truth

    # HTML: the heatmap's data, one digit per window.
    html = plan(cwx, fake, cfg, "html").stdout
    blob = json.loads(re.search(r'<script id="plan-data" type="application/json">(.*?)</script>',
                                html, re.S).group(1))
    heat = {}
    for g in blob["groups"]:
        ws = blob["wsets"][g[2]]
        for k, digit in enumerate(g[3]):
            heat[(g[0], blob["cols"][ws["cols"][k]])] = STATUS_DIGITS[int(digit)]
    assert heat == truth


def test_missing_named_group_is_failed(cwx, fake, tmp_path):
    cfg = config(tmp_path, [{"name": "/app/api"}, {"name": "/app/gone"}], months=2)
    proc = plan(cwx, fake, cfg)
    doc = json.loads(proc.stdout)
    st = {(j["log_group"], j["status"]) for j in doc["jobs"]}
    assert st == {("/app/api", "pending"), ("/app/gone", "failed")}
    assert {j["reason"] for j in doc["jobs"] if j["log_group"] == "/app/gone"} == \
        {"the log group does not exist"}
    assert "/app/gone does not exist" in proc.stderr


def test_bad_credentials_exit_3(cwx, fake, tmp_path):
    cfg = config(tmp_path, [{"name": "/app/api"}], months=2)
    env = fake.env({"access_key": "AKIAUNKNOWN000000000", "secret": "y" * 40})
    proc = cwx("plan", "-c", cfg, "-f", "json", env=env)
    assert proc.returncode == 3, proc.stderr
    assert "GetCallerIdentity" in proc.stderr


def test_offline_makes_no_call(cwx, fake, tmp_path):
    cfg = config(tmp_path, SELECTORS, account_id=A)
    fake.clear_timeline()
    doc = json.loads(plan(cwx, fake, cfg, "json", "--offline").stdout)
    assert requests(fake) == []
    assert {j["status"] for j in doc["jobs"]} == {"pending"}


# ------------------------------------------------------------ pages

def test_marker_index_pages(cwx, tmp_path):
    """2,500 markers of 100 groups x 36 months: the marker index is read in
    3 pages, whatever the number of groups and windows."""
    n_groups, months = 100, 36
    gen = {"generate": {"count": n_groups, "prefix": "/gen/g", "width": 3, "accounts": [A],
                        "regions": [REGION], "bytes_per_day": [1e5, 1e6], "created": "now-5y",
                        "retention_choices": [None], "streams": 1}}
    # Markers for 25 groups x every month and more: 2,500 keys in all.
    objects = [{"template": "_cwexport/%s/%s/gen/g{g:03d}/{m}.json" % (A, REGION),
                "vars": {"g": {"range": [0, 70]}, "m": {"months": ["now-36M", "now-1M"]}},
                "body": "{}"}]
    seed = world([], objects=objects)
    seed["log_groups"] = [gen]
    with FakeAWS(seed=seed, tmp_dir=tmp_path, timeline_requests=True) as fake:
        n_markers = len(fake.s3_list(BUCKET, "_cwexport/"))
        cfg = config(tmp_path, [{"prefix": "/gen/"}], months=months, account_id=A)
        fake.clear_timeline()
        doc = json.loads(plan(cwx, fake, cfg).stdout)
        assert len(doc["jobs"]) == n_groups * (months + 1) - n_groups  # from M-36 to M-1
        lists = requests(fake, "ListObjectsV2")
        assert len(lists) == math.ceil(n_markers / 1000)
        truth = expected_statuses(fake, doc["jobs"])
        assert {(j["log_group"], j["window"]): j["status"] for j in doc["jobs"]} == truth
        assert doc["totals"]["done"] == sum(
            1 for j in doc["jobs"] if marker_key(j["log_group"], j["window"]) in
            {o["key"] for o in fake.s3_list(BUCKET, "_cwexport/")})
        # DescribeLogGroups: 100 groups in pages of 50.
        assert len(requests(fake, "DescribeLogGroups")) == 2


# ------------------------------------------------------------ detect: objects

def test_detect_objects_one_listing_per_data_root(cwx, tmp_path):
    groups = [{"name": "/app/api"}, {"name": "/app/web"}, {"name": "/app/quiet"}]
    with FakeAWS(seed=world(groups), tmp_dir=tmp_path) as fake:
        cfg = config(tmp_path, [{"prefix": "/app/"}], months=4, detect="objects", account_id=A)
        jobs = json.loads(plan(cwx, fake, cfg).stdout)["jobs"]
        by = {(j["log_group"], j["window"]): j for j in jobs}
        w = [month_label(k) for k in range(4, 0, -1)]
        # /app/api: data in w0, only the write test in w1, a marker in w2.
        fake.s3_put(BUCKET, by[("/app/api", w[0])]["prefix"] + "/t-9/stream-a/000000.gz", b"z")
        fake.s3_put(BUCKET, by[("/app/api", w[1])]["prefix"] + "/aws-logs-write-test", "ok")
        fake.s3_put(BUCKET, marker_key("/app/api", w[2]), marker_body(by[("/app/api", w[2])], 1, 1))
        # /app/web: every window has data from another tool.
        for win in w:
            fake.s3_put(BUCKET, by[("/app/web", win)]["prefix"] + "/t/s/000000.gz", b"z")
        # /app/quiet: nothing.
        # Another tool's archive of a group named like a prefix of ours.
        fake.s3_put(BUCKET, "%s/%s/app/api-old/%s/t/s/000000.gz" % (A, REGION, w[3]), b"z")
        truth = expected_statuses(fake, jobs, detect="objects")
        assert truth[("/app/api", w[0])] == "done" and truth[("/app/api", w[1])] == "pending"
        assert truth[("/app/api", w[2])] == "done" and truth[("/app/api", w[3])] == "pending"

        fake.clear_timeline()
        doc = json.loads(plan(cwx, fake, cfg).stdout)
        got = {(j["log_group"], j["window"]): j["status"] for j in doc["jobs"]}
        assert got == truth
        reasons = {(j["log_group"], j["window"]): j["reason"] for j in doc["jobs"]}
        assert reasons[("/app/api", w[0])] == "exported objects present"
        assert reasons[("/app/api", w[2])] == "marker present"
        # The marker index, then one listing per group's data root (all three
        # have windows left after the markers), never one per window.
        lists = requests(fake, "ListObjectsV2")
        assert len(lists) == 1 + 3, [e.get("key") for e in lists]
        # CSV agrees.
        rows = list(csv.DictReader(io.StringIO(plan(cwx, fake, cfg, "csv").stdout)))
        assert {(r["log_group"], r["window"]): r["status"] for r in rows} == truth


def test_help_mentions_online(cwx):
    out = cwx("plan", "--help", check=0).stdout
    assert "--offline" in out and "marker index" in out and "data root" in out
    assert subprocess.run([cwx.binary, "plan", "--bogus"], capture_output=True).returncode == 2
