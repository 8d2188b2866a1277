import gzip
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import (A, B, BUCKET_A, BUCKET_A_EU, BUCKET_B, KEY_B, client, signed_request, wait_status)

DAY = 86400000


def now_ms():
    return int(time.time() * 1000)


def code(exc):
    return exc.value.response["Error"]["Code"]


def create(logs, group="/aws/lambda/api", frm=None, to=None, dest=BUCKET_A, prefix="t", **kw):
    n = now_ms()
    frm = n - 10 * DAY if frm is None else frm
    to = n - DAY if to is None else to
    return logs.create_export_task(logGroupName=group, fromTime=frm, to=to, destination=dest,
                                   destinationPrefix=prefix, **kw)["taskId"]


def test_progression_and_limit(clean):
    clean.set_time_factor(0.03)  # ~0.6 s PENDING, ~0.6 s RUNNING (reset by the next test)
    logs = client(clean, "logs")
    logs_eu = client(clean, "logs", region="eu-west-1")
    tid = create(logs, taskName="first")
    t = logs.describe_export_tasks(taskId=tid)["exportTasks"][0]
    assert t["status"]["code"] == "PENDING"
    assert set(t) == {"taskId", "taskName", "logGroupName", "from", "to", "destination", "destinationPrefix",
                      "status", "executionInfo"}
    assert set(t["executionInfo"]) == {"creationTime"}
    assert wait_status(logs, tid, ("RUNNING", "COMPLETED")) == "RUNNING"
    with pytest.raises(ClientError) as e:
        create(logs, group="/aws/lambda/worker")
    assert code(e) == "LimitExceededException"
    assert e.value.response["Error"]["Message"] == "Resource limit exceeded."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # account scope: the other region of the same account is busy too
    with pytest.raises(ClientError) as e:
        create(logs_eu, dest=BUCKET_A_EU)
    assert code(e) == "LimitExceededException"
    assert wait_status(logs, tid, ("COMPLETED",)) == "COMPLETED"
    t = logs.describe_export_tasks(taskId=tid)["exportTasks"][0]
    assert t["executionInfo"]["completionTime"] >= t["executionInfo"]["creationTime"]
    assert t["status"]["message"] == "Completed successfully"
    create(logs, group="/aws/lambda/worker")  # slot free again


def test_region_scope_account_b(clean):
    east, west = client(clean, "logs", key=KEY_B), client(clean, "logs", region="eu-west-1", key=KEY_B)
    create(east, dest=BUCKET_B)
    clean.add_bucket("cwx-b-west", region="eu-west-1", account=B)
    create(west, dest="cwx-b-west")  # different region: own token
    with pytest.raises(ClientError) as e:
        create(east, dest=BUCKET_B)
    assert code(e) == "LimitExceededException"


def test_export_objects(clean):
    logs = client(clean, "logs")
    n = now_ms()
    tid = create(logs, frm=n - 5 * DAY, to=n - DAY, prefix="exp/one")
    wait_status(logs, tid, ("COMPLETED",))
    objs = {o["key"]: o for o in clean.s3_list(BUCKET_A, "exp/one/")}
    assert objs["exp/one/aws-logs-write-test"]["size"] == 27
    assert clean.s3_get(BUCKET_A, "exp/one/aws-logs-write-test") == b"Permission Check Successful"
    data_keys = sorted(k for k in objs if k.endswith(".gz"))
    # stream "old" stopped 200 days ago: no events in this window
    assert data_keys == ["exp/one/%s/web-1/000000.gz" % tid, "exp/one/%s/web-2/000000.gz" % tid]
    for k in data_keys:
        body = clean.s3_get(BUCKET_A, k)
        assert len(body) < 8192
        lines = gzip.decompress(body).decode().splitlines()
        assert lines and all(l[:4].isdigit() and l[23] == "Z" for l in lines)


def test_empty_window_only_write_test(clean):
    logs = client(clean, "logs")
    n = now_ms()
    # before the group's creation
    tid = create(logs, frm=n - 900 * DAY, to=n - 800 * DAY, prefix="exp/empty")
    wait_status(logs, tid, ("COMPLETED",))
    assert [o["key"] for o in clean.s3_list(BUCKET_A, "exp/empty/")] == ["exp/empty/aws-logs-write-test"]
    tid = create(logs, group="/app/empty", prefix="exp/empty2")
    wait_status(logs, tid, ("COMPLETED",))
    assert [o["key"] for o in clean.s3_list(BUCKET_A, "exp/empty2/")] == ["exp/empty2/aws-logs-write-test"]


def test_stream_prefix_and_retention(clean):
    logs = client(clean, "logs")
    n = now_ms()
    tid = create(logs, frm=n - 5 * DAY, to=n - DAY, prefix="exp/sp", logStreamNamePrefix="web-2")
    wait_status(logs, tid, ("COMPLETED",))
    assert sorted(o["key"] for o in clean.s3_list(BUCKET_A, "exp/sp/")) == [
        "exp/sp/%s/web-2/000000.gz" % tid, "exp/sp/aws-logs-write-test"]
    # retention 30 days: a window 60 days back is empty
    tid = create(logs, group="/aws/lambda/worker", frm=n - 70 * DAY, to=n - 60 * DAY, prefix="exp/ret")
    wait_status(logs, tid, ("COMPLETED",))
    assert [o["key"] for o in clean.s3_list(BUCKET_A, "exp/ret/")] == ["exp/ret/aws-logs-write-test"]


def test_validation_errors(clean):
    logs = client(clean, "logs", parameter_validation=False)
    n = now_ms()
    cases = [
        (dict(logGroupName="bad name!", fromTime=0, to=1, destination=BUCKET_A), "InvalidParameterException",
         "regular expression pattern"),
        (dict(logGroupName="/aws/lambda/api", fromTime=0, to=1), "InvalidParameterException", "destination"),
        (dict(logGroupName="/aws/lambda/api", fromTime=-5, to=1, destination=BUCKET_A),
         "InvalidParameterException", "greater than or equal to 0"),
        (dict(logGroupName="x" * 513, fromTime=0, to=1, destination=BUCKET_A),
         "InvalidParameterException", "less than or equal to 512"),
        (dict(logGroupName="/aws/lambda/api", fromTime=n, to=n - 1, destination=BUCKET_A),
         "InvalidParameterException", "time range"),
        (dict(logGroupName="/nope", fromTime=0, to=1, destination=BUCKET_A), "ResourceNotFoundException",
         "does not exist"),
        (dict(logGroupName="/aws/lambda/api", fromTime=0, to=1, destination="no-such-bucket"),
         "InvalidParameterException", "bucket does not exist"),
        (dict(logGroupName="/aws/lambda/api", fromTime=0, to=1, destination=BUCKET_A_EU),
         "InvalidParameterException", "different region"),
        (dict(logGroupName="/aws/lambda/api", fromTime=0, to=1, destination="cwx-denied"),
         "InvalidParameterException", "PutObject call on the given bucket failed"),
        (dict(logGroupName="/aws/lambda/api", fromTime=0, to=1, destination="cwx-private-b"),
         "InvalidParameterException", "GetBucketAcl"),
    ]
    for params, want, msg in cases:
        with pytest.raises(ClientError) as e:
            logs.create_export_task(**params)
        assert code(e) == want, params
        assert msg in e.value.response["Error"]["Message"], (params, e.value.response["Error"])
    # from == to is accepted
    create(logs, frm=n - DAY, to=n - DAY)


def test_wrong_types_are_serialization_errors(clean):
    st, h, body = signed_request(clean, "logs", body=json.dumps(
        {"logGroupName": "/aws/lambda/api", "from": "yesterday", "to": 1, "destination": BUCKET_A}).encode(),
        headers={"X-Amz-Target": "Logs_20140328.CreateExportTask", "Content-Type": "application/x-amz-json-1.1"})
    assert st == 400
    assert json.loads(body)["__type"].endswith("SerializationException")
    st, h, body = signed_request(clean, "logs", body=b"{not json", headers={
        "X-Amz-Target": "Logs_20140328.DescribeExportTasks", "Content-Type": "application/x-amz-json-1.1"})
    assert st == 400 and json.loads(body)["__type"].endswith("SerializationException")
    assert h["x-amzn-requestid"] and h["date"]
    st, h, body = signed_request(clean, "logs", body=b"{}", headers={
        "X-Amz-Target": "Logs_20140328.NoSuchOp", "Content-Type": "application/x-amz-json-1.1"})
    assert st == 400 and json.loads(body)["__type"].endswith("UnknownOperationException")


def test_describe_export_tasks_paging_and_filters(clean):
    logs = client(clean, "logs")
    ids = []
    for i in range(7):
        t = clean.inject_task(A, "us-east-1", "/aws/lambda/api", i * DAY, (i + 1) * DAY - 1, status="COMPLETED",
                              name="inj-%d" % i, destination=BUCKET_A, prefix="inj/%d" % i)
        ids.append(t["taskId"])
    running = create(logs, prefix="run")
    seen, token = [], None
    while True:
        kw = {"limit": 3}
        if token:
            kw["nextToken"] = token
        r = logs.describe_export_tasks(**kw)
        assert len(r["exportTasks"]) <= 3
        seen += [t["taskId"] for t in r["exportTasks"]]
        token = r.get("nextToken")
        if not token:
            break
    assert seen == [running] + ids[::-1]  # newest first
    done = logs.describe_export_tasks(statusCode="COMPLETED")["exportTasks"]
    assert [t["taskId"] for t in done] == ids[::-1]
    assert logs.describe_export_tasks(taskId=ids[2])["exportTasks"][0]["taskName"] == "inj-2"
    assert logs.describe_export_tasks(taskId="00000000-0000-4000-8000-000000000000")["exportTasks"] == []
    # other accounts and regions do not see these tasks
    assert client(clean, "logs", key=KEY_B).describe_export_tasks()["exportTasks"] == []
    assert client(clean, "logs", region="eu-west-1").describe_export_tasks()["exportTasks"] == []
    raw = client(clean, "logs", parameter_validation=False)
    for bad in ({"limit": 0}, {"limit": 51}, {"statusCode": "DONE"}):
        with pytest.raises(ClientError) as e:
            raw.describe_export_tasks(**bad)
        assert code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.describe_export_tasks(nextToken="garbage")
    assert code(e) == "InvalidParameterException"


def test_cancel(clean):
    logs = client(clean, "logs")
    tid = create(logs)
    logs.cancel_export_task(taskId=tid)
    t = logs.describe_export_tasks(taskId=tid)["exportTasks"][0]
    assert t["status"]["code"] == "CANCELLED" and "completionTime" in t["executionInfo"]
    with pytest.raises(ClientError) as e:
        logs.cancel_export_task(taskId=tid)
    assert code(e) == "InvalidOperationException"
    with pytest.raises(ClientError) as e:
        logs.cancel_export_task(taskId="00000000-0000-4000-8000-000000000000")
    assert code(e) == "ResourceNotFoundException"
    create(logs)  # the slot was released
    time.sleep(0.5)
    assert logs.describe_export_tasks(taskId=tid)["exportTasks"][0]["status"]["code"] == "CANCELLED"


def test_describe_log_groups(clean):
    logs = client(clean, "logs")
    r = logs.describe_log_groups(logGroupNamePrefix="/aws/")
    names = [g["logGroupName"] for g in r["logGroups"]]
    assert names == ["/aws/lambda/api", "/aws/lambda/worker"]
    g = r["logGroups"][1]
    assert g["retentionInDays"] == 30 and g["storedBytes"] > 0
    assert g["arn"] == "arn:aws:logs:us-east-1:%s:log-group:/aws/lambda/worker:*" % A
    empty = logs.describe_log_groups(logGroupNamePrefix="/app/empty")["logGroups"][0]
    assert empty["storedBytes"] == 0 and "retentionInDays" not in empty
    pat = logs.describe_log_groups(logGroupNamePattern="lambda")["logGroups"]
    assert [set(x) for x in pat] == [{"arn", "creationTime", "logGroupName"}] * 2
    assert logs.describe_log_groups(logGroupNamePattern="LAMBDA")["logGroups"] == []
    with pytest.raises(ClientError) as e:
        logs.describe_log_groups(logGroupNamePrefix="/a", logGroupNamePattern="b")
    assert code(e) == "InvalidParameterException"
    # pagination over the 124 groups of this account+region
    names, token, pages = [], None, 0
    while True:
        kw = {"limit": 50}
        if token:
            kw["nextToken"] = token
        r = logs.describe_log_groups(**kw)
        pages += 1
        names += [x["logGroupName"] for x in r["logGroups"]]
        token = r.get("nextToken")
        if not token:
            break
    assert pages == 3 and len(names) == len(set(names)) == 124 and names == sorted(names)
    assert len(logs.describe_log_groups()["logGroups"]) == 50  # default limit
    # logGroupIdentifiers (newer than this botocore's model): names or ARNs
    st, h, body = signed_request(clean, "logs", body=json.dumps({"logGroupIdentifiers": [
        "/aws/lambda/worker", "arn:aws:logs:us-east-1:%s:log-group:/app/empty:*" % A, "/nope"]}).encode(),
        headers={"X-Amz-Target": "Logs_20140328.DescribeLogGroups", "Content-Type": "application/x-amz-json-1.1"})
    assert st == 200
    assert [g["logGroupName"] for g in json.loads(body)["logGroups"]] == ["/app/empty", "/aws/lambda/worker"]


def test_fail_next_and_foreign_task(clean):
    logs = client(clean, "logs")
    clean.fail_next(1, account=A, message="Export failed: injected")
    tid = create(logs)
    assert wait_status(logs, tid, ("FAILED", "COMPLETED")) == "FAILED"
    t = logs.describe_export_tasks(taskId=tid)["exportTasks"][0]
    assert t["status"]["message"] == "Export failed: injected"
    assert [o["key"] for o in clean.s3_list(BUCKET_A, "t/")] == ["t/aws-logs-write-test"]
    tid = create(logs)
    assert wait_status(logs, tid, ("FAILED", "COMPLETED")) == "COMPLETED"
    # a foreign task holds the slot for ~0.6 s
    f = clean.foreign_task(A, "us-east-1", duration_s=0.6, name="other-tool-export")
    with pytest.raises(ClientError) as e:
        create(logs)
    assert code(e) == "LimitExceededException"
    active = logs.describe_export_tasks(statusCode="RUNNING")["exportTasks"]
    assert [t["taskName"] for t in active] == ["other-tool-export"] and active[0]["taskId"] == f["taskId"]
    wait_status(logs, f["taskId"], ("COMPLETED",))
    create(logs)


def test_describe_log_streams(clean):
    clean.settings_update(describe_log_streams_tps=100)  # the quota has its own test
    logs = client(clean, "logs")
    n = now_ms()
    r = logs.describe_log_streams(logGroupName="/aws/lambda/api")
    names = [s["logStreamName"] for s in r["logStreams"]]
    assert names == ["old", "web-1", "web-2"]
    for s in r["logStreams"]:
        assert s["storedBytes"] == 0
        assert s["firstEventTimestamp"] <= s["lastEventTimestamp"] <= now_ms()
        assert s["lastIngestionTime"] >= s["lastEventTimestamp"]
    old = r["logStreams"][0]
    assert abs(old["lastEventTimestamp"] - (n - 200 * DAY)) < 2 * DAY
    # Newest last event first; the stream that ended long ago comes last.
    r = logs.describe_log_streams(logGroupName="/aws/lambda/api", orderBy="LastEventTime",
                                  descending=True, limit=2)
    assert [s["logStreamName"] for s in r["logStreams"]][1:] != ["old"] and "nextToken" in r
    r2 = logs.describe_log_streams(logGroupName="/aws/lambda/api", orderBy="LastEventTime",
                                   descending=True, limit=2, nextToken=r["nextToken"])
    assert [s["logStreamName"] for s in r2["logStreams"]] == ["old"] and "nextToken" not in r2
    # By logGroupIdentifier (an ARN; newer than this botocore's model, so sent
    # as AWS takes it); a prefix only with LogStreamName order.
    arn = "arn:aws:logs:us-east-1:%s:log-group:/aws/lambda/api:*" % A
    st, _, body = signed_request(clean, "logs", body=json.dumps(
        {"logGroupIdentifier": arn, "logStreamNamePrefix": "web-"}).encode(),
        headers={"X-Amz-Target": "Logs_20140328.DescribeLogStreams",
                 "Content-Type": "application/x-amz-json-1.1"})
    assert st == 200
    assert [s["logStreamName"] for s in json.loads(body)["logStreams"]] == ["web-1", "web-2"]
    with pytest.raises(ClientError) as e:
        logs.describe_log_streams(logGroupName="/aws/lambda/api", orderBy="LastEventTime",
                                  logStreamNamePrefix="web-")
    assert code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.describe_log_streams(logGroupName="/no/such")
    assert code(e) == "ResourceNotFoundException"
    # A group without data: streams without timestamps.
    assert logs.describe_log_streams(logGroupName="/app/empty")["logStreams"] == []


def test_describe_log_streams_quota(clean):
    clean.settings_update(describe_log_streams_tps=3)
    try:
        logs = client(clean, "logs")  # one attempt: the throttles are seen
        codes = []
        for _ in range(6):
            try:
                logs.describe_log_streams(logGroupName="/aws/lambda/worker")
                codes.append("ok")
            except ClientError as e:
                codes.append(e.response["Error"]["Code"])
        # A burst of 3 passes; the bucket refills 3 a second while the calls go on.
        assert codes[:3] == ["ok"] * 3 and codes.count("ThrottlingException") >= 2
    finally:
        clean.settings_update(describe_log_streams_tps=5)
