"""`cwexport run` against the fake: the classic scenario, empty windows, FAILED
tasks, the loop guard, status and cancel."""
import json

import pytest

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

A0 = ru.account_id(0)


@pytest.fixture
def fake(tmp_path):
    with FakeAWS(seed=ru.seed(topics=["arn:aws:sns:us-east-1:%s:cwx" % A0],
                              groups=[("/app/api", {}), ("/app/empty", {"bytes_per_day": 0})]),
                 tmp_dir=tmp_path) as f:
        yield f


def test_classic_three_months_then_nothing(cwx, fake, tmp_path):
    cfg = ru.config(tmp_path, groups=["/app/api"])
    events = tmp_path / "events.jsonl"
    p = ru.run(cwx, fake, tmp_path, cfg, "--events", events, check=0)
    tl = Timeline(fake.timeline())
    done = tl.completed()
    assert len(done) == 3 and not tl.duplicates()
    assert len(ru.creates(tl.events, "ok")) == 3
    assert max(tl.max_concurrent_active().values()) == 1
    keys = ru.markers(fake, A0)
    assert len(keys) == 3 and all(k.startswith("_cwexport/%s/us-east-1/app/api/" % A0) for k in keys)
    m = json.loads(fake.s3_get(ru.bucket(A0), keys[0]))
    assert m["task_name"].startswith("cwexport-") and m["objects"] >= 1 and m["bytes"] > 0
    assert m["log_group"] == "/app/api" and m["to"] > m["from"]
    s = p.summary
    assert s["exit_code"] == 0 and s["totals"]["exported"] == 3 and s["totals"]["failed"] == 0
    assert s["lanes"][0]["jobs"] == 3
    lines = [json.loads(x) for x in events.read_text().splitlines()]
    assert sum(1 for e in lines if e["to"] == "done") == 3
    assert {"check", "create", "wait", "verify", "mark", "done"} <= {e["to"] for e in lines}

    fake.clear_timeline()
    p2 = ru.run(cwx, fake, tmp_path, cfg, check=0)
    tl2 = Timeline(fake.timeline())
    assert ru.creates(tl2.events) == []
    # The second run reads the marker index once, not one call per window.
    ops = tl2.api_calls()
    assert ops.get("HeadObject", 0) == 0 and ops.get("ListObjectsV2", 0) == 1
    assert p2.summary["totals"]["already_done"] == 3


def test_empty_windows_done_once(cwx, fake, tmp_path):
    # skip_empty off: exported, found empty, marked, never exported again.
    cfg = ru.config(tmp_path, groups=["/app/empty"], defaults={"skip_empty": "off"})
    ru.run(cwx, fake, tmp_path, cfg, check=0)
    tl = Timeline(fake.timeline())
    assert len(tl.completed()) == 3 and not tl.duplicates()
    keys = ru.markers(fake, A0)
    assert len(keys) == 3
    for k in keys:
        assert json.loads(fake.s3_get(ru.bucket(A0), k))["objects"] == 0
    fake.clear_timeline()
    ru.run(cwx, fake, tmp_path, cfg, check=0)
    assert ru.creates(fake.timeline()) == []


def test_failed_tasks_retried_then_failed(cwx, fake, tmp_path):
    cfg = ru.config(tmp_path, groups=["/app/api"], rng={"last": 1},
                    defaults={"max_attempts": 3})
    fake.fail_next(3, account=A0)
    p = ru.run(cwx, fake, tmp_path, cfg, check=1)
    tl = Timeline(fake.timeline())
    assert len(ru.creates(tl.events, "ok")) == 3
    finals = [t["final"] for t in tl.tasks().values()]
    assert finals == ["FAILED"] * 3
    assert p.summary["totals"]["failed"] == 1 and p.summary["totals"]["retries"] == 2
    f = p.summary["failures"][0]
    assert f["log_group"] == "/app/api" and f["reason"] == "attempts"
    assert ru.markers(fake, A0) == []
    # One failure then success: done, exit 0.
    fake.clear_timeline()
    fake.fail_next(1, account=A0)
    ru.run(cwx, fake, tmp_path, cfg, check=0)
    assert len(ru.markers(fake, A0)) == 1


def test_loop_guard_trips_and_notifies(cwx, fake, tmp_path):
    cfg = ru.config(tmp_path, groups=["/app/api"],
                    defaults={"loop_guard": {"max_creates_per_run": 1}},
                    extra={"notify": {"sns_topic_arn": "arn:aws:sns:us-east-1:%s:cwx" % A0,
                                      "on": ["failure", "loop_guard"]}})
    p = ru.run(cwx, fake, tmp_path, cfg, check=4)
    assert len(ru.creates(fake.timeline())) == 1
    assert p.summary["loop_guard"]["tripped"] is True
    msgs = fake.sns_messages()
    assert len(msgs) == 1 and "loop guard" in msgs[0]["subject"]
    body = json.loads(msgs[0]["message"])
    assert body["exit_code"] == 4 and body["totals"]["jobs"] == 3


def test_nothing_settled_exits_zero(cwx, fake, tmp_path):
    # Hourly windows of the last 2 hours with a 2-day settle: nothing has settled
    # in the group's future-only range.
    cfg = ru.config(tmp_path, groups=["/app/api"], rng={"from": "2099-01-01"},
                    defaults={"window": "day"})
    p = ru.run(cwx, fake, tmp_path, cfg, check=0)
    assert "nothing to export" in p.stderr
    assert ru.creates(fake.timeline()) == []


def test_status_and_cancel(cwx, fake, tmp_path):
    cfg = ru.config(tmp_path, groups=["/app/api"])
    fake.foreign_task(A0, duration_s=30, name="other-tool-task")
    fake.inject_task(A0, "us-east-1", "/app/api", 0, 1000, status="RUNNING",
                     name="cwexport-0123456789abcdef", duration_s=30)
    st = cwx("status", "-c", cfg, "--json", env=ru.env(fake, tmp_path), check=0)
    doc = json.loads(st.stdout)
    assert doc["ours"] == 1 and doc["foreign"] == 1
    c = cwx("cancel", "-c", cfg, "--all-cwexport", env=ru.env(fake, tmp_path), check=0)
    assert "1 cancelled" in c.stdout
    active = fake.tasks(active=True)
    assert [t.get("taskName") for t in active] == ["other-tool-task"]


def test_account_loop_guard_caps_its_lane(cwx, tmp_path):
    # Account 0 has its own max_creates_per_run of 1 (a per-lane cap); account
    # 1 inherits the automatic default and exports all of its windows.
    with FakeAWS(seed=ru.seed(accounts=2), tmp_dir=tmp_path) as fake:
        path = ru.config(tmp_path, accounts=2, groups=["/app/api"])
        cfg = json.loads(path.read_text())
        cfg["accounts"][0]["loop_guard"] = {"max_creates_per_run": 1}
        path.write_text(json.dumps(cfg))
        p = ru.run(cwx, fake, tmp_path, path, check=4)
        tl = Timeline(fake.timeline())
        per_account = {}
        for e in ru.creates(tl.events):
            per_account[e["account"]] = per_account.get(e["account"], 0) + 1
        a1 = ru.account_id(1)
        assert per_account == {A0: 1, a1: 3}
        assert len(ru.markers(fake, A0)) == 1 and len(ru.markers(fake, a1)) == 3
        lanes = {lane["account"]: lane for lane in p.summary["lanes"]}
        assert lanes["acct0"]["loop_guard_tripped"] and lanes["acct0"]["stopped"]
        assert lanes["acct0"]["max_creates_per_run"] == 1
        assert "max_creates_per_run" in lanes["acct0"]["stop_reason"]
        assert not lanes["acct1"]["stopped"] and lanes["acct1"]["exported"] == 3
        assert p.summary["loop_guard"]["tripped"] and p.summary["loop_guard"]["lanes_tripped"] == 1
