import json
import time
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from conftest import (A, B, BUCKET_A, BUCKET_A_EU, KEY_A, KEY_C, KEY_OLD, KEY_TOK, ROLE_B, ROLE_B_EXT, TOPIC,
                      client, sha, signed_request)


def code(exc):
    return exc.value.response["Error"]["Code"]


def test_list_objects_v2_paging_delimiter(clean):
    s3 = client(clean, "s3")
    r = s3.list_objects_v2(Bucket=BUCKET_A, Prefix="_cwexport/%s/us-east-1/bench/" % A, Delimiter="/")
    assert r["KeyCount"] == 30 and len(r["CommonPrefixes"]) == 30 and "Contents" not in r
    assert r["CommonPrefixes"][0]["Prefix"].endswith("bench/g0000/")
    # 30 groups x 12 months = 360 markers, paged by 100
    keys, token, pages = [], None, 0
    while True:
        kw = dict(Bucket=BUCKET_A, Prefix="_cwexport/", MaxKeys=100)
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        pages += 1
        keys += [o["Key"] for o in r.get("Contents", [])]
        assert r["KeyCount"] == len(r.get("Contents", []))
        if not r["IsTruncated"]:
            assert "NextContinuationToken" not in r
            break
        token = r["NextContinuationToken"]
    assert pages == 4 and len(keys) == 360 and keys == sorted(keys)
    # delimiter paging: common prefixes count towards MaxKeys and are not repeated
    cps, token = [], None
    while True:
        kw = dict(Bucket=BUCKET_A, Prefix="_cwexport/%s/us-east-1/bench/" % A, Delimiter="/", MaxKeys=7)
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        cps += [c["Prefix"] for c in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert len(cps) == len(set(cps)) == 30
    r = s3.list_objects_v2(Bucket=BUCKET_A, StartAfter="seeded/")
    assert [o["Key"] for o in r["Contents"]] == ["seeded/hello.txt"]
    assert s3.list_objects_v2(Bucket=BUCKET_A, MaxKeys=5000)["MaxKeys"] == 1000
    # paginator of botocore (uses encoding-type=url and decodes)
    clean.s3_put(BUCKET_A, "odd keys/a b+c&d=é.txt", b"x")
    pg = s3.get_paginator("list_objects_v2")
    allk = [o["Key"] for p in pg.paginate(Bucket=BUCKET_A, PaginationConfig={"PageSize": 50}) for o in
            p.get("Contents", [])]
    assert "odd keys/a b+c&d=é.txt" in allk and len(allk) == 362
    st, h, body = signed_request(clean, "s3", "GET", "/" + BUCKET_A, "encoding-type=url&list-type=2&prefix=odd",
                                 body=b"")
    assert b"<Key>odd%20keys/a%20b%2Bc%26d%3D%C3%A9.txt</Key>" in body


def test_objects_crud_and_errors(clean):
    s3 = client(clean, "s3")
    s3.put_object(Bucket=BUCKET_A, Key="x/y.json", Body=b'{"a":1}', ContentType="application/json",
                  Metadata={"k": "v"})
    h = s3.head_object(Bucket=BUCKET_A, Key="x/y.json")
    assert h["ContentLength"] == 7 and h["ContentType"] == "application/json" and h["Metadata"] == {"k": "v"}
    assert s3.get_object(Bucket=BUCKET_A, Key="x/y.json")["Body"].read() == b'{"a":1}'
    assert s3.get_object(Bucket=BUCKET_A, Key="x/y.json", Range="bytes=1-3")["Body"].read() == b'"a"'
    st, h, body = signed_request(clean, "s3", "PUT", "/%s/x/y.json" % BUCKET_A, body=b"again",
                                 headers={"If-None-Match": "*"})
    assert st == 412 and b"PreconditionFailed" in body
    s3.delete_object(Bucket=BUCKET_A, Key="x/y.json")
    s3.delete_object(Bucket=BUCKET_A, Key="x/y.json")  # idempotent
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=BUCKET_A, Key="x/y.json")
    assert code(e) == "NoSuchKey" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=BUCKET_A, Key="x/y.json")
    assert code(e) == "404"
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="no-such-bucket")
    assert code(e) == "NoSuchBucket"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="cwx-readonly", Key="b.txt", Body=b"x")
    assert code(e) == "AccessDenied" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert s3.get_object(Bucket="cwx-readonly", Key="a.txt")["Body"].read() == b"a"
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="cwx-private-b")
    assert code(e) == "AccessDenied"
    # raw error shape
    st, h, body = signed_request(clean, "s3", "GET", "/%s/nope" % BUCKET_A)
    root = ET.fromstring(body)
    assert st == 404 and root.tag == "Error" and root.findtext("Code") == "NoSuchKey"
    assert root.findtext("Key") == "nope" and root.findtext("RequestId")
    assert h["x-amz-request-id"] and h["x-amz-id-2"] and h["date"]
    s3.delete_objects(Bucket=BUCKET_A, Delete={"Objects": [{"Key": "seeded/hello.txt"}]})
    assert clean.s3_list(BUCKET_A, "seeded/") == []


def test_put_object_flexible_checksums(clean):
    # What the AWS SDK for JavaScript v3 sends on PutObject: ?x-id=PutObject,
    # x-amz-sdk-checksum-algorithm and x-amz-checksum-crc32 (base64 of the
    # big-endian CRC32), all signed.
    body = b'{"a":1}'
    good = {"x-amz-sdk-checksum-algorithm": "CRC32", "x-amz-checksum-crc32": "Vhusrw=="}
    st, h, _ = signed_request(clean, "s3", "PUT", "/%s/sdk/x.json" % BUCKET_A, query="x-id=PutObject", body=body,
                              headers=good)
    assert st == 200 and h["x-amz-checksum-crc32"] == "Vhusrw=="
    assert clean.s3_get(BUCKET_A, "sdk/x.json") == body
    bad = dict(good, **{"x-amz-checksum-crc32": "AAAAAA=="})
    st, h, out = signed_request(clean, "s3", "PUT", "/%s/sdk/y.json" % BUCKET_A, query="x-id=PutObject", body=body,
                                headers=bad)
    assert st == 400 and b"BadDigest" in out and b"CRC32" in out
    assert clean.s3_list(BUCKET_A, "sdk/y.json") == []


def test_head_bucket_region_and_vhost(clean):
    s3 = client(clean, "s3")
    r = s3.head_bucket(Bucket=BUCKET_A)
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    st, h, body = signed_request(clean, "s3", "HEAD", "/" + BUCKET_A_EU)
    assert st == 301 and h["x-amz-bucket-region"] == "eu-west-1" and body == b""
    st, h, body = signed_request(clean, "s3", "GET", "/" + BUCKET_A_EU, "list-type=2")
    assert st == 301 and b"<Code>PermanentRedirect</Code>" in body
    assert client(clean, "s3", region="eu-west-1").head_bucket(Bucket=BUCKET_A_EU)
    st, h, body = signed_request(clean, "s3", "GET", "/" + BUCKET_A_EU, "location", region="us-east-1")
    assert st == 200 and b">eu-west-1</LocationConstraint>" in body
    port = clean.port
    for host in ("%s.localhost:%d" % (BUCKET_A, port), "%s.s3.us-east-1.localhost:%d" % (BUCKET_A, port),
                 "%s.s3.amazonaws.com" % BUCKET_A):
        st, h, body = signed_request(clean, "s3", "GET", "/seeded/hello.txt", host=host)
        assert (st, body) == (200, b"hello"), host
        st, h, body = signed_request(clean, "s3", "GET", "/", "list-type=2&prefix=seeded%2F", host=host)
        assert st == 200 and b"<Key>seeded/hello.txt</Key>" in body, host
    st, h, body = signed_request(clean, "s3", "HEAD", "/", host="%s.localhost:%d" % (BUCKET_A, port))
    assert st == 200 and h["x-amz-bucket-region"] == "us-east-1"


def test_presigned(clean):
    s3 = client(clean, "s3", signature_version="s3v4")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET_A, "Key": "seeded/hello.txt"},
                                    ExpiresIn=60)
    assert "X-Amz-Signature=" in url
    assert urllib.request.urlopen(url).read() == b"hello"
    bad = url.replace("X-Amz-Expires=60", "X-Amz-Expires=61")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(bad)
    assert e.value.code == 403 and b"SignatureDoesNotMatch" in e.value.read()
    put = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET_A, "Key": "pre/put.txt"})
    urllib.request.urlopen(urllib.request.Request(put, data=b"via presign", method="PUT"))
    assert clean.s3_get(BUCKET_A, "pre/put.txt") == b"via presign"
    old = client(clean, "s3", signature_version="s3v4")
    import unittest.mock as m
    import datetime
    past = datetime.datetime.utcnow() - datetime.timedelta(seconds=120)

    class FakeDT(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return past
    with m.patch("botocore.auth.datetime.datetime", FakeDT):
        url = old.generate_presigned_url("get_object", Params={"Bucket": BUCKET_A, "Key": "seeded/hello.txt"},
                                         ExpiresIn=60)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url)
    assert e.value.code == 403 and b"Request has expired" in e.value.read()


LOGS_HDR = {"X-Amz-Target": "Logs_20140328.DescribeExportTasks", "Content-Type": "application/x-amz-json-1.1"}
STS_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
STS_HDR = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _logs(fake, **kw):
    st, h, body = signed_request(fake, "logs", body=b"{}", headers=LOGS_HDR, **kw)
    return st, json.loads(body)["__type"].split("#")[-1] if st != 200 else "ok", body


def _s3(fake, **kw):
    st, h, body = signed_request(fake, "s3", "GET", "/" + BUCKET_A, "list-type=2", **kw)
    return st, ET.fromstring(body).findtext("Code") if st != 200 else "ok", body


def _sts(fake, service="sts", **kw):
    body = STS_BODY if service == "sts" else ("Action=Publish&Version=2010-03-31&TopicArn=%s&Message=hi" % TOPIC
                                              ).encode()
    st, h, data = signed_request(fake, service, body=body, headers=STS_HDR, **kw)
    if st == 200:
        return st, "ok", data
    root = ET.fromstring(data)
    ns = root.tag[: root.tag.index("}") + 1]
    assert root.tag.endswith("ErrorResponse")
    return st, root.find(ns + "Error").findtext(ns + "Code"), data


def test_auth_errors_per_protocol(clean):
    unknown = {"access_key": "AKIAUNKNOWN00000000", "secret": "x" * 40}
    skewed = time.time() - 20 * 60
    cases = [
        ({}, (200, "ok"), (200, "ok"), (200, "ok")),
        ({"secret": "wrong"}, (400, "InvalidSignatureException"), (403, "SignatureDoesNotMatch"),
         (403, "SignatureDoesNotMatch")),
        ({"key": unknown}, (400, "UnrecognizedClientException"), (403, "InvalidAccessKeyId"),
         (403, "InvalidClientTokenId")),
        ({"timestamp": skewed}, (400, "InvalidSignatureException"), (403, "RequestTimeTooSkewed"),
         (403, "SignatureDoesNotMatch")),
        ({"key": KEY_OLD}, (400, "ExpiredTokenException"), (400, "ExpiredToken"), (403, "ExpiredToken")),
        ({"key": dict(KEY_TOK, session_token="bogus")}, (400, "UnrecognizedClientException"),
         (400, "InvalidToken"), (403, "InvalidClientTokenId")),
        ({"key": KEY_TOK}, (200, "ok"), (200, "ok"), (200, "ok")),
    ]
    for kw, want_logs, want_s3, want_q in cases:
        assert _logs(clean, **kw)[:2] == want_logs, kw
        assert _s3(clean, **kw)[:2] == want_s3, kw
        assert _sts(clean, **kw)[:2] == want_q, kw
        assert _sts(clean, "sns", **kw)[:2] == want_q, kw
    st, c, body = _logs(clean, secret="wrong")
    assert b"The Canonical String for this request should have been" in body
    st, c, body = _logs(clean, timestamp=skewed)
    assert b"Signature expired" in body
    st, c, body = _s3(clean, secret="wrong")
    assert b"<CanonicalRequest>" in body and b"<StringToSign>" in body
    # payload hash must match the body
    st, h, body = signed_request(clean, "s3", "PUT", "/%s/k" % BUCKET_A, body=b"abc",
                                 payload_hash=sha(b"abd"))
    assert st == 403  # header changed after signing: signature mismatch first
    from botocore.auth import S3SigV4Auth
    orig = S3SigV4Auth.payload
    try:
        S3SigV4Auth.payload = lambda self, req: sha(b"abd")
        st, h, body = signed_request(clean, "s3", "PUT", "/%s/k" % BUCKET_A, body=b"abc")
    finally:
        S3SigV4Auth.payload = orig
    assert st == 400 and b"XAmzContentSHA256Mismatch" in body
    st, h, body = signed_request(clean, "s3", "PUT", "/%s/k" % BUCKET_A, body=b"abc",
                                 headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert st == 200
    # no signature at all
    r = urllib.request.Request(clean.url + "/", data=b"{}", headers=LOGS_HDR)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(r)
    assert e.value.code == 400 and b"MissingAuthenticationTokenException" in e.value.read()
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(clean.url + "/" + BUCKET_A + "?list-type=2")
    assert e.value.code == 403 and b"AccessDenied" in e.value.read()


def test_sts_assume_role_and_identity(clean):
    sts = client(clean, "sts")
    me = sts.get_caller_identity()
    assert me["Account"] == A and me["Arn"] == "arn:aws:iam::%s:user/tester" % A
    r = sts.assume_role(RoleArn=ROLE_B, RoleSessionName="cwexport")
    c = r["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA") and c["SessionToken"]
    assert r["AssumedRoleUser"]["Arn"] == "arn:aws:sts::%s:assumed-role/cwexport/cwexport" % B
    kb = {"access_key": c["AccessKeyId"], "secret": c["SecretAccessKey"], "session_token": c["SessionToken"]}
    assert client(clean, "sts", key=kb).get_caller_identity()["Account"] == B
    logs_b = client(clean, "logs", key=kb)
    assert [g["logGroupName"] for g in logs_b.describe_log_groups()["logGroups"]] == ["/aws/lambda/api"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=ROLE_B_EXT, RoleSessionName="cwexport")
    assert code(e) == "AccessDenied"
    assert sts.assume_role(RoleArn=ROLE_B_EXT, RoleSessionName="ss", ExternalId="xyz")["Credentials"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:iam::%s:role/nope" % B, RoleSessionName="ss")
    assert code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        client(clean, "sts", key=KEY_C).assume_role(RoleArn=ROLE_B, RoleSessionName="ss")
    assert code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=ROLE_B, RoleSessionName="ss", DurationSeconds=7200)
    assert code(e) == "ValidationError"
    # expire now
    assert clean.expire_credentials(access_key=c["AccessKeyId"]) == 1
    with pytest.raises(ClientError) as e:
        logs_b.describe_log_groups()
    assert code(e) == "ExpiredTokenException"
    # web identity: unsigned call
    import botocore
    from botocore.config import Config
    anon = client(clean, "sts", signature_version=botocore.UNSIGNED)
    r = anon.assume_role_with_web_identity(RoleArn=ROLE_B, RoleSessionName="ww", WebIdentityToken="web-token-1")
    assert r["Credentials"]["AccessKeyId"].startswith("ASIA")
    with pytest.raises(ClientError) as e:
        anon.assume_role_with_web_identity(RoleArn=ROLE_B, RoleSessionName="ww", WebIdentityToken="nope")
    assert code(e) == "InvalidIdentityToken"


def test_credential_ttl(clean):
    clean.settings_update(credential_ttl_s=3)
    try:
        c = client(clean, "sts").assume_role(RoleArn=ROLE_B, RoleSessionName="short")["Credentials"]
        kb = {"access_key": c["AccessKeyId"], "secret": c["SecretAccessKey"], "session_token": c["SessionToken"]}
        logs_b = client(clean, "logs", key=kb)
        logs_b.describe_export_tasks()        # well inside the 3 s, even on a loaded machine
        time.sleep(3.2)
        with pytest.raises(ClientError) as e:
            logs_b.describe_export_tasks()
        assert code(e) == "ExpiredTokenException"
    finally:
        clean.settings_update(credential_ttl_s=None)


def test_sns_publish(clean):
    sns = client(clean, "sns")
    mid = sns.publish(TopicArn=TOPIC, Subject="cwexport failed", Message="2 jobs failed")["MessageId"]
    msgs = clean.sns_messages()
    assert msgs[-1]["message_id"] == mid and msgs[-1]["message"] == "2 jobs failed"
    assert msgs[-1]["subject"] == "cwexport failed" and msgs[-1]["account"] == A
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=TOPIC.replace("cwexport-test", "nope"), Message="x")
    assert code(e) == "NotFound"
    with pytest.raises(ClientError) as e:
        client(clean, "sns", region="eu-west-1").publish(TopicArn=TOPIC, Message="x")
    assert code(e) == "InvalidParameter"


def test_conditional_writes(clean):
    """S3 conditional writes as the S3 user guide describes them ("How to prevent object
    overwrites with conditional writes", "How to perform conditional deletes"): Debian's
    botocore has no IfMatch/IfNoneMatch parameters, so the requests are signed here."""
    import hashlib
    path = "/%s/_cwexport/lease.json" % BUCKET_A

    def put(body, **h):
        return signed_request(clean, "s3", "PUT", path, body=body, headers=h)

    st, h, _ = put(b"one", **{"If-None-Match": "*"})
    etag = '"%s"' % hashlib.md5(b"one").hexdigest()
    assert st == 200 and h["etag"] == etag  # ETag = the quoted MD5 of the body
    st, _, body = put(b"two", **{"If-None-Match": "*"})
    assert st == 412 and b"<Code>PreconditionFailed</Code>" in body
    st, _, body = put(b"two", **{"If-Match": '"0123456789abcdef0123456789abcdef"'})
    assert st == 412 and b"PreconditionFailed" in body
    st, h, _ = put(b"two", **{"If-Match": etag})
    assert st == 200 and h["etag"] == '"%s"' % hashlib.md5(b"two").hexdigest()
    st, _, _ = signed_request(clean, "s3", "DELETE", path, headers={"If-Match": etag})
    assert st == 412  # a conditional delete with a stale ETag
    st, _, _ = signed_request(clean, "s3", "DELETE", path, headers={"If-Match": h["etag"]})
    assert st == 204
    st, _, body = put(b"three", **{"If-Match": etag})
    assert st == 404 and b"<Code>NoSuchKey</Code>" in body  # If-Match on a missing key
    # A concurrent conditional write won: 409 ConditionalRequestConflict, retry.
    clean.settings_update(s3_conflict_rate=1.0)
    st, _, body = put(b"four", **{"If-None-Match": "*"})
    assert st == 409 and b"ConditionalRequestConflict" in body
    clean.settings_update(s3_conflict_rate=0)
    # An S3-like store without conditional writes answers 501 to the headers.
    clean.settings_update(s3_conditional_writes=False)
    st, _, body = put(b"five", **{"If-None-Match": "*"})
    assert st == 501 and b"<Code>NotImplemented</Code>" in body
    st, _, _ = put(b"five")
    assert st == 200  # unconditional writes still work
    clean.settings_update(s3_conditional_writes=True)
