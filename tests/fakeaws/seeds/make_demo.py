#!/usr/bin/python3
"""Regenerate demo.json: /usr/bin/python3 seeds/make_demo.py > seeds/demo.json

Every time in the seed is relative to now ("now-24M"), so the demo keeps working."""
import json

A, B = "111111111111", "222222222222"
REGIONS = ("us-east-1", "eu-west-1")
MB = 1e6

# (name, bytes/day, created, retention, streams, extra)
GROUPS = {
    (A, "us-east-1"): [
        ("/aws/lambda/api", 40 * MB, "now-24M", None, 3, {}),
        ("/aws/lambda/worker", 15 * MB, "now-24M", None, 2, {}),
        ("/aws/lambda/auth", 3 * MB, "now-20M", None, 2, {}),
        ("/aws/ecs/web", 120 * MB, "now-24M", None, 4, {}),
        ("/aws/ecs/payments", 60 * MB, "now-18M", None, 3, {}),
        ("/aws/apigateway/access", 200 * MB, "now-24M", 365, 2, {}),
        ("/app/audit", 1 * MB, "now-24M", None, 1, {"gaps": ["now-6M", "now-7M"]}),
        ("/app/debug", 80 * MB, "now-24M", 30, 2, {}),
        ("/app/empty", 0, "now-24M", None, 0, {}),
        ("/app/new-service", 25 * MB, "now-20d", None, 2, {}),
        ("/vpc/flow-logs", 600 * MB, "now-24M", 180, 6, {}),
        ("/aws/rds/instance/orders/postgresql", 10 * MB, "now-15M", 400, 1, {}),
    ],
    (A, "eu-west-1"): [
        ("/aws/lambda/api", 20 * MB, "now-24M", None, 2, {}),
        ("/aws/lambda/gdpr-export", 0.5 * MB, "now-12M", None, 1, {"gaps": ["now-3M"]}),
        ("/aws/ecs/web", 50 * MB, "now-24M", 90, 3, {}),
        ("/app/audit", 0.8 * MB, "now-24M", None, 1, {}),
        ("/app/empty", 0, "now-10M", None, 0, {}),
        ("/app/retired", 5 * MB, "now-24M", None, 2, {"data_end": "now-9M"}),
        ("/app/new-service", 12 * MB, "now-45d", None, 1, {}),
        ("/aws/lambda/payments-eu", 8 * MB, "now-24M", 60, 2, {}),
    ],
    (B, "us-east-1"): [
        ("/aws/lambda/api", 30 * MB, "now-24M", None, 3, {}),
        ("/aws/lambda/ingest", 90 * MB, "now-24M", None, 4, {}),
        ("/aws/ecs/payments", 45 * MB, "now-24M", None, 3, {}),
        ("/aws/eks/cluster/main", 300 * MB, "now-16M", 365, 5, {}),
        ("/app/audit", 2 * MB, "now-24M", None, 1, {}),
        ("/app/batch", 20 * MB, "now-24M", None, 2, {"gaps": ["now-10M", "now-11M", "now-12M"]}),
        ("/app/empty", 0, "now-24M", None, 0, {}),
        ("/app/new-service", 5 * MB, "now-7d", None, 1, {}),
        ("/app/debug", 40 * MB, "now-24M", 14, 2, {}),
        ("/aws/codebuild/deploy", 0.2 * MB, "now-22M", None, 2, {}),
        ("/aws/cloudtrail/org", 150 * MB, "now-24M", 730, 3, {}),
    ],
    (B, "eu-west-1"): [
        ("/aws/lambda/api", 10 * MB, "now-24M", None, 2, {}),
        ("/aws/ecs/payments", 25 * MB, "now-24M", None, 2, {}),
        ("/app/audit", 0.5 * MB, "now-24M", None, 1, {}),
        ("/app/empty", 0, "now-5M", None, 0, {}),
        ("/app/reporting", 3 * MB, "now-8M", None, 1, {}),
        ("/aws/lambda/payments-eu", 6 * MB, "now-24M", 120, 2, {}),
        ("/vpc/flow-logs", 250 * MB, "now-24M", 90, 4, {}),
        ("/app/new-service", 4 * MB, "now-60d", 30, 1, {}),
    ],
}


def main():
    groups = []
    for (acct, region), lst in GROUPS.items():
        for name, bpd, created, ret, streams, extra in lst:
            g = {"name": name, "account": acct, "region": region, "created": created,
                 "bytes_per_day": bpd, "streams": streams}
            if ret:
                g["retentionInDays"] = ret
            g.update(extra)
            groups.append(g)
    seed = {
        "description": "cwexport demo: 2 accounts x 2 regions, 39 log groups, 24 months of synthetic data "
                       "relative to now. See tests/fakeaws/README.md.",
        "settings": {
            "token_scope": "account",
            "pending_delay_s": 20,
            "throughput_bps": 20e6,
            "min_running_s": 5,
            "jitter": 0.2,
            "time_factor": 0.0022,
            "rng_seed": 20240101,
        },
        "accounts": [
            {"id": A, "name": "demo-prod",
             "keys": [{"access_key": "AKIAFAKEDEMO00000001",
                       "secret": "fakedemosecretkey000000000000000000000001", "user": "cwexport-demo"}]},
            {"id": B, "name": "demo-shared",
             "keys": [{"access_key": "AKIAFAKEDEMO00000002",
                       "secret": "fakedemosecretkey000000000000000000000002", "user": "cwexport-demo"}]},
        ],
        "roles": [
            {"arn": "arn:aws:iam::%s:role/cwexport-demo" % B, "trusted_accounts": [A, B]},
            {"arn": "arn:aws:iam::%s:role/cwexport-demo-external" % B, "trusted_accounts": [A],
             "external_id": "cwexport-demo-external-id"},
            {"arn": "arn:aws:iam::%s:role/cwexport-demo" % A, "trusted_accounts": [A, B]},
        ],
        "web_identity_tokens": ["fake-web-identity-token-demo"],
        "sns_topics": ["arn:aws:sns:us-east-1:%s:cwexport-demo" % A,
                       "arn:aws:sns:eu-west-1:%s:cwexport-demo" % A],
        "buckets": [{"name": "cwexport-demo-%s-%s" % (acct, region), "account": acct, "region": region}
                    for acct in (A, B) for region in REGIONS] + [
            {"name": "cwexport-demo-readonly-%s-us-east-1" % A, "account": A, "region": "us-east-1",
             "read_only": True},
            {"name": "cwexport-demo-denied-%s-us-east-1" % A, "account": A, "region": "us-east-1",
             "deny_write": True},
        ],
        "log_groups": groups,
    }
    print(json.dumps(seed, indent=1))


if __name__ == "__main__":
    main()
