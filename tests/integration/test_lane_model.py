"""The lane time model remembered across runs (docs/plan.md, "The lane time
model"): written at the end of a run as _model.json beside the marker index,
read by the next run; a corrupt or foreign one is reported once and ignored,
and the run's results are those of a run without it."""
import json

import pytest

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

A0 = ru.account_id(0)
MODEL_KEY = "_cwexport/%s/us-east-1/_model.json" % A0


@pytest.fixture
def fake(tmp_path):
    with FakeAWS(seed=ru.seed(groups=[("/app/api", {}), ("/app/web", {"bytes_per_day": 8e6})]),
                 tmp_dir=tmp_path) as f:
        yield f


def _model(fake):
    return json.loads(fake.s3_get(ru.bucket(A0), MODEL_KEY))


def test_written_at_the_end_then_read_and_extended(cwx, fake, tmp_path):
    cfg = ru.config(tmp_path, groups=["/app/api"])
    ru.run(cwx, fake, tmp_path, cfg, check=0)
    m = _model(fake)
    assert m["format"] == "cwexport-lane-model" and m["version"] == 1
    assert m["account_id"] == A0 and m["region"] == "us-east-1"
    assert m["tasks"] == 3 and m["min_task_ms"] > 0 and m["fit"]["samples"] == 3
    assert m["bytes"]["estimated"] > 0 and m["bytes"]["exported"] > 0
    # Its windows lie inside CloudWatch's 455 days: the run read their
    # IncomingBytes once and recorded what they exported against them.
    tl = Timeline(fake.timeline())
    assert len([e for e in tl.requests() if e["op"] == "GetMetricData"]) == 1
    assert m["bytes"]["incoming"] > 0
    assert m["bytes"]["incoming_exported"] == m["bytes"]["exported"]
    # The marker index still holds the markers alone, as reconcile reads it.
    assert len(ru.markers(fake, A0)) == 3

    fake.clear_timeline()
    cfg2 = ru.config(tmp_path, groups=["/app/api", "/app/web"], name="run2.yaml")
    p = ru.run(cwx, fake, tmp_path, cfg2, "-v", check=0)
    assert "ignoring the time model" not in p.stderr
    tl = Timeline(fake.timeline())
    gets = [e for e in tl.requests() if e["op"] == "GetObject" and e.get("key") == MODEL_KEY]
    assert len(gets) == 1, [e for e in tl.requests() if e["op"] == "GetObject"]
    assert _model(fake)["tasks"] == 6

    # Nothing left to do: no model read, no model written.
    fake.clear_timeline()
    ru.run(cwx, fake, tmp_path, cfg2, check=0)
    ops = Timeline(fake.timeline()).api_calls()
    assert ops.get("GetObject", 0) == 0 and ops.get("PutObject", 0) == 0


def _junk():
    return bytes((33 + (i * 31) % 90) for i in range(10 * 1000 * 1000))


CORRUPT = {
    "truncated": lambda good: good[: len(good) // 2],
    "wrong_types": lambda good: good.replace(b'"fit":{"n":', b'"fit":{"n":"x","was":'),
    "foreign_version": lambda good: good.replace(b'"version":1', b'"version":9'),
    "junk_10MB": lambda good: _junk(),
}


@pytest.mark.parametrize("kind", sorted(CORRUPT))
def test_corrupt_model_reported_once_and_ignored(cwx, fake, tmp_path, kind):
    # A good model to corrupt, from a run of another lane's worth of work.
    cfg_a = ru.config(tmp_path, groups=["/app/web"], name="a.yaml")
    ru.run(cwx, fake, tmp_path, cfg_a, check=0)
    good = fake.s3_get(ru.bucket(A0), MODEL_KEY)
    if isinstance(good, str):
        good = good.encode()
    bad = CORRUPT[kind](good)
    assert bad != good
    fake.s3_put(ru.bucket(A0), MODEL_KEY, bad)

    fake.clear_timeline()
    cfg = ru.config(tmp_path, groups=["/app/api"])
    p = ru.run(cwx, fake, tmp_path, cfg, check=0)
    assert p.stderr.count("ignoring the time model") == 1, p.stderr[-3000:]
    assert MODEL_KEY in p.stderr
    tl = Timeline(fake.timeline())
    assert len(tl.completed()) == 3 and not tl.duplicates()
    assert len(ru.creates(tl.events, "ok")) == 3
    assert p.summary["totals"]["exported"] == 3 and p.summary["exit_code"] == 0
    # Rewritten whole from what this run learnt.
    m = _model(fake)
    assert m["version"] == 1 and m["tasks"] == 3


def test_refused_metrics_warn_once_and_change_nothing(cwx, fake, tmp_path):
    fake.faults(operations=["GetMetricData"], error_rate=1.0, error_code="AccessDenied",
                error_status=403)
    cfg = ru.config(tmp_path, groups=["/app/api"])
    p = ru.run(cwx, fake, tmp_path, cfg, check=0)
    warnings = [ln for ln in p.stderr.splitlines() if "GetMetricData" in ln]
    assert len(warnings) == 1 and "AccessDenied" in warnings[0], p.stderr
    m = _model(fake)
    assert m["tasks"] == 3 and m["bytes"]["exported"] > 0
    assert m["bytes"].get("incoming", 0) == 0
    assert len(ru.markers(fake, A0)) == 3
