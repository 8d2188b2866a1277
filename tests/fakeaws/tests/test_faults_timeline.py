import gzip
import json
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from botocore.parsers import ResponseParserError

from conftest import A, B, BUCKET_A, client, make_seed, signed_request, wait_status
from fixture import ControlError, FakeAWS, HERE, PYTHON, botocore_client
from timeline import Timeline

DAY = 86400000


def code(exc):
    return exc.value.response["Error"]["Code"]


def now_ms():
    return int(time.time() * 1000)


def test_throttle_and_5xx_shapes(clean):
    clean.faults(rules=[{"throttle_rate": 1.0, "operations": ["DescribeExportTasks", "ListObjectsV2",
                                                                "GetCallerIdentity", "Publish"]},
                        {"error_rate": 1.0, "operations": ["DescribeLogGroups", "HeadBucket", "AssumeRole"]}])
    logs, s3, sts = client(clean, "logs"), client(clean, "s3"), client(clean, "sts")
    for call, want, status in [
        (lambda: logs.describe_export_tasks(), "ThrottlingException", 400),
        (lambda: s3.list_objects_v2(Bucket=BUCKET_A), "SlowDown", 503),
        (lambda: sts.get_caller_identity(), "Throttling", 400),
        (lambda: client(clean, "sns").publish(TopicArn="arn:aws:sns:us-east-1:%s:cwexport-test" % A, Message="m"),
         "Throttling", 400),
        (lambda: logs.describe_log_groups(), "ServiceUnavailableException", 500),
        (lambda: sts.assume_role(RoleArn="arn:aws:iam::%s:role/cwexport" % B, RoleSessionName="ss"),
         "InternalFailure", 500),
    ]:
        with pytest.raises(ClientError) as e:
            call()
        assert (code(e), e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (want, status)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=BUCKET_A)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    # other operations are unaffected
    client(clean, "s3").get_object(Bucket=BUCKET_A, Key="seeded/hello.txt")
    # max_hits + account filter
    clean.faults(throttle_rate=1.0, operations=["CreateExportTask"], accounts=[A], max_hits=2)
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            logs.create_export_task(logGroupName="/aws/lambda/api", fromTime=0, to=1, destination=BUCKET_A)
        assert code(e) == "ThrottlingException"
    logs.create_export_task(logGroupName="/aws/lambda/api", fromTime=0, to=1, destination=BUCKET_A)
    rules = clean.call("GET", "faults")["rules"]
    assert rules[0]["hits"] == 2


def test_error_after_executes_the_operation(clean):
    clean.faults(error_rate=1.0, error_after=True, operations=["CreateExportTask"], max_hits=1)
    logs = client(clean, "logs")
    with pytest.raises(ClientError) as e:
        logs.create_export_task(logGroupName="/aws/lambda/api", fromTime=0, to=1, destination=BUCKET_A,
                                taskName="lost-answer")
    assert code(e) == "ServiceUnavailableException"
    t = logs.describe_export_tasks()["exportTasks"]
    assert [x["taskName"] for x in t] == ["lost-answer"]  # created although the answer was an error


def test_connection_reset_and_latency(clean):
    logs = client(clean, "logs")
    clean.faults(reset_rate=1.0, operations=["DescribeExportTasks"], max_hits=1)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        logs.describe_export_tasks()
    logs.describe_export_tasks()
    clean.faults(reset_rate=1.0, reset_when="after", operations=["CreateExportTask"], max_hits=1)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        logs.create_export_task(logGroupName="/aws/lambda/api", fromTime=0, to=1, destination=BUCKET_A)
    assert len(logs.describe_export_tasks()["exportTasks"]) == 1
    clean.faults(latency_ms=300, latency_rate=1.0, operations=["DescribeLogGroups"])
    t0 = time.monotonic()
    logs.describe_log_groups(limit=1)
    assert time.monotonic() - t0 >= 0.3
    outcomes = [e["outcome"] for e in clean.timeline(kind="request")]
    assert "connection_reset" in outcomes and "connection_reset_after" in outcomes


def test_malformed_answers(clean):
    logs = client(clean, "logs")
    s3 = client(clean, "s3")
    clean.faults(malformed="truncated", operations=["DescribeExportTasks"])
    st, h, body = signed_request(clean, "logs", body=b"{}", headers={
        "X-Amz-Target": "Logs_20140328.DescribeExportTasks", "Content-Type": "application/x-amz-json-1.1"})
    assert st == 200 and int(h["content-length"]) == len(body) and body == b'{"exportT'
    with pytest.raises(ValueError):
        json.loads(body)
    clean.faults(malformed="short_body", operations=["DescribeExportTasks"])
    with pytest.raises((ConnectionClosedError, ResponseParserError, Exception)):
        logs.describe_export_tasks()
    clean.faults(malformed="invalid_xml", operations=["ListObjectsV2"])
    with pytest.raises(ResponseParserError):
        s3.list_objects_v2(Bucket=BUCKET_A)
    clean.faults(malformed="error_200", operations=["ListObjectsV2"])
    r = s3.list_objects_v2(Bucket=BUCKET_A)  # botocore does not detect 200-errors on ListObjects
    assert "Contents" not in r
    clean.faults(malformed="wrong_content_type", operations=["DescribeLogGroups"])
    assert "logGroups" not in logs.describe_log_groups()  # botocore's JSON parser is lenient
    st, h, body = signed_request(clean, "logs", body=b"{}", headers={
        "X-Amz-Target": "Logs_20140328.DescribeLogGroups", "Content-Type": "application/x-amz-json-1.1"})
    assert st == 200 and h["content-type"].startswith("text/html") and body.startswith(b"<html>")
    clean.faults(malformed="slow_drip", drip_ms=5, drip_bytes=20, operations=["DescribeLogGroups"])
    t0 = time.monotonic()
    assert logs.describe_log_groups(limit=2)["logGroups"]
    assert time.monotonic() - t0 > 0.02
    clean.faults(malformed="endless", max_s=3, operations=["DescribeExportTasks"])
    import http.client
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from conftest import KEY_A
    req = AWSRequest("POST", clean.url + "/", data=b"{}", headers={
        "X-Amz-Target": "Logs_20140328.DescribeExportTasks", "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials(KEY_A["access_key"], KEY_A["secret"]), "logs", "us-east-1").add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", clean.port, timeout=5)
    conn.request("POST", "/", body=b"{}", headers=dict(req.headers.items()))
    r = conn.getresponse()
    assert r.status == 200 and int(r.getheader("Content-Length")) == 1 << 40
    got = 0
    while got < 200000:
        got += len(r.read(65536))
    conn.close()
    clean.clear_faults()
    logs.describe_export_tasks()


def test_fault_draws_are_seeded(tmp_path):
    def run():
        with FakeAWS(seed=make_seed(), tmp_dir=tmp_path) as f:
            f.faults(throttle_rate=0.5, operations=["DescribeExportTasks"])
            logs = client(f, "logs")
            out = []
            for _ in range(30):
                try:
                    logs.describe_export_tasks()
                    out.append(0)
                except ClientError:
                    out.append(1)
            tid = logs.create_export_task(logGroupName="/aws/lambda/api", fromTime=0, to=1,
                                          destination=BUCKET_A)["taskId"]
            return out, tid
    a, b = run(), run()
    assert a == b and 5 < sum(a[0]) < 25


def test_timeline_and_helper(clean):
    logs = client(clean, "logs")
    n = now_ms()
    for i in range(3):
        tid = logs.create_export_task(logGroupName="/aws/lambda/api", fromTime=n - (i + 2) * DAY,
                                      to=n - (i + 1) * DAY - 1, destination=BUCKET_A)["taskId"]
        wait_status(logs, tid, ("COMPLETED",))
        time.sleep(0.05)
    # a duplicate export of the last window, and a foreign task in account B (region scope)
    tid = logs.create_export_task(logGroupName="/aws/lambda/api", fromTime=n - 4 * DAY, to=n - 3 * DAY - 1,
                                  destination=BUCKET_A)["taskId"]
    wait_status(logs, tid, ("COMPLETED",))
    clean.foreign_task(B, "us-east-1", duration_s=0.1)
    time.sleep(0.3)
    tl = Timeline(clean.timeline())
    assert tl.max_concurrent_active() == {A: 1, "%s/us-east-1" % B: 1}
    dups = tl.duplicates()
    assert list(dups) == [(A, "us-east-1", "/aws/lambda/api", n - 4 * DAY, n - 3 * DAY - 1)]
    assert len(tl.completed()) == 3
    gaps = tl.idle_gaps()[A]
    assert len(gaps) == 3 and all(g >= 0.05 for g in gaps)
    calls = tl.api_calls()
    assert calls["CreateExportTask"] == 4 and calls["DescribeExportTasks"] >= 4
    assert tl.summary()["completed"] == 4
    st = clean.stats()
    assert st["by_operation"]["CreateExportTask"] == 4 and st["connections"] >= 1


def test_timeline_helper_synthetic():
    ev = []
    seq = [0]

    def task(t, tid, state, tok="1", acct="1", frm=0, to=9, foreign=False):
        seq[0] += 1
        ev.append({"seq": seq[0], "kind": "task", "t": t, "task_id": tid, "state": state, "account": acct,
                   "region": "us-east-1", "token": tok, "log_group": "/g", "from": frm, "to": to,
                   "foreign": foreign})
    task(0, "a", "PENDING")
    task(1, "a", "RUNNING")
    task(1.5, "b", "PENDING", frm=10, to=19)   # overlapping: concurrency 2
    task(2, "a", "COMPLETED")
    task(3, "b", "COMPLETED", frm=10, to=19)
    task(5, "c", "PENDING")
    task(6, "c", "COMPLETED")
    task(6.5, "d", "RUNNING", tok="2", acct="2", foreign=True)
    task(7, "d", "CANCELLED", tok="2", acct="2", foreign=True)
    ev.append({"seq": 99, "kind": "request", "op": "CreateExportTask", "outcome": "ok"})
    tl = Timeline(ev)
    assert tl.max_concurrent_active() == {"1": 2, "2": 1}
    assert tl.max_concurrent_active(include_foreign=False) == {"1": 2}
    assert tl.duplicates() == {("1", "us-east-1", "/g", 0, 9): ["a", "c"]}
    assert tl.idle_gaps() == {"1": [2.0]}
    assert tl.api_calls() == {"CreateExportTask": 1}
    assert Timeline(ev, scope="region").max_concurrent_active() == {"1/us-east-1": 2, "2/us-east-1": 1}


def test_generated_seed_scale(tmp_path):
    seed = {"accounts": [{"id": A, "keys": [{"access_key": "AKIABIG", "secret": "s" * 40}]}],
            "log_groups": [{"generate": {"count": 2000, "prefix": "/bench/g", "account": A, "region": "us-east-1",
                                         "bytes_per_day": [1e5, 1e9]}}],
            "buckets": [{"name": "bench-bucket", "account": A, "region": "us-east-1",
                         "objects": [{"template": "_cwexport/%s/us-east-1/bench/g{g:04d}/{m}.json" % A,
                                      "vars": {"g": {"range": [0, 2000]},
                                               "m": {"months": ["now-15M", "now-1M"]}}, "body": "{}"}]}]}
    t0 = time.monotonic()
    with FakeAWS(seed=seed, tmp_dir=tmp_path) as f:
        started = time.monotonic() - t0
        key = {"access_key": "AKIABIG", "secret": "s" * 40}
        s3 = botocore_client(f, "s3", key=key)
        r = s3.list_objects_v2(Bucket="bench-bucket", Prefix="_cwexport/%s/us-east-1/bench/g1999/" % A)
        assert r["KeyCount"] == 15
        pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket="bench-bucket"))
        assert sum(p["KeyCount"] for p in pages) == 30000 and len(pages) == 30
        logs = botocore_client(f, "logs", key=key)
        assert len(logs.describe_log_groups(logGroupNamePrefix="/bench/g19")["logGroups"]) == 50
    assert started < 10


def test_tls_and_sigterm(tmp_path):
    f = FakeAWS(seed=make_seed(), tmp_dir=tmp_path, tls=True).start()
    try:
        assert f.url.startswith("https://127.0.0.1:") and os.path.exists(f.ca_file)
        assert client(f, "sts").get_caller_identity()["Account"] == A
        assert f.health() == {"ok": True}
        # a client that does not trust the CA is refused
        import botocore.session
        from botocore.exceptions import SSLError
        c = botocore.session.get_session().create_client(
            "sts", "us-east-1", endpoint_url=f.url, aws_access_key_id="x", aws_secret_access_key="y", verify=True,
            config=__import__("botocore.config").config.Config(retries={"total_max_attempts": 1}))
        with pytest.raises(SSLError):
            c.get_caller_identity()
    finally:
        rc = f.stop()
    assert rc == 0


def test_standalone_cli(tmp_path):
    ready = tmp_path / "ready"
    p = subprocess.Popen([PYTHON, "-m", "fakeaws", "--seed", os.path.join(HERE, "seeds", "demo.json"), "--port",
                          "0", "--ready-file", str(ready)], cwd=HERE, stdout=subprocess.PIPE)
    try:
        url = p.stdout.readline().decode().strip()
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.read_text().strip() == url and url.startswith("http://127.0.0.1:")
        info = json.loads((tmp_path / "ready.json").read_text())
        assert info["pid"] == p.pid and info["url"] == url
        port = int(url.rsplit(":", 1)[1])
        s = socket.create_connection(("127.0.0.1", port))
        s.close()
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0


def _export_outcomes(fake, n, between=None):
    """Create n tasks one at a time (each waited for: one active export per account) and
    return their final states in creation order."""
    logs = client(fake, "logs")
    out = []
    for i in range(n):
        if between:
            between()
        tid = logs.create_export_task(logGroupName="/aws/lambda/api", fromTime=i, to=i + 1,
                                      destination=BUCKET_A, taskName="rate-%d" % i)["taskId"]
        out.append(wait_status(logs, tid, ("COMPLETED", "FAILED")))
    return out


def test_task_fail_rate_is_seeded(tmp_path):
    def run(other_draws):
        with FakeAWS(seed=make_seed(), tmp_dir=tmp_path, time_factor=0.001, task_fail_rate=0.5) as f:
            between = None
            if other_draws:  # main-RNG draws between the tasks must not shift the outcomes
                f.faults(throttle_rate=0.5, operations=["GetCallerIdentity"])
                sts = client(f, "sts")

                def between():
                    for _ in range(3):
                        try:
                            sts.get_caller_identity()
                        except ClientError:
                            pass
            outcomes = _export_outcomes(f, 40, between)
            tasks = Timeline(f.timeline()).tasks()
            failed = [d for d in tasks.values() if d["final"] == "FAILED"]
            assert len(failed) == outcomes.count("FAILED")
            assert all([s for _, s in d["states"]] == ["PENDING", "RUNNING", "FAILED"] for d in failed)
            t = client(f, "logs").describe_export_tasks(statusCode="FAILED", limit=1)["exportTasks"][0]
            assert t["status"]["message"] == "Export task failed"
            assert [o["key"] for o in f.s3_list(BUCKET_A, t["destinationPrefix"] + "/" + t["taskId"])] == []
            return outcomes
    a, b = run(False), run(True)
    assert a == b and 10 <= a.count("FAILED") <= 30


def test_task_fail_rate_control(clean):
    clean.settings_update(time_factor=0.001)
    assert clean.call("GET", "settings")["settings"]["task_fail_rate"] == 0.0
    assert _export_outcomes(clean, 40) == ["COMPLETED"] * 40
    assert clean.set_task_fail_rate(1)["task_fail_rate"] == 1.0
    assert _export_outcomes(clean, 3) == ["FAILED"] * 3
    with pytest.raises(ControlError):
        clean.set_task_fail_rate(1.5)
    assert clean.call("GET", "settings")["settings"]["task_fail_rate"] == 1.0
    # foreign tasks are not drawn for; fail-next still decides the message
    clean.fail_next(1, message="boom")
    logs = client(clean, "logs")
    tid = logs.create_export_task(logGroupName="/aws/lambda/api", fromTime=0, to=1,
                                  destination=BUCKET_A)["taskId"]
    wait_status(logs, tid, ("FAILED",))
    assert logs.describe_export_tasks(taskId=tid)["exportTasks"][0]["status"]["message"] == "boom"
    clean.foreign_task(A, duration_s=0.05)
    assert clean.wait_idle(5)
    assert [t["status"]["code"] for t in clean.tasks() if t["foreign"]] == ["COMPLETED"]
    clean.set_task_fail_rate(0)
    assert _export_outcomes(clean, 3) == ["COMPLETED"] * 3
    finals = [d["final"] for d in Timeline(clean.timeline()).tasks().values() if not d["foreign"]]
    assert (finals.count("COMPLETED"), finals.count("FAILED")) == (43, 4)
