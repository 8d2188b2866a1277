"""`cwexport doctor` against the fake AWS: a good config passes with exit 0; a
misconfigured one (bucket in another region, missing log group, no write
access, wrong credentials, missing topic) names each problem with its fix and
exits non-zero (3 for credentials and permissions, 1 otherwise)."""
import json

import pytest

from fixture import FakeAWS

A1, A2 = "210987654321", "310987654321"
KEYS = {A1: {"access_key": "AKIADOCTOR0000000001", "secret": "doctorsecret1" + "x" * 27, "account": A1},
        A2: {"access_key": "AKIADOCTOR0000000002", "secret": "doctorsecret2" + "x" * 27, "account": A2}}
TOPIC = "arn:aws:sns:us-east-1:%s:cwexport-alerts" % A1


def world():
    groups = []
    for a in (A1, A2):
        for r in ("us-east-1", "eu-west-1"):
            for name in ("/app/api", "/app/web"):
                g = {"name": name, "account": a, "region": r, "created": "now-100d",
                     "bytes_per_day": 1e6, "streams": 1}
                if name == "/app/web":
                    g["retentionInDays"] = 90
                groups.append(g)
    return {
        "settings": {"time_factor": 0.01},
        "accounts": [{"id": a, "name": "acct-" + a, "keys": [KEYS[a]]} for a in (A1, A2)],
        "sns_topics": [TOPIC],
        "buckets": [
            {"name": "doc-%s-us-east-1" % A1, "account": A1, "region": "us-east-1"},
            {"name": "doc-%s-eu-west-1" % A1, "account": A1, "region": "eu-west-1"},
            {"name": "doc-elsewhere-%s" % A1, "account": A1, "region": "eu-west-1"},
            {"name": "doc-%s-us-east-1" % A2, "account": A2, "region": "us-east-1", "deny_write": True},
        ],
        "log_groups": groups,
    }


@pytest.fixture
def fake(tmp_path):
    with FakeAWS(seed=world(), tmp_dir=tmp_path) as f:
        yield f


def write_config(tmp_path, accounts, notify=TOPIC, name="doctor.yaml"):
    cfg = {"version": 1,
           "defaults": {"region": "us-east-1",
                        "destination": {"bucket": "doc-{account_id}-{region}"}},
           "range": {"last": 2},
           "accounts": accounts}
    if notify:
        cfg["notify"] = {"sns_topic_arn": notify}
    p = tmp_path / name
    p.write_text(json.dumps(cfg, indent=1) + "\n")
    creds = tmp_path / "credentials"
    creds.write_text("".join("[p%d]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n"
                             % (i, KEYS[a]["access_key"], KEYS[a]["secret"])
                             for i, a in enumerate((A1, A2))))
    return p


def doctor(cwx, fake, tmp_path, cfg, *extra, check=None):
    env = fake.env(KEYS[A1])
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "credentials")
    return cwx("doctor", "-c", cfg, *extra, env=env, check=check)


def checks_json(cwx, fake, tmp_path, cfg, *extra):
    p = doctor(cwx, fake, tmp_path, cfg, "--format", "json", *extra)
    doc = json.loads(p.stdout)
    assert doc["exit_code"] == p.returncode
    return p.returncode, doc


def by_key(doc):
    return {(c["account"], c["region"], c["check"], c["subject"]): c for c in doc["checks"]}


def requests(fake):
    return [e for e in fake.timeline(kind="request")]


def test_good_config_passes(cwx, fake, tmp_path):
    cfg = write_config(tmp_path, [{
        "name": "prod", "profile": "p0", "regions": ["us-east-1", "eu-west-1"],
        "log_groups": [{"name": "/app/api"}, {"name": "/app/web"}, {"prefix": "/app/"},
                       {"pattern": "we"}]}])
    fake.clear_timeline()
    p = doctor(cwx, fake, tmp_path, cfg, check=0)
    assert "FAIL" not in p.stdout and "0 failed" in p.stdout, p.stdout
    for line in ("credentials", "bucket", "write", "log group", "selector", "sns topic"):
        assert line in p.stdout
    # The probe was written and deleted in both buckets; nothing else was
    # written, nothing exported, nothing published.
    ops = [e["op"] for e in requests(fake)]
    assert ops.count("PutObject") == 2 and ops.count("DeleteObject") == 2
    assert "CreateExportTask" not in ops and "Publish" not in ops
    for r in ("us-east-1", "eu-west-1"):
        assert fake.s3_list("doc-%s-%s" % (A1, r)) == []
    code, doc = checks_json(cwx, fake, tmp_path, cfg)
    assert code == 0
    assert {c["result"] for c in doc["checks"]} == {"pass"}
    assert doc["totals"]["checks"] == 1 + 2 * (2 + 4) + 1
    cred = by_key(doc)[("prod", None, "credentials", "profile p0")]
    assert A1 in cred["detail"]


def test_misconfigured_accounts_name_each_problem(cwx, fake, tmp_path):
    cfg = write_config(tmp_path, [
        {"name": "prod", "profile": "p0", "regions": ["us-east-1"],
         "destination": {"bucket": "doc-elsewhere-{account_id}"},
         "log_groups": [{"name": "/app/api"}, {"name": "/app/missing"}]},
        {"name": "shared", "profile": "p1", "regions": ["us-east-1"],
         "log_groups": [{"name": "/app/web"}]},
    ], notify="arn:aws:sns:us-east-1:%s:no-such-topic" % A1)
    p = doctor(cwx, fake, tmp_path, cfg)
    # No write access is a permission problem: exit 3.
    assert p.returncode == 3, p.stdout + p.stderr
    out = p.stdout
    assert "bucket doc-elsewhere-%s is in eu-west-1, the log groups are in us-east-1" % A1 in out
    assert "log group /app/missing does not exist in us-east-1" in out
    assert "cannot write s3://doc-%s-us-east-1/_cwexport/" % A2 in out
    assert "topic not reachable" in out
    assert out.count("fix: ") == 4
    code, doc = checks_json(cwx, fake, tmp_path, cfg)
    assert code == 3
    c = by_key(doc)
    bucket = c[("prod", "us-east-1", "bucket", "doc-elsewhere-%s" % A1)]
    assert bucket["result"] == "fail" and "us-east-1" in bucket["fix"] and not bucket["permission"]
    assert c[("prod", "us-east-1", "write", "s3://doc-elsewhere-%s/_cwexport/" % A1)]["result"] == "skip"
    assert c[("prod", "us-east-1", "log group", "/app/api")]["result"] == "pass"
    missing = c[("prod", "us-east-1", "log group", "/app/missing")]
    assert missing["result"] == "fail" and "log_groups" in missing["fix"]
    write = c[("shared", "us-east-1", "write", "s3://doc-%s-us-east-1/_cwexport/" % A2)]
    assert write["result"] == "fail" and write["permission"] and "s3:PutObject" in write["fix"]
    assert c[("shared", "us-east-1", "bucket", "doc-%s-us-east-1" % A2)]["result"] == "pass"
    assert doc["totals"]["fail"] == 4


def test_wrong_region_and_missing_group_exit_1(cwx, fake, tmp_path):
    cfg = write_config(tmp_path, [
        {"name": "prod", "profile": "p0", "regions": ["us-east-1"],
         "destination": {"bucket": "doc-elsewhere-{account_id}"},
         "log_groups": [{"name": "/app/missing"}]}], notify=None)
    p = doctor(cwx, fake, tmp_path, cfg, check=1)
    assert "is in eu-west-1" in p.stdout and "/app/missing does not exist" in p.stdout


def test_bad_credentials_exit_3(cwx, fake, tmp_path):
    cfg = write_config(tmp_path, [
        {"name": "prod", "regions": ["us-east-1"], "log_groups": [{"name": "/app/api"}]},
        {"name": "wrong-id", "profile": "p1", "account_id": "999999999999", "regions": ["us-east-1"],
         "log_groups": [{"name": "/app/api"}]}], notify=None)
    env = fake.env({"access_key": "AKIADOCTORUNKNOWN001", "secret": "z" * 40})
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "credentials")
    p = cwx("doctor", "-c", cfg, "--format", "json", env=env)
    assert p.returncode == 3, p.stdout + p.stderr
    c = by_key(json.loads(p.stdout))
    cred = c[("prod", None, "credentials", "default credential chain")]
    assert cred["result"] == "fail" and cred["permission"] and "AWS_ACCESS_KEY_ID" in cred["fix"]
    # Nothing else of that account is checked.
    assert c[("prod", "us-east-1", "log group", "/app/api")]["result"] == "skip"
    mismatch = c[("wrong-id", None, "credentials", "profile p1")]
    assert mismatch["result"] == "fail" and A2 in mismatch["detail"] and "999999999999" in mismatch["detail"]


def test_publish_test_sends_one_message(cwx, fake, tmp_path):
    cfg = write_config(tmp_path, [{"name": "prod", "profile": "p0", "regions": ["us-east-1"],
                                   "log_groups": [{"name": "/app/api"}]}])
    doctor(cwx, fake, tmp_path, cfg, check=0)
    assert fake.sns_messages() == []
    p = doctor(cwx, fake, tmp_path, cfg, "--publish-test", check=0)
    assert "test message published" in p.stdout
    (msg,) = fake.sns_messages()
    assert msg["topic_arn"] == TOPIC and "cwexport doctor" in msg["message"]


def test_usage(cwx, tmp_path):
    out = cwx("doctor", "--help", check=0).stdout
    assert "--publish-test" in out and "Exit codes" in out
    cwx("doctor", check=2)
    cwx("doctor", "-c", "x.yaml", "--format", "xml", check=2)


def test_missing_bucket_is_named(cwx, fake, tmp_path):
    cfg = write_config(tmp_path, [
        {"name": "prod", "profile": "p0", "regions": ["us-east-1"],
         "destination": {"bucket": "doc-nowhere-{account_id}"},
         "log_groups": [{"name": "/app/api"}]}], notify=None)
    p = doctor(cwx, fake, tmp_path, cfg, check=1)
    assert "bucket doc-nowhere-%s does not exist" % A1 in p.stdout, p.stdout
    assert "out of memory" not in p.stdout
    assert "aws s3api create-bucket --bucket doc-nowhere-%s --region us-east-1" % A1 in p.stdout
    code, doc = checks_json(cwx, fake, tmp_path, cfg)
    assert code == 1
    c = by_key(doc)
    bucket = c[("prod", "us-east-1", "bucket", "doc-nowhere-%s" % A1)]
    assert bucket["result"] == "fail" and not bucket["permission"], bucket
    assert c[("prod", "us-east-1", "write", "s3://doc-nowhere-%s/_cwexport/" % A1)]["result"] == "skip"
