"""Trust boundaries against the fake AWS: one key per log group, the caller's
account, the bucket's owner, plain-http endpoints."""
import json

import pytest

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

A0 = ru.account_id(0)
A1 = ru.account_id(1)


@pytest.fixture
def fake(tmp_path):
    with FakeAWS(seed=ru.seed(accounts=2, groups=[("/coll/x", {}), ("coll/x", {})]),
                 tmp_dir=tmp_path) as f:
        yield f


def _config(tmp_path, names, name="trust.yaml", **kw):
    path = ru.config(tmp_path, name=name, **kw)
    cfg = json.loads(path.read_text())
    cfg["accounts"][0]["log_groups"] = [{"name": n} for n in names]
    path.write_text(json.dumps(cfg, indent=1) + "\n")
    return path


def _plan(cwx, fake, tmp_path, cfg):
    proc = cwx("plan", "-c", cfg, "-f", "json", env=ru.env(fake, tmp_path), check=0)
    return json.loads(proc.stdout)["jobs"]


def test_slash_and_bare_names_never_share_keys(cwx, fake, tmp_path):
    ru.run(cwx, fake, tmp_path, _config(tmp_path, ["/coll/x"]), check=0)
    first = ru.markers(fake, A0)
    assert len(first) == 3 and all(k.startswith("_cwexport/%s/us-east-1/coll/x/" % A0)
                                   for k in first)

    bare = _config(tmp_path, ["coll/x"], name="bare.yaml")
    jobs = _plan(cwx, fake, tmp_path, bare)
    assert [j["status"] for j in jobs] == ["pending"] * 3
    assert all(j["prefix"].startswith("%s/us-east-1/!coll/x/" % A0) for j in jobs)

    fake.clear_timeline()
    ru.run(cwx, fake, tmp_path, bare, check=0)
    tl = Timeline(fake.timeline())
    assert len(ru.creates(tl.events, "ok")) == 3
    keys = set(ru.markers(fake, A0)) - set(first)
    assert len(keys) == 3 and all(k.startswith("_cwexport/%s/us-east-1/!coll/x/" % A0)
                                  for k in keys)
    for k in keys:
        assert json.loads(fake.s3_get(ru.bucket(A0), k))["log_group"] == "coll/x"
    data = [o["key"] for o in fake.s3_list(ru.bucket(A0), "%s/us-east-1/!coll/x/" % A0)]
    assert data


def test_old_layout_marker_honoured_only_for_its_group(cwx, fake, tmp_path):
    bare = _config(tmp_path, ["coll/x"])
    jobs = _plan(cwx, fake, tmp_path, bare)
    windows = [j["window"] for j in jobs]
    assert len(windows) == 3
    old = "_cwexport/%s/us-east-1/coll/x/%s.json"
    # Written by an older cwexport for this very group: honoured.
    fake.s3_put(ru.bucket(A0), old % (A0, windows[0]),
                json.dumps({"marker_version": 1, "log_group": "coll/x"}).encode())
    # The same key written for "/coll/x": not this group's marker.
    fake.s3_put(ru.bucket(A0), old % (A0, windows[1]),
                json.dumps({"marker_version": 1, "log_group": "/coll/x"}).encode())
    fake.clear_timeline()
    by_window = {j["window"]: j["status"] for j in _plan(cwx, fake, tmp_path, bare)}
    assert by_window == {windows[0]: "done", windows[1]: "pending", windows[2]: "pending"}
    gets = [e["key"] for e in Timeline(fake.timeline()).requests() if e["op"] == "GetObject"]
    assert sorted(k for k in gets if "/coll/x/" in k) == sorted(old % (A0, w) for w in windows[:2])

    # A slash group's key is its own, as before: no content check.
    slash = _config(tmp_path, ["/coll/x"], name="slash.yaml")
    st = {j["window"]: j["status"] for j in _plan(cwx, fake, tmp_path, slash)}
    assert st == {windows[0]: "done", windows[1]: "done", windows[2]: "pending"}


def _edit(path, fn):
    cfg = json.loads(path.read_text())
    fn(cfg)
    path.write_text(json.dumps(cfg, indent=1) + "\n")
    return path


def test_wrong_account_exits_3_before_any_export(cwx, fake, tmp_path):
    # Account 0's credentials, but the config says account 1.
    cfg = _edit(_config(tmp_path, ["/coll/x"]),
                lambda c: c["accounts"][0].update(account_id=A1))
    p = ru.run(cwx, fake, tmp_path, cfg, check=3)
    assert "the credentials belong to account %s, but the config says account_id %s" % (A0, A1) \
        in p.stderr
    tl = Timeline(fake.timeline())
    assert ru.creates(tl.events) == []
    assert tl.api_calls().get("GetCallerIdentity") == 1
    assert fake.s3_list(ru.bucket(A1)) == [] and fake.s3_list(ru.bucket(A0)) == []
    plan = cwx("plan", "-c", cfg, "-f", "json", env=ru.env(fake, tmp_path))
    assert plan.returncode == 3


def test_bucket_of_another_account_exits_3(cwx, fake, tmp_path):
    # Account 0 writes into a bucket that account 1 owns (a typo, a
    # recreated or sniped name): S3 refuses every call.
    cfg = _edit(_config(tmp_path, ["/coll/x"]),
                lambda c: c["accounts"][0].update(destination={"bucket": ru.bucket(A1)}))
    p = ru.run(cwx, fake, tmp_path, cfg, check=3)
    assert ("bucket %s: either it is not owned by the expected account %s" % (ru.bucket(A1), A0)
            in p.stderr)
    tl = Timeline(fake.timeline())
    assert ru.creates(tl.events) == []
    s3 = [e for e in tl.requests() if e["service"] == "s3"]
    assert s3 and all(e["status"] == 403 for e in s3)
    assert fake.s3_list(ru.bucket(A1)) == []

    # Named as the expected owner, the cross-account bucket is used.
    _edit(cfg, lambda c: c["accounts"][0]["destination"].update(expected_bucket_owner=A1))
    fake.clear_timeline()
    ru.run(cwx, fake, tmp_path, cfg, check=0)
    assert len(ru.creates(Timeline(fake.timeline()).events, "ok")) == 3
    assert len(ru.markers(fake, A1)) == 3


def test_expected_bucket_owner_is_validated(cwx, tmp_path):
    cfg = _edit(_config(tmp_path, ["/coll/x"]),
                lambda c: c["defaults"]["destination"].update(expected_bucket_owner="12345"))
    p = cwx("validate", "-c", cfg, check=2)
    assert "expected_bucket_owner" in p.stderr


REMOTE = "http://10.255.255.1:9"  # never contacted: refused, or unused (SNS)


def test_plain_http_to_another_host_refused(cwx, fake, tmp_path):
    cfg = _config(tmp_path, ["/coll/x"])
    env = ru.env(fake, tmp_path)
    env["AWS_ENDPOINT_URL_SNS"] = REMOTE
    p = cwx("plan", "-c", cfg, "-f", "json", env=env)
    assert p.returncode == 3, p.stderr
    assert "AWS_ENDPOINT_URL_SNS: %s is plain http to 10.255.255.1" % REMOTE in p.stderr
    assert "--allow-insecure-endpoint" in p.stderr
    assert fake.timeline() == []
    env2 = dict(env, AWS_ENDPOINT_URL_SNS="http://user@10.255.255.1")
    assert cwx("whoami", env=env2).returncode == 3

    # Allowed on the command line or in the config: one warning per host.
    p = cwx("--allow-insecure-endpoint", "plan", "-c", cfg, "-f", "json", env=env, check=0)
    assert p.stderr.count("plain http to 10.255.255.1") == 1
    assert len(json.loads(p.stdout)["jobs"]) == 3
    _edit(cfg, lambda c: c.update(allow_insecure_endpoint=True))
    p = cwx("plan", "-c", cfg, "-f", "json", env=env, check=0)
    assert p.stderr.count("plain http to 10.255.255.1") == 1


def test_plain_http_to_loopback_accepted(cwx, fake, tmp_path):
    cfg = _config(tmp_path, ["/coll/x"])
    env = ru.env(fake, tmp_path)
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    env["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = env["AWS_ENDPOINT_URL"].replace("127.0.0.1",
                                                                              "localhost")
    p = cwx("plan", "-c", cfg, "-f", "json", env=env, check=0)
    assert "plain http" not in p.stderr


def _measured(cwx, args, timeout=60):
    """Runs cwexport; returns (exit code, stderr, peak RSS in MB)."""
    import os
    import subprocess
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    err = open(os.devnull, "w")
    p = subprocess.Popen([cwx.binary, *map(str, args)], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    out = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    err.close()
    return p.returncode, out, usage.ru_maxrss / 1024.0


def _head(groups_yaml, defaults="", top=""):
    return ("version: 1\n%sdefaults:\n  destination: {bucket: trust-archive}\n%s"
            "accounts:\n  - name: a\n    account_id: \"111111111111\"\n"
            "    regions: [us-east-1]\n    log_groups:\n%s" % (top, defaults, groups_yaml))


def test_alias_amplification_refused(cwx, tmp_path):
    # An aliased 2,000-item exclude list referenced 5,000 times.
    items = ", ".join('"/x/%d"' % i for i in range(2000))
    groups = ["      - prefix: /p0/\n        exclude: &ex [%s]\n" % items]
    groups += ["      - prefix: /p%d/\n        exclude: *ex\n" % i for i in range(1, 5000)]
    wide = tmp_path / "wide.yaml"
    wide.write_text(_head("".join(groups)))
    code, err, rss = _measured(cwx, ["validate", "-c", wide])
    assert code == 2, err
    # The first alias that goes past the cap, with its place.
    assert "wide.yaml:%d:18: error: expected a config whose aliases repeat at most 100000 " \
           "nodes in all, found alias *ex repeating 2001 more" % (10 + 2 * 50) in err
    # Nested aliases ("billion laughs"): a few hundred bytes for 10^9 nodes.
    lol = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lol += ["a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10)) for i in range(1, 9)]
    nested = tmp_path / "nested.yaml"
    nested.write_text("x-laughs:\n" + "".join("  %s\n" % line for line in lol) + _head(
        "      - name: /a\n"))
    code2, err2, rss2 = _measured(cwx, ["validate", "-c", nested])
    assert code2 == 2 and "found alias *a" in err2, err2
    print("peak RSS: wide %.1f MB, nested %.1f MB" % (rss, rss2))


def test_job_cap_refuses_before_spending_memory(cwx, tmp_path):
    # 10 regions × 500 named groups, hourly windows since 2015: ~480 M jobs.
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
               "eu-central-1", "ap-south-1", "ap-northeast-1", "sa-east-1"]
    groups = "".join("      - name: /g/%03d\n" % i for i in range(500))
    text = _head(groups, defaults="  window: hour\nrange: {from: 2015-01-01T00}\n")
    text = text.replace("regions: [us-east-1]", "regions: [%s]" % ", ".join(regions))
    big = tmp_path / "hourly.yaml"
    big.write_text(text)
    assert len(text) < 12000
    code, err, rss = _measured(cwx, ["plan", "-c", big, "--offline", "-f", "json"])
    assert code == 2, err
    assert "more than max_jobs (5000000)" in err
    print("peak RSS: hourly %.1f MB" % rss)
    # max_jobs is the knob.
    small = tmp_path / "small.yaml"
    small.write_text(_head("      - name: /g/1\n      - name: /g/2\n",
                           defaults="  window: day\nrange: {from: 2024-01-01}\n",
                           top="max_jobs: 100\n"))
    code, err, _ = _measured(cwx, ["plan", "-c", small, "--offline", "-f", "json"])
    assert code == 2 and "more than max_jobs (100)" in err, err


def test_cancel_only_this_configs_tasks(cwx, fake, tmp_path):
    cfg = _config(tmp_path, ["/coll/x"])
    env = ru.env(fake, tmp_path)
    job = _plan(cwx, fake, tmp_path, cfg)[0]
    fake.inject_task(A0, "us-east-1", "/coll/x", job["from"], job["to"], status="RUNNING",
                     name=job["task_name"], duration_s=60)
    # Another config's task: the shape of ours, not one of this config's jobs.
    fake.inject_task(A0, "us-east-1", "/coll/x", 0, 1000, status="RUNNING",
                     name="cwexport-0123456789abcdef", duration_s=60)
    c = cwx("cancel", "-c", cfg, env=env, check=0)
    assert "1 cancelled" in c.stdout and "not this config's task, left alone" in c.stdout
    assert [t.get("taskName") for t in fake.tasks(active=True)] == ["cwexport-0123456789abcdef"]
    c = cwx("cancel", "-c", cfg, "--all-cwexport", env=env, check=0)
    assert "1 cancelled" in c.stdout and fake.tasks(active=True) == []


def test_control_characters_from_aws_are_escaped(cwx, fake, tmp_path):
    cfg = _config(tmp_path, ["/coll/x"])
    fake.foreign_task(A0, duration_s=60, name="evil\x1b[2J\rtask")
    st = cwx("status", "-c", cfg, env=ru.env(fake, tmp_path), check=0)
    assert "\x1b" not in st.stdout and "\r" not in st.stdout
    assert "evil\\x1b[2J\\x0dtask" in st.stdout
