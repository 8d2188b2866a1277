"""The logs, s3, sns and sts clients against the fake AWS.

Each test runs tests/integration/aws_clients_probe.c (one call per run, the
outcome as one JSON line), asserts on the typed result, and checks in the
fake's timeline that every request it sent was verified (botocore checks
each SigV4 signature) — and that a request signed with a wrong secret is
refused.
"""
import json
import os
import pathlib
import subprocess
import time

import pytest

from fixture import DEMO_KEY, DEMO_ROLE, FakeAWS, demo_seed

ROOT = pathlib.Path(__file__).resolve().parents[2]
ACCOUNT = DEMO_KEY["account"]
BUCKET = "cwexport-demo-111111111111-us-east-1"
BUCKET_EU = "cwexport-demo-111111111111-eu-west-1"
TOPIC = "arn:aws:sns:us-east-1:111111111111:cwexport-demo"
AUTH_FAILURES = {"SignatureDoesNotMatch", "IncompleteSignature", "InvalidSignatureException",
                 "MissingAuthenticationToken", "MissingAuthenticationTokenException",
                 "InvalidClientTokenId", "UnrecognizedClientException",
                 "XAmzContentSHA256Mismatch", "AuthorizationHeaderMalformed",
                 "RequestTimeTooSkewed"}


def _find_probe():
    env = os.environ.get("CWX_PROBE")
    if env:
        return env
    dirs = [os.environ.get("CWX_BUILD_DIR")] + [str(ROOT / d) for d in ("build/sanitize", "build/release",
                                                                           "build")]
    for d in dirs:
        if d and os.path.exists(os.path.join(d, "tests", "integration", "aws_clients_probe")):
            return os.path.join(d, "tests", "integration", "aws_clients_probe")
    pytest.fail("aws_clients_probe not built (cmake --build build --target aws_clients_probe)")


@pytest.fixture(scope="module")
def probe_bin():
    return _find_probe()


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    with FakeAWS(seed=demo_seed(), tmp_dir=tmp_path_factory.mktemp("fake"), time_factor=0.0005) as f:
        yield f


@pytest.fixture
def probe(fake, probe_bin):
    """probe(op, **args) -> the parsed JSON line; asserts the run was clean."""
    seen = {"since": 0}

    def run(op, env_extra=None, region="us-east-1", **args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(fake.env(region=region))
        if env_extra:
            env.update(env_extra)
        cmd = [probe_bin, op] + ["%s=%s" % (k, v) for k, v in args.items() if v is not None]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, "probe %s exited %d\n%s\n%s" % (op, p.returncode, p.stdout, p.stderr)
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        assert lines, "no output from probe %s:\n%s\n%s" % (op, p.stdout, p.stderr)
        out = json.loads(lines[-1])
        assert out["callbacks"] == 1, out
        assert out["loop_closed"], out
        # secrets never reach the output
        assert DEMO_KEY["secret"] not in p.stdout + p.stderr
        return out

    return run


def _requests(fake, since_seq=0):
    return [e for e in fake.timeline(kind="request") if e["seq"] > since_seq]


def _last_seq(fake):
    ev = fake.timeline()
    return ev[-1]["seq"] if ev else 0


@pytest.fixture
def verified(fake):
    """After the test: every request it made was authenticated by the fake."""
    start = _last_seq(fake)
    yield
    reqs = _requests(fake, start)
    assert reqs, "the test sent no request"
    bad = [r for r in reqs if r.get("outcome") in AUTH_FAILURES]
    assert not bad, "requests refused by the fake's signature check: %s" % bad
    assert any(r.get("outcome") == "ok" for r in reqs)


# ---- sts ---------------------------------------------------------------------------

def test_sts_get_caller_identity(probe, verified):
    out = probe("sts.identity")
    assert out["status"] == "OK", out
    assert out["result"]["account"] == ACCOUNT
    assert out["result"]["arn"].startswith("arn:aws:iam::111111111111:")
    assert out["request_id"]


def test_sts_assume_role(probe, verified, fake):
    out = probe("sts.assume", role=DEMO_ROLE, session="cwexport-test", duration=900)
    assert out["status"] == "OK", out
    r = out["result"]
    assert r["access_key_id"].startswith("ASIA")
    assert r["secret_len"] > 0 and r["token_len"] > 0
    now_ms = time.time() * 1000
    assert now_ms < r["expiration_ms"] <= now_ms + 901000
    assert "assumed-role/cwexport-demo/cwexport-test" in r["assumed_role_arn"]
    # the assumed credentials work: the fake knows them
    assert any(c.get("access_key") == r["access_key_id"] for c in fake.credentials())


def test_sts_assume_role_refused(probe, verified):
    out = probe("sts.assume", role="arn:aws:iam::222222222222:role/cwexport-demo-external",
                session="cwexport-test")
    assert out["status"] in ("EDENIED", "EAWS"), out
    assert out["code"] == "AccessDenied"
    assert out["http"] == 403
    out = probe("sts.assume", role="arn:aws:iam::222222222222:role/cwexport-demo-external",
                session="cwexport-test", external_id="cwexport-demo-external-id")
    assert out["status"] == "OK", out


def test_sts_assume_role_with_web_identity(probe, fake):
    start = _last_seq(fake)
    out = probe("sts.assume_web", role=DEMO_ROLE, session="cwexport-web",
                token="fake-web-identity-token-demo")
    assert out["status"] == "OK", out
    assert out["result"]["access_key_id"]
    reqs = _requests(fake, start)
    assert [r["op"] for r in reqs] == ["AssumeRoleWithWebIdentity"]
    assert reqs[0]["access_key"] in (None, "")  # sent unsigned
    out = probe("sts.assume_web", role=DEMO_ROLE, session="cwexport-web", token="not-a-valid-token")
    assert out["status"] != "OK"


# ---- logs ---------------------------------------------------------------------------

def test_logs_describe_log_groups_pages(probe, verified):
    one = probe("logs.groups", prefix="/aws/", limit=2)
    assert one["status"] == "OK", one
    assert len(one["result"]["groups"]) == 2
    assert one["result"]["next_token"]
    nxt = probe("logs.groups", prefix="/aws/", limit=2, next_token=one["result"]["next_token"])
    assert nxt["status"] == "OK"
    assert {g["name"] for g in nxt["result"]["groups"]}.isdisjoint(g["name"] for g in one["result"]["groups"])

    everything = probe("logs.groups", prefix="/aws/", limit=2, all=1)
    assert everything["status"] == "OK", everything
    names = [g["name"] for g in everything["result"]["groups"]]
    assert len(names) > 2 and len(names) == len(set(names))
    assert all(n.startswith("/aws/") for n in names)
    assert not everything["result"]["truncated"]
    g = everything["result"]["groups"][0]
    assert g["arn"].startswith("arn:aws:logs:us-east-1:111111111111:log-group:")
    assert g["creation_time_ms"] > 0 and g["stored_bytes"] >= 0

    capped = probe("logs.groups", prefix="/aws/", limit=1, all=1, max_pages=2)
    assert capped["status"] == "OK"
    assert len(capped["result"]["groups"]) == 2 and capped["result"]["truncated"]


def test_logs_describe_log_groups_pattern_and_identifiers(probe, verified):
    out = probe("logs.groups", pattern="lambda", all=1)
    assert out["status"] == "OK", out
    assert out["result"]["groups"]
    for g in out["result"]["groups"]:
        assert "lambda" in g["name"]
        assert g["stored_bytes"] == -1  # a pattern search carries no storedBytes
    out = probe("logs.groups", ids="/aws/lambda/api")
    assert out["status"] == "OK", out
    assert [g["name"] for g in out["result"]["groups"]] == ["/aws/lambda/api"]
    assert out["result"]["groups"][0]["stored_bytes"] > 0


@pytest.fixture
def slow_tasks(fake):
    """Tasks that stay PENDING about a second, so a test can see the slot busy."""
    fake.set_time_factor(0.05)
    yield
    fake.set_time_factor(0.0005)


def test_logs_export_task_lifecycle(probe, verified, fake, slow_tasks):
    assert fake.wait_idle(60, account=ACCOUNT)
    now = int(time.time() * 1000)
    frm, to = now - 40 * 86400000, now - 39 * 86400000 - 1
    created = probe("logs.create", name="cwexport-0123456789abcdef", group="/aws/lambda/api",
                    **{"from": frm, "to": to}, bucket=BUCKET, prefix="probe/lifecycle")
    assert created["status"] == "OK", created
    task_id = created["result"]["task_id"]
    assert task_id

    # the account's one export slot is taken now
    busy = probe("logs.create", group="/aws/lambda/worker", **{"from": frm, "to": to}, bucket=BUCKET,
                 prefix="probe/busy")
    assert busy["status"] == "ESLOTBUSY", busy
    assert busy["code"] == "LimitExceededException"
    assert busy["attempts"] == 1  # never retried

    got = probe("logs.describe", task=task_id)
    assert got["status"] == "OK", got
    (t,) = got["result"]["tasks"]
    assert t["task_id"] == task_id
    assert t["task_name"] == "cwexport-0123456789abcdef"
    assert t["log_group_name"] == "/aws/lambda/api"
    assert (t["from"], t["to"]) == (frm, to)  # epoch ms survive the JSON round trip exactly
    assert t["destination"] == BUCKET and t["destination_prefix"] == "probe/lifecycle"
    assert t["status"] in ("PENDING", "RUNNING", "COMPLETED")
    assert t["creation_time_ms"] > 0

    deadline = time.time() + 60
    while t["status"] != "COMPLETED" and time.time() < deadline:
        time.sleep(0.2)
        t = probe("logs.describe", task=task_id)["result"]["tasks"][0]
    assert t["status"] == "COMPLETED", t
    assert t["completion_time_ms"] >= t["creation_time_ms"]

    done = probe("logs.describe", status="COMPLETED", limit=1, all=1)
    assert done["status"] == "OK", done
    assert task_id in [x["task_id"] for x in done["result"]["tasks"]]
    assert all(x["status"] == "COMPLETED" for x in done["result"]["tasks"])

    # cancelling a finished task is refused by AWS
    late = probe("logs.cancel", task=task_id)
    assert late["status"] == "EAWS", late
    assert late["code"] == "InvalidOperationException"

    # what the export wrote: listed page by page
    pages = probe("s3.list", bucket=BUCKET, prefix="probe/lifecycle/", max_keys=1, all=1)
    assert pages["status"] == "OK", pages
    keys = [o["key"] for p in pages["result"]["pages"] for o in p["objects"]]
    assert "probe/lifecycle/aws-logs-write-test" in keys
    assert len(pages["result"]["pages"]) == len(keys)


def test_logs_cancel(probe, verified, fake, slow_tasks):
    assert fake.wait_idle(60, account=ACCOUNT)
    now = int(time.time() * 1000)
    created = probe("logs.create", group="/aws/lambda/worker",
                    **{"from": now - 90 * 86400000, "to": now - 60 * 86400000}, bucket=BUCKET,
                    prefix="probe/cancel")
    assert created["status"] == "OK", created
    out = probe("logs.cancel", task=created["result"]["task_id"])
    assert out["status"] == "OK", out
    t = probe("logs.describe", task=created["result"]["task_id"])["result"]["tasks"][0]
    assert t["status"] in ("CANCELLED", "PENDING_CANCEL")
    missing = probe("logs.cancel", task="00000000-0000-0000-0000-000000000000")
    assert missing["status"] in ("ENOTFOUND", "EAWS"), missing


def test_logs_create_refused_before_sending(probe):
    out = probe("logs.create", group="/aws/lambda/api", **{"from": 10, "to": 5}, bucket=BUCKET)
    assert out["start"] == "EINVAL" and out["status"] == "EINVAL"


# ---- s3 ------------------------------------------------------------------------------

KEY = "probe/objects/a b+c/\u00e9t\u00e9 #1?.json"


def test_s3_object_round_trip(probe, verified, fake):
    put = probe("s3.put", bucket=BUCKET, key=KEY, body='{"done": true}', content_type="application/json",
                sse="AES256", acl="bucket-owner-full-control")
    assert put["status"] == "OK", put
    assert put["result"]["etag"].startswith('"')
    assert fake.s3_get(BUCKET, KEY) == b'{"done": true}'

    head = probe("s3.head", bucket=BUCKET, key=KEY)
    assert head["status"] == "OK", head
    assert head["result"]["size"] == len('{"done": true}')
    assert head["result"]["etag"] == put["result"]["etag"]

    got = probe("s3.get", bucket=BUCKET, key=KEY)
    assert got["status"] == "OK", got
    assert got["result"]["body"] == '{"done": true}'
    small = probe("s3.get", bucket=BUCKET, key=KEY, max=4)
    assert small["status"] == "ETOOBIG", small

    listed = probe("s3.list", bucket=BUCKET, prefix="probe/objects/")
    assert listed["status"] == "OK", listed
    objs = {o["key"]: o for o in listed["result"]["objects"]}
    assert KEY in objs  # decoded from encoding-type=url
    assert objs[KEY]["size"] == len('{"done": true}')
    assert objs[KEY]["last_modified_ms"] > 0

    dele = probe("s3.delete", bucket=BUCKET, key=KEY)
    assert dele["status"] == "OK", dele
    gone = probe("s3.head", bucket=BUCKET, key=KEY)
    assert gone["status"] == "ENOTFOUND", gone
    gone = probe("s3.get", bucket=BUCKET, key=KEY)
    assert gone["status"] == "ENOTFOUND", gone


def test_s3_list_paging_and_delimiter(probe, verified, fake):
    for i in range(7):
        fake.s3_put(BUCKET, "probe/paging/%s/%02d.gz" % ("x" if i < 4 else "y", i), b"z" * i)
    pages = probe("s3.list", bucket=BUCKET, prefix="probe/paging/", max_keys=2, all=1)
    assert pages["status"] == "OK", pages
    ps = pages["result"]["pages"]
    assert len(ps) == 4 and pages["result"]["pages_seen"] == 4
    assert [len(p["objects"]) for p in ps] == [2, 2, 2, 1]
    assert all(p["is_truncated"] for p in ps[:-1]) and not ps[-1]["is_truncated"]
    keys = [o["key"] for p in ps for o in p["objects"]]
    assert keys == sorted(keys) and len(keys) == 7

    stopped = probe("s3.list", bucket=BUCKET, prefix="probe/paging/", max_keys=2, all=1, stop_after=2)
    assert stopped["status"] == "OK" and stopped["result"]["pages_seen"] == 2
    assert stopped["result"]["truncated"]
    capped = probe("s3.list", bucket=BUCKET, prefix="probe/paging/", max_keys=3, all=1, max_pages=1)
    assert capped["result"]["pages_seen"] == 1 and capped["result"]["truncated"]

    delim = probe("s3.list", bucket=BUCKET, prefix="probe/paging/", delimiter="/")
    assert delim["status"] == "OK", delim
    assert delim["result"]["common_prefixes"] == ["probe/paging/x/", "probe/paging/y/"]
    assert delim["result"]["objects"] == []

    after = probe("s3.list", bucket=BUCKET, prefix="probe/paging/", start_after="probe/paging/y/04.gz")
    assert [o["key"] for o in after["result"]["objects"]] == ["probe/paging/y/05.gz", "probe/paging/y/06.gz"]

    missing = probe("s3.list", bucket="cwexport-no-such-bucket")
    assert missing["status"] == "ENOTFOUND", missing


def test_s3_head_bucket(probe, verified, fake):
    fake.add_bucket("cwexport-probe-unreadable", deny_read=True)
    ok = probe("s3.head_bucket", bucket=BUCKET)
    assert ok["status"] == "OK", ok
    assert ok["result"]["exists"] and not ok["result"]["access_denied"]
    assert ok["result"]["region"] == "us-east-1"
    eu = probe("s3.head_bucket", bucket=BUCKET_EU)
    assert eu["status"] == "OK", eu
    assert eu["result"]["region"] == "eu-west-1"
    missing = probe("s3.head_bucket", bucket="cwexport-no-such-bucket")
    assert missing["status"] == "ENOTFOUND", missing
    denied = probe("s3.head_bucket", bucket="cwexport-probe-unreadable")
    assert denied["status"] == "OK", denied
    assert denied["result"]["exists"] and denied["result"]["access_denied"]


# ---- sns -------------------------------------------------------------------------------

def test_sns_publish(probe, verified, fake):
    out = probe("sns.publish", topic=TOPIC, subject="cwexport: run failed",
                message="3 windows failed\nsee the summary & retry=yes")
    assert out["status"] == "OK", out
    assert out["result"]["message_id"]
    msgs = fake.sns_messages()
    sent = [m for m in msgs if m["message_id"] == out["result"]["message_id"]]
    assert len(sent) == 1, msgs
    assert sent[0]["message"] == "3 windows failed\nsee the summary & retry=yes"
    assert sent[0]["subject"] == "cwexport: run failed"
    assert sent[0]["topic_arn"] == TOPIC
    missing = probe("sns.publish", topic="arn:aws:sns:us-east-1:111111111111:nope", message="x")
    assert missing["status"] in ("ENOTFOUND", "EAWS"), missing


# ---- signatures --------------------------------------------------------------------------

@pytest.mark.parametrize("op,args", [
    ("sts.identity", {}),
    ("logs.groups", {"prefix": "/aws/"}),
    ("s3.list", {"bucket": BUCKET}),
    ("sns.publish", {"topic": TOPIC, "message": "tampered"}),
])
def test_tampered_signature_refused(probe, fake, op, args):
    """Signed with a secret one character off: the fake's botocore check
    refuses it, per protocol, and the client reports the refusal."""
    secret = DEMO_KEY["secret"]
    wrong = secret[:-1] + ("0" if secret[-1] != "0" else "1")
    start = _last_seq(fake)
    out = probe(op, env_extra={"AWS_SECRET_ACCESS_KEY": wrong}, **args)
    assert out["status"] != "OK", out
    assert out["code"] in ("SignatureDoesNotMatch", "InvalidSignatureException"), out
    assert out["http"] in (400, 403)  # CloudWatch Logs says 400, the others 403
    reqs = _requests(fake, start)
    assert reqs and all(r["outcome"] in ("SignatureDoesNotMatch", "InvalidSignatureException")
                        for r in reqs), reqs
