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


def _overlaps(ranges):
    rs = sorted(ranges)
    return [(a, b) for a, b in zip(rs, rs[1:]) if b[0] <= a[1]]


def _completed_ranges(tl, group):
    return [(t["from"], t["to"]) for t in tl.tasks().values()
            if t["log_group"] == group and t["final"] == "COMPLETED"]


TWO_YEARS = {"from": "2023-01", "to": "2024-12"}
COALESCE = {"coalesce": {"max_bytes": "1GiB", "max_windows": 12}}


def _event_days(frm, to):
    day = 86400000
    return list(range(frm - frm % day, to, day))


def test_coalesce_24_small_months_two_tasks(cwx, fake, tmp_path):
    cfg = ru.config(tmp_path, groups=["/app/small"], rng=TWO_YEARS, defaults=COALESCE)
    plan = _plan(cwx, fake, tmp_path, cfg)
    assert plan["totals"]["tasks"] == 2
    assert {j["range"] for j in plan["jobs"]} == {"2023-01..2023-12", "2024-01..2024-12"}
    assert len({j["task_name"] for j in plan["jobs"]}) == 2

    fake.clear_timeline()
    p = ru.run(cwx, fake, tmp_path, cfg, check=0)
    assert p.summary["exit_code"] == 0
    tl = Timeline(fake.timeline())
    assert len(ru.creates(tl.events, "ok")) == plan["totals"]["tasks"] == 2
    ranges = _completed_ranges(tl, "/app/small")
    assert len(ranges) == 2 and not _overlaps(ranges)
    # Every event day of the group lies in exactly one exported range.
    day0 = ru_ms("2023-01-01")
    for d in _event_days(day0, ru_ms("2025-01-01")):
        assert sum(1 for a, b in ranges if a <= d <= b) == 1, d
    keys = ru.markers(fake, A0)
    assert len(keys) == 24
    tasks = {t["task_id"]: t for t in tl.tasks().values()}
    for k in keys:
        m = json.loads(fake.s3_get(ru.bucket(A0), k))
        assert m["task_id"] in tasks and m["task_name"] == tasks[m["task_id"]]["task_name"]
        assert m["range"]["windows"] == 12
        assert k.rsplit("/", 1)[1] == m["window"] + ".json"
        assert m["prefix"].endswith("/" + m["range"]["from"] + ".." + m["range"]["to"])
    # Objects of the range land under the range's prefix.
    objs = [o["key"] for o in fake.s3_list(ru.bucket(A0), "%s/us-east-1/app/small/" % A0)]
    assert any("2023-01..2023-12/" in o and o.endswith(".gz") for o in objs)

    fake.clear_timeline()
    ru.run(cwx, fake, tmp_path, cfg, check=0)
    assert ru.creates(fake.timeline()) == []


def ru_ms(day):
    import calendar
    y, m, d = map(int, day.split("-"))
    return calendar.timegm((y, m, d, 0, 0, 0)) * 1000


def test_coalesced_task_failed_is_bisected(cwx, fake, tmp_path):
    cfg = ru.config(tmp_path, groups=["/app/small"], rng={"from": "2024-01", "to": "2024-08"},
                    defaults=dict(COALESCE, max_attempts=2))
    fake.fail_next(1, account=A0)
    p = ru.run(cwx, fake, tmp_path, cfg, check=0)
    assert p.summary["exit_code"] == 0
    tl = Timeline(fake.timeline())
    finals = sorted((t["from"], t["to"], t["final"]) for t in tl.tasks().values())
    failed = [f for f in finals if f[2] == "FAILED"]
    done = [(a, b) for a, b, f in finals if f == "COMPLETED"]
    assert len(failed) == 1 and len(done) == 2
    # The halves cover exactly the failed range, once.
    assert not _overlaps(done)
    assert min(a for a, _ in done) == failed[0][0] and max(b for _, b in done) == failed[0][1]
    assert len(ru.markers(fake, A0)) == 8


def test_kill9_mid_coalesced_run(cwx, tmp_path):
    groups = [("/app/c%d" % i, SMALL) for i in range(3)]
    with FakeAWS(seed=ru.seed(groups=groups, settings={"time_factor": 0.02}),
                 tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, groups=[g for g, _ in groups], rng=TWO_YEARS,
                        defaults={"coalesce": {"max_windows": 4}})
        import random
        import time
        rnd = random.Random(3)
        for _ in range(6):
            p = ru.spawn(cwx, fake, tmp_path, cfg)
            time.sleep(rnd.uniform(0.2, 1.5))
            p.kill()
            p.wait()
        ru.run(cwx, fake, tmp_path, cfg, check=0, timeout=300)
        tl = Timeline(fake.timeline())
        for g, _ in groups:
            ranges = _completed_ranges(tl, g)
            assert not _overlaps(ranges), (g, ranges)
        assert len(ru.markers(fake, A0)) == 72
        fake.clear_timeline()
        ru.run(cwx, fake, tmp_path, cfg, check=0)
        assert ru.creates(fake.timeline()) == []
