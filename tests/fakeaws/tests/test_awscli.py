"""The real AWS CLI v2 (Debian's awscli, /usr/bin/aws) against the fake: every operation
cwexport relies on is accepted with valid credentials and refused with a wrong secret."""
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import A, B, BUCKET_A, KEY_A, ROLE_B, TOPIC

AWS = "/usr/bin/aws"
DAY = 86400000
pytestmark = pytest.mark.skipif(not os.path.exists(AWS), reason="Debian awscli not installed")


def aws(fake, *args, secret=None, key=None, region="us-east-1", check=True):
    k = key or KEY_A
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"),
           "AWS_ACCESS_KEY_ID": k["access_key"], "AWS_SECRET_ACCESS_KEY": secret or k["secret"],
           "AWS_DEFAULT_REGION": region, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
           "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1",
           "AWS_RETRY_MODE": "standard"}
    if k.get("session_token"):
        env["AWS_SESSION_TOKEN"] = k["session_token"]
    p = subprocess.run([AWS, "--endpoint-url", fake.url, "--output", "json"] + list(args), env=env,
                       capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError("aws %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def out(p):
    return json.loads(p.stdout) if p.stdout.strip() else None


@pytest.fixture(scope="module")
def cli(fake, tmp_path_factory):
    fake.reset()
    yield fake


def commands(tmp, tid):
    up = tmp / "up.txt"
    up.write_text("uploaded by the aws cli\n")
    return {
        "create-export-task": ["logs", "create-export-task", "--log-group-name", "/app/gappy", "--from", "0",
                               "--to", "1", "--destination", BUCKET_A, "--destination-prefix", "cli/x"],
        "describe-export-tasks": ["logs", "describe-export-tasks", "--page-size", "2", "--max-items", "3"],
        "cancel-export-task": ["logs", "cancel-export-task", "--task-id", tid],
        "describe-log-groups": ["logs", "describe-log-groups", "--log-group-name-prefix", "/aws/"],
        "describe-log-streams": ["logs", "describe-log-streams", "--log-group-name", "/aws/lambda/api",
                                 "--order-by", "LastEventTime", "--descending"],
        "list-objects-v2": ["s3api", "list-objects-v2", "--bucket", BUCKET_A, "--prefix", "_cwexport/",
                            "--delimiter", "/"],
        "head-object": ["s3api", "head-object", "--bucket", BUCKET_A, "--key", "seeded/hello.txt"],
        "s3 cp up": ["s3", "cp", str(up), "s3://%s/cli/up.txt" % BUCKET_A],
        "s3 cp down": ["s3", "cp", "s3://%s/seeded/hello.txt" % BUCKET_A, str(tmp / "down.txt")],
        "sns publish": ["sns", "publish", "--topic-arn", TOPIC, "--message", "hello from the cli"],
        "get-caller-identity": ["sts", "get-caller-identity"],
        "assume-role": ["sts", "assume-role", "--role-arn", ROLE_B, "--role-session-name", "cli"],
        "get-metric-data": ["cloudwatch", "get-metric-data", "--metric-data-queries", json.dumps([
            {"Id": "api", "MetricStat": {"Metric": {"Namespace": "AWS/Logs", "MetricName": "IncomingBytes",
                                                    "Dimensions": [{"Name": "LogGroupName",
                                                                    "Value": "/aws/lambda/api"}]},
                                         "Period": 86400, "Stat": "Sum"}}]),
            "--start-time", _day(3), "--end-time", _day(0), "--scan-by", "TimestampAscending"],
        "get-metric-statistics": ["cloudwatch", "get-metric-statistics", "--namespace", "AWS/Logs",
                                  "--metric-name", "IncomingBytes", "--dimensions",
                                  "Name=LogGroupName,Value=/aws/lambda/api", "--statistics", "Sum",
                                  "--period", "86400", "--start-time", _day(3), "--end-time", _day(0)],
    }


def _day(back):
    """The UTC midnight `back` days before today's, as the CLI takes a time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((int(time.time()) // 86400 - back) * 86400))


def test_every_operation_refused_with_wrong_secret(cli, tmp_path):
    cmds = commands(tmp_path, "00000000-0000-4000-8000-000000000000")
    with ThreadPoolExecutor(6) as ex:
        res = dict(zip(cmds, ex.map(lambda a: aws(cli, *a, secret="wrong" * 8, check=False), cmds.values())))
    for name, p in res.items():
        assert p.returncode != 0, name
        assert any(c in p.stderr for c in ("InvalidSignatureException", "SignatureDoesNotMatch", "403")), \
            (name, p.stderr)
    assert not os.path.exists(tmp_path / "down.txt")


def test_every_operation_accepted(cli, tmp_path):
    # a RUNNING task for cancel-export-task, made through the API as cwexport would
    # tasks stay PENDING for the 20 s of the seed: longer than the AWS CLI
    # takes to start its second create on a loaded machine
    cli.settings_update(time_factor=1.0)
    try:
        cmds = commands(tmp_path, "placeholder")
        r = out(aws(cli, *cmds["create-export-task"]))
        tid = r["taskId"]
        # a second create in the same account while the first is active
        p = aws(cli, "logs", "create-export-task", "--log-group-name", "/aws/lambda/api", "--from", "0", "--to",
                "1", "--destination", BUCKET_A, check=False)
        assert p.returncode != 0
        # the CLI retries it as a throttle (standard mode), then reports it by name
        assert "An error occurred (LimitExceededException) when calling the CreateExportTask operation" in p.stderr
        assert "Resource limit exceeded." in p.stderr
        cmds = commands(tmp_path, tid)
        del cmds["create-export-task"]
        # cancel first (the task is still active), then everything else in parallel
        assert aws(cli, *cmds.pop("cancel-export-task")).returncode == 0
        with ThreadPoolExecutor(6) as ex:
            res = dict(zip(cmds, ex.map(lambda a: aws(cli, *a), cmds.values())))
    finally:
        cli.settings_update(time_factor=0.01)
    t = out(aws(cli, "logs", "describe-export-tasks", "--task-id", tid))["exportTasks"][0]
    assert t["status"]["code"] == "CANCELLED"
    assert [g["logGroupName"] for g in out(res["describe-log-groups"])["logGroups"]] == [
        "/aws/lambda/api", "/aws/lambda/worker"]
    streams = out(res["describe-log-streams"])["logStreams"]
    assert [s["logStreamName"] for s in streams][-1] == "old"
    assert all(s["storedBytes"] == 0 and s["firstEventTimestamp"] <= s["lastEventTimestamp"]
               for s in streams)
    assert out(res["list-objects-v2"])["CommonPrefixes"] == [{"Prefix": "_cwexport/%s/" % A}]
    assert out(res["head-object"])["ContentLength"] == 5
    assert cli.s3_get(BUCKET_A, "cli/up.txt") == b"uploaded by the aws cli\n"
    assert (tmp_path / "down.txt").read_bytes() == b"hello"
    assert out(res["sns publish"])["MessageId"]
    assert cli.sns_messages()[-1]["message"] == "hello from the cli"
    assert out(res["get-caller-identity"])["Account"] == A
    creds = out(res["assume-role"])["Credentials"]
    kb = {"access_key": creds["AccessKeyId"], "secret": creds["SecretAccessKey"],
          "session_token": creds["SessionToken"]}
    assert out(aws(cli, "sts", "get-caller-identity", key=kb))["Account"] == B
    # CloudWatch: three daily sums of the group's 50 MB a day, both ways of asking.
    gmd = out(res["get-metric-data"])["MetricDataResults"][0]
    assert gmd["Id"] == "api" and gmd["StatusCode"] == "Complete" and gmd["Values"] == [50e6] * 3
    assert gmd["Timestamps"][0].startswith(_day(3)[:10])
    stats = out(res["get-metric-statistics"])
    assert stats["Label"] == "IncomingBytes" and [p["Sum"] for p in stats["Datapoints"]] == [50e6] * 3


def test_cli_paging(cli):
    for i in range(7):
        cli.inject_task(A, "us-east-1", "/aws/lambda/worker", i * DAY, (i + 1) * DAY - 1, status="COMPLETED",
                        name="page-%d" % i, destination=BUCKET_A, prefix="page/%d" % i)
    all_tasks = out(aws(cli, "logs", "describe-export-tasks", "--status-code", "COMPLETED"))["exportTasks"]
    names = [t["taskName"] for t in all_tasks if t.get("taskName", "").startswith("page-")]
    assert names == ["page-%d" % i for i in range(6, -1, -1)]
    # --page-size 2: the CLI follows nextToken over 4 calls
    before = cli.stats()["by_operation"].get("DescribeExportTasks", 0)
    paged = out(aws(cli, "logs", "describe-export-tasks", "--status-code", "COMPLETED", "--page-size", "2"))
    assert [t["taskId"] for t in paged["exportTasks"]] == [t["taskId"] for t in all_tasks]
    assert cli.stats()["by_operation"]["DescribeExportTasks"] - before == (len(all_tasks) + 1) // 2
    # --max-items: a resumable NextToken
    first = out(aws(cli, "logs", "describe-export-tasks", "--status-code", "COMPLETED", "--page-size", "2",
                    "--max-items", "3"))
    assert len(first["exportTasks"]) == 3 and first["NextToken"]
    rest = out(aws(cli, "logs", "describe-export-tasks", "--status-code", "COMPLETED", "--page-size", "2",
                   "--starting-token", first["NextToken"]))
    assert [t["taskId"] for t in first["exportTasks"] + rest["exportTasks"]] == [t["taskId"] for t in all_tasks]
    # describe-log-groups paging over the generated groups
    groups = out(aws(cli, "logs", "describe-log-groups", "--log-group-name-prefix", "/bench/", "--page-size",
                     "25"))["logGroups"]
    assert len(groups) == 120
    pat = out(aws(cli, "logs", "describe-log-groups", "--log-group-name-pattern", "g011"))["logGroups"]
    assert [g["logGroupName"] for g in pat] == ["/bench/g%04d" % i for i in range(110, 120)]
    assert "storedBytes" not in pat[0]
    # list-objects-v2 paging: 360 markers by pages of 100; and the delimiter view
    objs = out(aws(cli, "s3api", "list-objects-v2", "--bucket", BUCKET_A, "--prefix", "_cwexport/",
                   "--page-size", "100"))
    assert len(objs["Contents"]) == 360
    few = out(aws(cli, "s3api", "list-objects-v2", "--bucket", BUCKET_A, "--prefix", "_cwexport/", "--max-items",
                  "150", "--page-size", "100"))
    assert len(few["Contents"]) == 150 and few["NextToken"]
    d = out(aws(cli, "s3api", "list-objects-v2", "--bucket", BUCKET_A, "--prefix",
                "_cwexport/%s/us-east-1/bench/" % A, "--delimiter", "/", "--page-size", "7"))
    assert len(d["CommonPrefixes"]) == 30
    ls = aws(cli, "s3", "ls", "s3://%s/_cwexport/%s/us-east-1/bench/g0001/" % (BUCKET_A, A))
    assert len(ls.stdout.strip().splitlines()) == 12


def test_cli_export_visible_in_s3(cli, tmp_path):
    now = int(time.time() * 1000)
    while cli.tasks(active=True):
        time.sleep(0.05)
    tid = out(aws(cli, "logs", "create-export-task", "--log-group-name", "/aws/lambda/api", "--from",
                  str(now - 3 * DAY), "--to", str(now - DAY), "--destination", BUCKET_A, "--destination-prefix",
                  "cli/export"))["taskId"]
    deadline = time.time() + 20
    while time.time() < deadline:
        t = out(aws(cli, "logs", "describe-export-tasks", "--task-id", tid))["exportTasks"][0]
        if t["status"]["code"] == "COMPLETED":
            break
        time.sleep(0.1)
    assert t["status"]["code"] == "COMPLETED"
    keys = [o["Key"] for o in out(aws(cli, "s3api", "list-objects-v2", "--bucket", BUCKET_A, "--prefix",
                                      "cli/export/"))["Contents"]]
    assert "cli/export/aws-logs-write-test" in keys
    gz = [k for k in keys if k.endswith("/000000.gz")]
    assert gz and all(k.startswith("cli/export/%s/" % tid) for k in gz)
    aws(cli, "s3", "cp", "s3://%s/%s" % (BUCKET_A, gz[0]), str(tmp_path / "x.gz"))
    import gzip
    assert gzip.decompress((tmp_path / "x.gz").read_bytes())
