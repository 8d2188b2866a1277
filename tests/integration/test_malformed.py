"""Malformed answers: the fake's malformed-answer faults on every operation
cwexport uses. For each (operation, fault) the command that makes the call
(plan, status, run or cancel) must terminate within its time limit, never
crash (no signal, no sanitizer report), keep its peak RSS bounded (measured
with /usr/bin/time -f %M), and either succeed — where the answer's body is
not needed (HEAD, PutObject) or a slow drip still delivers it — or fail with
a clear error: a short error line that names the operation, never the
garbage it was sent.

Faults: truncated (the JSON/XML cut in half), invalid_json / invalid_xml, a
200 with the protocol's error body, a 200 HTML page with a wrong content
type, an endless body (Content-Length 2^40, bytes until the fake gives up)
and a slow drip (the real answer a few bytes at a time)."""
import json
import os
import re
import subprocess
import time

import pytest

import runutil as ru
from runutil import FakeAWS

A = ru.account_id(0)
B = ru.account_id(1)
ROLE = "arn:aws:iam::%s:role/cwexport-malformed" % B
TOPIC = "arn:aws:sns:us-east-1:%s:cwx" % A
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")
# Peak RSS of one command (KiB). A normal command peaks near 30 MB in the
# sanitizer build; an answer read without a cap would go far beyond.
MAX_RSS_KB = 160 * 1024
TIME_LIMIT = 100

PROTO = {"DescribeLogGroups": "json", "DescribeExportTasks": "json", "CreateExportTask": "json",
         "CancelExportTask": "json", "ListObjectsV2": "xml", "HeadObject": "xml",
         "PutObject": "xml", "GetCallerIdentity": "xml", "AssumeRole": "xml", "Publish": "xml"}
# Which command makes the call.
COMMAND = {"DescribeLogGroups": "plan", "ListObjectsV2": "plan", "GetCallerIdentity": "plan",
           "AssumeRole": "plan", "DescribeExportTasks": "status", "CreateExportTask": "run",
           "HeadObject": "run", "PutObject": "run", "Publish": "run",
           "CancelExportTask": "cancel"}
# Calls whose answer body cwexport does not need (HEAD; PutObject and
# CancelExportTask answer with nothing of use): a malformed body may go
# unnoticed. SNS notifications are best effort: the run does not fail on them.
BODY_UNUSED = {"HeadObject", "PutObject", "CancelExportTask"}
BEST_EFFORT = {"Publish"}
# The task is created even when the answer is unreadable; the job finds it by
# its name and completes, exporting the window once — or, when the retries
# come faster than the task ends, the loop guard stops the creates first.
FOUND_BY_NAME = {"CreateExportTask"}
# How an error names the call: the operation, its IAM action, or what the
# call was for.
NAMES = {"ListObjectsV2": r"ListObjectsV2|s3:ListBucket",
         "HeadObject": r"HeadObject|s3:GetObject|marker",
         "PutObject": r"PutObject|s3:PutObject|marker",
         "GetCallerIdentity": r"GetCallerIdentity", "AssumeRole": r"AssumeRole",
         "Publish": r"Publish|sns:|notif"}
FAULTS = ["truncated", "invalid", "error_200", "wrong_content_type", "endless", "slow_drip"]


def _seed():
    s = ru.seed(accounts=2, topics=[TOPIC])
    s["roles"] = [{"arn": ROLE, "trusted_accounts": [A], "max_session_s": 3600}]
    return s


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    with FakeAWS(seed=_seed(), tmp_dir=tmp_path_factory.mktemp("malformedfake")) as f:
        yield f


def _config(tmp_path):
    cfg = {"version": 1,
           "defaults": {"region": "us-east-1",
                        "destination": {"bucket": "cwx-run-{account_id}-{region}"},
                        "poll": {"min": "100ms", "max": "400ms"}, "settle": "1h",
                        "api_rate": 100, "max_attempts": 2,
                        "loop_guard": {"max_creates_per_job": 2}},
           "range": {"last": 1},
           "notify": {"sns_topic_arn": TOPIC, "on": ["failure", "done"]},
           "accounts": [
               {"name": "base", "regions": ["us-east-1"], "log_groups": [{"prefix": "/app/"}]},
               {"name": "assumed", "role_arn": ROLE, "regions": ["us-east-1"],
                "log_groups": [{"name": "/app/api"}]}]}
    p = tmp_path / "malformed.yaml"
    p.write_text(json.dumps(cfg, indent=1))
    return p


def _rule(op, fault):
    mode = fault
    if fault == "invalid":
        mode = "invalid_json" if PROTO[op] == "json" else "invalid_xml"
    rule = {"operations": [op], "malformed": mode, "malformed_rate": 1.0}
    if fault == "endless":
        rule["max_s"] = 15
    if fault == "slow_drip":
        rule.update(drip_ms=20, drip_bytes=16, max_s=15)
    return rule


def _run(cwx, fake, tmp_path, args):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env.update(ru.env(fake, tmp_path))
    rss_file = tmp_path / "rss.txt"
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-o", str(rss_file), "-f", "%M", cwx.binary,
                        *map(str, args)], env=env, capture_output=True, text=True,
                       timeout=TIME_LIMIT)
    p.elapsed = time.monotonic() - t0
    lines = rss_file.read_text().split()
    p.rss_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return p


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("op", sorted(COMMAND))
def test_malformed_answer(cwx, fake, tmp_path, op, fault):
    fake.reset()
    cfg = _config(tmp_path)
    cmd = COMMAND[op]
    if cmd == "run" and subprocess.run([cwx.binary, "run", "--help"],
                                       capture_output=True).returncode:
        pytest.skip("cwexport was built without the run command")
    if cmd == "cancel":
        # A task named like ours for cancel (--all-cwexport) to cancel.
        fake.inject_task(A, "us-east-1", "/app/api", 1, 2, status="RUNNING",
                         name="cwexport-0123456789abcdef", duration_s=300)
    args = {"plan": ["plan", "-c", cfg, "--format", "json"],
            "status": ["status", "-c", cfg, "--json"],
            "run": ["run", "-c", cfg, "--progress", "none"],
            "cancel": ["cancel", "-c", cfg, "--json", "--all-cwexport"]}[cmd]
    fake.faults(**_rule(op, fault))
    try:
        p = _run(cwx, fake, tmp_path, args)
    finally:
        rules = fake.faults(rules=[])  # noqa: F841
    # The fake records a call when its answer is sent: a drip may end after
    # cwexport has gone.
    for _ in range(30):
        hits = [e for e in fake.timeline() if e["kind"] == "request" and e["op"] == op]
        if hits:
            break
        time.sleep(0.1)
    assert hits, "%s was never called: the fault proved nothing" % op
    assert p.returncode >= 0, "killed by signal %d" % -p.returncode
    assert not SANITIZER.search(p.stderr), p.stderr[-3000:]
    assert 0 < p.rss_kb < MAX_RSS_KB, "peak RSS %d KiB" % p.rss_kb
    # Creates whose answers are all unreadable may each have made a task:
    # the loop guard stops them (exit 4) unless the task is found first.
    allowed = (0, 1, 3, 4) if op in FOUND_BY_NAME else (0, 1, 3)
    assert p.returncode in allowed, (p.returncode, p.stderr[-2000:])
    errors = [line for line in p.stderr.splitlines() if "error" in line.lower()]
    for line in errors:
        # one readable line: not the HTML page, not the endless body's bytes
        assert len(line) < 1000 and "<title>" not in line and " " * 64 not in line, line
    if p.returncode == 4:
        assert "max_creates_per_job" in p.stderr, p.stderr[-2000:]
        assert ru.Timeline(fake.timeline()).duplicates() == {}
    elif p.returncode != 0:
        name = re.compile(NAMES.get(op, op))
        assert any(name.search(line) for line in errors), (op, p.stderr[-2000:])
    elif op in FOUND_BY_NAME:
        assert ru.Timeline(fake.timeline()).duplicates() == {}
    elif fault != "slow_drip" and op not in BODY_UNUSED | BEST_EFFORT:
        pytest.fail("%s with a %s answer on every call succeeded: %s" % (op, fault, p.stderr[-1500:]))
    if op in BEST_EFFORT and fault != "slow_drip":
        # the failed notification is said, and nothing claims it was sent
        assert re.search(NAMES[op], p.stderr, re.I), p.stderr[-1500:]


def test_lost_create_answer_exports_once(cwx, fake, tmp_path):
    """The answer of account A's first CreateExportTask is lost (the task is
    made); the task is still PENDING when cwexport looks it up, and it has
    ended before any second CreateExportTask could reach the fake (that one
    waits 5 s in the fake). Looking among COMPLETED tasks alone misses it and
    creates the window again; looking among active tasks first adopts it."""
    if subprocess.run([cwx.binary, "run", "--help"], capture_output=True).returncode:
        pytest.skip("cwexport was built without the run command")
    fake.reset()
    # A task takes about 2 s (1.5 s PENDING, 0.5 s RUNNING, ±20 %).
    fake.settings_update(pending_delay_s=150, min_running_s=50)
    cfg = _config(tmp_path)
    fake.faults(rules=[
        {"operations": ["CreateExportTask"], "accounts": [A], "malformed": "truncated",
         "malformed_rate": 1.0, "max_hits": 1},
        {"operations": ["CreateExportTask"], "accounts": [A], "latency_ms": 5000,
         "max_hits": 2}])
    try:
        p = _run(cwx, fake, tmp_path, ["run", "-c", cfg, "--progress", "none"])
    finally:
        fake.faults(rules=[])
    assert p.returncode == 0, p.stderr[-2000:]
    events = fake.timeline()
    tl = ru.Timeline(events)
    assert tl.duplicates() == {}
    lost = [e for e in events if e["kind"] == "request" and e["op"] == "CreateExportTask"
            and e.get("fault") == "malformed:truncated"]
    assert len(lost) == 1, "the fault proved nothing: %r" % lost


def test_loop_guard_counts_creates_without_answer(cwx, fake, tmp_path):
    if subprocess.run([cwx.binary, "run", "--help"], capture_output=True).returncode:
        pytest.skip("cwexport was built without the run command")
    fake.reset()
    cfg = _config(tmp_path)
    fake.faults(operations=["CreateExportTask"], malformed="truncated", malformed_rate=1.0)
    try:
        p = _run(cwx, fake, tmp_path, ["run", "-c", cfg, "--progress", "none"])
    finally:
        fake.faults(rules=[])
    # Every answer is unreadable, but each job's first task is found by its
    # name once it completes: done (0), or stopped by the cap (4) or as failed
    # (1) — never more than the cap of CreateExportTask calls.
    assert p.returncode in (0, 1, 4), p.stderr[-2000:]
    assert ru.Timeline(fake.timeline()).duplicates() == {}
    per_account = {}
    for e in fake.timeline():
        if e["kind"] == "request" and e["op"] == "CreateExportTask":
            per_account[e["account"]] = per_account.get(e["account"], 0) + 1
    assert per_account and max(per_account.values()) <= 2, per_account
