"""`cwexport bucket-policy`: the bucket, key and identity policies a config
needs, as one JSON document; no AWS call."""
import json

CONFIG = """version: 1
defaults:
  region: us-east-1
  destination:
    bucket: shared-archive
    prefix: "exports/{account_id}/{region}/{log_group}/{window}"
    state_prefix: _state
range: {from: 2024-01, to: 2024-03}
accounts:
  - name: prod
    account_id: "123456789012"
    regions: [us-east-1, cn-north-1]
    log_groups:
      - name: /aws/lambda/api
  - name: staging
    log_groups:
      - prefix: /aws/
  - name: secure
    account_id: "210987654321"
    regions: [eu-west-1]
    destination:
      bucket: "sec-{account_id}-{region}"
      prefix: "{log_group}/{window}"
      kms_key_arn: arn:aws:kms:eu-west-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab
    log_groups:
      - name: /app/audit
notify:
  sns_topic_arn: arn:aws:sns:us-east-1:123456789012:exports
"""


def run(cwx, tmp_path, text=CONFIG):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    proc = cwx("bucket-policy", "-c", p, check=0)
    return json.loads(proc.stdout)


def by_sid(policy):
    assert policy["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids)), sids
    return {s["Sid"]: s for s in policy["Statement"]}


def listify(v):
    return v if isinstance(v, list) else [v]


def test_bucket_policies(cwx, tmp_path):
    doc = run(cwx, tmp_path)
    dests = {(d["bucket"], d["region"]): d for d in doc["bucket_policies"]}
    assert set(dests) == {("shared-archive", "us-east-1"), ("shared-archive", "cn-north-1"),
                          ("sec-210987654321-eu-west-1", "eu-west-1")}

    d = dests[("shared-archive", "us-east-1")]
    assert d["partition"] == "aws" and d["accounts"] == ["prod", "staging"]
    st = by_sid(d["policy"])
    acl, put = st["CloudWatchLogsExportAclCheck"], st["CloudWatchLogsExportWrite"]
    for s in (acl, put):
        assert s["Effect"] == "Allow"
        assert s["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
        cond = s["Condition"]
        assert cond["StringEquals"]["aws:SourceAccount"] == ["123456789012",
                                                             "<account_id of staging>"]
        assert cond["ArnLike"]["aws:SourceArn"] == [
            "arn:aws:logs:us-east-1:123456789012:log-group:*",
            "arn:aws:logs:us-east-1:<account_id of staging>:log-group:*"]
    assert acl["Action"] == "s3:GetBucketAcl"
    assert acl["Resource"] == "arn:aws:s3:::shared-archive"
    assert "s3:x-amz-acl" not in acl["Condition"]["StringEquals"]
    assert put["Action"] == "s3:PutObject"
    assert put["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    # The prefix template's fixed part, per account.
    assert listify(put["Resource"]) == [
        "arn:aws:s3:::shared-archive/exports/123456789012/us-east-1/*",
        "arn:aws:s3:::shared-archive/exports/*"]

    cn = by_sid(dests[("shared-archive", "cn-north-1")]["policy"])
    assert dests[("shared-archive", "cn-north-1")]["partition"] == "aws-cn"
    for s in cn.values():
        assert s["Principal"] == {"Service": "logs.cn-north-1.amazonaws.com.cn"}
        assert s["Condition"]["ArnLike"]["aws:SourceArn"] == [
            "arn:aws-cn:logs:cn-north-1:123456789012:log-group:*"]
    assert cn["CloudWatchLogsExportAclCheck"]["Resource"] == "arn:aws-cn:s3:::shared-archive"

    sec = by_sid(dests[("sec-210987654321-eu-west-1", "eu-west-1")]["policy"])
    # A template that starts with the log group: the whole bucket.
    assert listify(sec["CloudWatchLogsExportWrite"]["Resource"]) == [
        "arn:aws:s3:::sec-210987654321-eu-west-1/*"]


def test_key_policy(cwx, tmp_path):
    doc = run(cwx, tmp_path)
    (kp,) = doc["key_policies"]
    assert kp["kms_key_arn"].startswith("arn:aws:kms:eu-west-1:210987654321:key/")
    assert kp["bucket"] == "sec-210987654321-eu-west-1"
    s = kp["statement"]
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert set(s["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert s["Resource"] == "*"
    assert s["Condition"]["StringEquals"]["aws:SourceAccount"] == ["210987654321"]


def test_identity_policies(cwx, tmp_path):
    doc = run(cwx, tmp_path)
    ids = {p["account"]: p for p in doc["identity_policies"]}
    assert set(ids) == {"prod", "staging", "secure"}
    st = by_sid(ids["prod"]["policy"])
    groups = st["CwexportLogGroups"]
    assert set(groups["Action"]) == {"logs:CreateExportTask", "logs:DescribeLogGroups",
                                     "logs:DescribeLogStreams"}
    assert groups["Resource"] == ["arn:aws:logs:us-east-1:123456789012:log-group:*",
                                  "arn:aws-cn:logs:cn-north-1:123456789012:log-group:*"]
    tasks = st["CwexportExportTasks"]
    assert set(tasks["Action"]) == {"logs:DescribeExportTasks", "logs:CancelExportTask"}
    assert tasks["Resource"] == "*"
    metrics = st["CwexportMetrics"]
    assert metrics["Action"] == "cloudwatch:GetMetricData" and metrics["Resource"] == "*"
    lists = [s for sid, s in st.items() if sid.startswith("CwexportList")]
    assert {s["Resource"] for s in lists} == {"arn:aws:s3:::shared-archive",
                                             "arn:aws-cn:s3:::shared-archive"}
    for s in lists:
        assert s["Action"] == "s3:ListBucket"
        assert set(s["Condition"]["StringLike"]["s3:prefix"]) == {
            "_state/*", "exports/123456789012/us-east-1/*"} or set(
            s["Condition"]["StringLike"]["s3:prefix"]) == {
            "_state/*", "exports/123456789012/cn-north-1/*"}
    markers = [s for sid, s in st.items() if sid.startswith("CwexportMarkers")]
    assert {s["Resource"] for s in markers} == {"arn:aws:s3:::shared-archive/_state/*",
                                               "arn:aws-cn:s3:::shared-archive/_state/*"}
    for s in markers:
        assert {"s3:GetObject", "s3:PutObject"} <= set(s["Action"])
    assert st["CwexportNotify"] == {"Sid": "CwexportNotify", "Effect": "Allow",
                                    "Action": "sns:Publish",
                                    "Resource": "arn:aws:sns:us-east-1:123456789012:exports"}
    sec = by_sid(ids["secure"]["policy"])
    kms = [s for sid, s in sec.items() if sid.startswith("CwexportKms")]
    assert len(kms) == 1 and kms[0]["Resource"].startswith("arn:aws:kms:eu-west-1:")
    # The bucket's root is the whole bucket: no prefix condition.
    (lst,) = [s for sid, s in sec.items() if sid.startswith("CwexportList")]
    assert "Condition" not in lst
    assert ids["staging"]["account_id"] == "<account_id of staging>"


def test_notes_name_placeholders(cwx, tmp_path):
    doc = run(cwx, tmp_path)
    assert any("staging" in n and "account_id" in n for n in doc["notes"])
    assert not any("prod has no account_id" in n for n in doc["notes"])


def test_demo_config_is_valid_json(cwx, root):
    doc = json.loads(cwx("bucket-policy", "-c", root / "configs" / "demo.yaml", check=0).stdout)
    assert doc["bucket_policies"] and doc["identity_policies"]


def test_usage(cwx, tmp_path):
    assert cwx("bucket-policy", "--help", check=0).stdout.startswith(
        "usage: cwexport bucket-policy")
    cwx("bucket-policy", check=2)
