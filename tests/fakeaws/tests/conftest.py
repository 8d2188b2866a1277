import hashlib
import http.client
import os
import sys
import time
from urllib.parse import urlsplit

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from fixture import FakeAWS, botocore_client  # noqa: E402

A, B, C = "111111111111", "222222222222", "333333333333"
KEY_A = {"access_key": "AKIATESTA0000000001", "secret": "secretA" * 5 + "12345", "account": A}
KEY_B = {"access_key": "AKIATESTB0000000001", "secret": "secretB" * 5 + "12345", "account": B}
KEY_C = {"access_key": "AKIATESTC0000000001", "secret": "secretC" * 5 + "12345", "account": C}
KEY_TOK = {"access_key": "ASIATESTTOKEN000001", "secret": "secretT" * 5 + "12345", "account": A,
           "session_token": "FwoGZXIvYXdzEtesttokenvalue"}
KEY_OLD = {"access_key": "ASIATESTEXPIRED0001", "secret": "secretE" * 5 + "12345", "account": A,
           "session_token": "FwoGZXIvYXdzEexpiredtoken"}
BUCKET_A = "cwx-test-%s-us-east-1" % A
BUCKET_A_EU = "cwx-test-%s-eu-west-1" % A
BUCKET_B = "cwx-test-%s-us-east-1" % B
BUCKET_C = "cwx-test-%s-us-east-1" % C
ROLE_B = "arn:aws:iam::%s:role/cwexport" % B
ROLE_B_EXT = "arn:aws:iam::%s:role/cwexport-ext" % B
TOPIC = "arn:aws:sns:us-east-1:%s:cwexport-test" % A


def _key(k):
    d = {"access_key": k["access_key"], "secret": k["secret"], "user": "tester"}
    if k.get("session_token"):
        d["session_token"] = k["session_token"]
    return d


def make_seed():
    groups = [
        {"name": "/aws/lambda/api", "account": A, "region": "us-east-1", "created": "now-400d",
         "bytes_per_day": 50e6, "streams": ["web-1", "web-2", {"name": "old", "to": "now-200d"}]},
        {"name": "/aws/lambda/worker", "account": A, "region": "us-east-1", "created": "now-400d",
         "bytes_per_day": 1e6, "streams": 2, "retentionInDays": 30},
        {"name": "/app/empty", "account": A, "region": "us-east-1", "created": "now-400d", "bytes_per_day": 0,
         "streams": 0},
        {"name": "/app/gappy", "account": A, "region": "us-east-1", "created": "now-400d", "bytes_per_day": 1e6,
         "streams": 1, "gaps": ["now-2M"]},
        {"name": "/aws/lambda/api", "account": A, "region": "eu-west-1", "created": "now-100d",
         "bytes_per_day": 1e6, "streams": 1},
        {"name": "/aws/lambda/api", "account": B, "region": "us-east-1", "created": "now-100d",
         "bytes_per_day": 1e6, "streams": 1},
        {"name": "/aws/lambda/api", "account": B, "region": "eu-west-1", "created": "now-100d",
         "bytes_per_day": 1e6, "streams": 1},
        {"name": "/aws/lambda/api", "account": C, "region": "us-east-1", "created": "now-100d",
         "bytes_per_day": 1e6, "streams": 1},
        {"generate": {"count": 120, "prefix": "/bench/g", "account": A, "region": "us-east-1",
                      "bytes_per_day": [1e5, 1e7], "retention_choices": [None, 30, 365]}},
    ]
    return {
        "settings": {"token_scope": "account", "time_factor": 0.01, "pending_delay_s": 20,
                     "throughput_bps": 1e12, "min_running_s": 20, "jitter": 0.1, "rng_seed": 7},
        "accounts": [
            {"id": A, "keys": [_key(KEY_A), _key(KEY_TOK), dict(_key(KEY_OLD), expires="now-1h")]},
            {"id": B, "keys": [_key(KEY_B)], "token_scope": "region"},
            {"id": C, "keys": [_key(KEY_C)]},
        ],
        "roles": [{"arn": ROLE_B, "trusted_accounts": [A]},
                  {"arn": ROLE_B_EXT, "trusted_accounts": [A], "external_id": "xyz"}],
        "web_identity_tokens": ["web-token-1"],
        "sns_topics": [TOPIC],
        "buckets": [
            {"name": BUCKET_A, "account": A, "region": "us-east-1",
             "objects": [{"key": "seeded/hello.txt", "body": "hello"},
                         {"template": "_cwexport/%s/us-east-1/bench/g{g:04d}/{m}.json" % A,
                          "vars": {"g": {"range": [0, 30]}, "m": {"months": ["now-12M", "now-1M"]}},
                          "body": "{}"}]},
            {"name": BUCKET_A_EU, "account": A, "region": "eu-west-1"},
            {"name": BUCKET_B, "account": B, "region": "us-east-1"},
            {"name": BUCKET_C, "account": C, "region": "us-east-1"},
            {"name": "cwx-readonly", "account": A, "region": "us-east-1", "read_only": True,
             "objects": [{"key": "a.txt", "body": "a"}]},
            {"name": "cwx-denied", "account": A, "region": "us-east-1", "deny_write": True},
            {"name": "cwx-private-b", "account": B, "region": "us-east-1", "allow_accounts": []},
        ],
        "log_groups": groups,
    }


@pytest.fixture(scope="session")
def fake(tmp_path_factory):
    with FakeAWS(seed=make_seed(), tmp_dir=tmp_path_factory.mktemp("fake")) as f:
        yield f


@pytest.fixture
def clean(fake):
    fake.reset()
    yield fake
    fake.clear_faults()


def client(fake, service, region="us-east-1", key=None, **cfg):
    return botocore_client(fake, service, region=region, key=key or KEY_A, **cfg)


def signed_request(fake, service, method="POST", path="/", query="", body=b"", headers=None, key=None,
                   region="us-east-1", host=None, timestamp=None, secret=None, payload_hash=None):
    """Sign with botocore (optionally with a wrong secret/time) and send with http.client.
    Returns (status, headers dict, body)."""
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    k = key or KEY_A
    u = urlsplit(fake.url)
    host = host or u.netloc
    url = "http://%s%s%s" % (host, path, ("?" + query) if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    req.headers["Host"] = host
    creds = Credentials(k["access_key"], secret or k["secret"], k.get("session_token"))
    cls = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = cls(creds, service, region)
    if timestamp is not None:
        import datetime
        import unittest.mock as m
        fixed = datetime.datetime.utcfromtimestamp(timestamp)

        class FakeDT(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return fixed
        with m.patch("botocore.auth.datetime.datetime", FakeDT):
            signer.add_auth(req)
    else:
        signer.add_auth(req)
    if payload_hash is not None:
        req.headers["X-Amz-Content-SHA256"] = payload_hash
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request(method, path + (("?" + query) if query else ""), body=body,
                 headers={k2: v for k2, v in req.headers.items()})
    r = conn.getresponse()
    data = r.read()
    hdrs = {k2.lower(): v for k2, v in r.getheaders()}
    conn.close()
    return r.status, hdrs, data


def wait_status(logs, task_id, want, timeout=10):
    deadline = time.monotonic() + timeout
    st = None
    while time.monotonic() < deadline:
        st = logs.describe_export_tasks(taskId=task_id)["exportTasks"][0]["status"]["code"]
        if st in want:
            return st
        time.sleep(0.02)
    raise AssertionError("task %s stuck in %s" % (task_id, st))


def sha(b):
    return hashlib.sha256(b).hexdigest()
