"""Fewest tasks against the fake: windows without events are skipped
(skip_empty: streams), and small windows are coalesced into one task per
range with a marker per window (coalesce)."""
import json

import pytest

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

A0 = ru.account_id(0)
YEAR_2024 = {"from": "2024-01", "to": "2024-12"}
# Events only in March and May of 2024.
MARCH_MAY = {"created": "2023-06-01", "bytes_per_day": 2e6,
             "streams": [{"name": "web-march", "from": "2024-03-01", "to": "2024-04-01"},
                         {"name": "web-may", "from": "2024-05-01", "to": "2024-06-01"}]}
# Two years of small windows: one stream, 20 KB a day.
SMALL = {"created": "2022-06-01", "bytes_per_day": 2e4,
         "streams": [{"name": "s0", "from": "2023-01-01", "to": "2025-01-01"}]}


@pytest.fixture
def fake(tmp_path):
    with FakeAWS(seed=ru.seed(groups=[("/app/sparse", MARCH_MAY), ("/app/small", SMALL)]),
                 tmp_dir=tmp_path) as f:
        yield f


def _creates(tl):
    """(from, to) of every CreateExportTask that made a task, per log group."""
    out = {}
    for t in tl.tasks().values():
        out.setdefault(t["log_group"], []).append((t["from"], t["to"]))
    return out


def _plan(cwx, fake, tmp_path, cfg):
    p = cwx("plan", "-c", cfg, "--format", "json", env=ru.env(fake, tmp_path), check=0)
    return json.loads(p.stdout)


def test_skip_empty_march_may(cwx, fake, tmp_path):
    cfg = ru.config(tmp_path, groups=["/app/sparse"], rng=YEAR_2024)
    plan = _plan(cwx, fake, tmp_path, cfg)
    skipped = [j for j in plan["jobs"] if j["status"] == "skipped"]
    assert len(skipped) == 10
    assert all(j["reason_code"] == "no_events" for j in skipped)
    assert sorted(j["window"] for j in plan["jobs"] if j["status"] == "pending") == ["2024-03", "2024-05"]
    assert plan["totals"]["tasks"] == 2

    fake.clear_timeline()
    p = ru.run(cwx, fake, tmp_path, cfg, check=0)
    tl = Timeline(fake.timeline())
    assert len(tl.completed()) == 2 and not tl.duplicates()
    assert len(ru.creates(tl.events, "ok")) == plan["totals"]["tasks"]
    calls = tl.api_calls()
    assert calls.get("DescribeLogStreams") == 1
    keys = sorted(k.rsplit("/", 1)[1] for k in ru.markers(fake, A0))
    assert keys == ["2024-03.json", "2024-05.json"]
    assert p.summary["exit_code"] == 0
    # Every event day lies in an exported window.
    for frm, to in _creates(tl)["/app/sparse"]:
        assert to - frm < 32 * 86400000

    # Judged again on the next run: no task, no marker for the empty windows.
    fake.clear_timeline()
    ru.run(cwx, fake, tmp_path, cfg, check=0)
    assert ru.creates(fake.timeline()) == []
    assert len(ru.markers(fake, A0)) == 2


def test_skip_empty_off_exports_every_window(cwx, fake, tmp_path):
    cfg = ru.config(tmp_path, groups=["/app/sparse"], rng=YEAR_2024,
                    defaults={"skip_empty": "off"})
    plan = _plan(cwx, fake, tmp_path, cfg)
    assert plan["totals"]["tasks"] == 12
    fake.clear_timeline()
    ru.run(cwx, fake, tmp_path, cfg, check=0, timeout=300)
    tl = Timeline(fake.timeline())
    assert len(ru.creates(tl.events, "ok")) == 12 and not tl.duplicates()
    assert tl.api_calls().get("DescribeLogStreams", 0) == 0
    fake.clear_timeline()
    ru.run(cwx, fake, tmp_path, cfg, check=0)
    assert ru.creates(fake.timeline()) == []
