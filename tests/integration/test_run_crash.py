"""Crashes and signals: kill -9 at random moments of a 60-job run, SIGINT."""
import random
import signal
import time

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

A0 = ru.account_id(0)


def test_kill9_at_random_moments(cwx, tmp_path):
    groups = [("/app/g%d" % i, {"created": "now-400d"}) for i in range(5)]
    with FakeAWS(seed=ru.seed(groups=groups, settings={"time_factor": 0.005}),
                 tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, groups=[g for g, _ in groups], rng={"last": 12})
        rnd = random.Random(5)
        for _ in range(10):
            p = ru.spawn(cwx, fake, tmp_path, cfg)
            time.sleep(rnd.uniform(0.05, 1.2))
            p.kill()
            p.wait()
        ru.run(cwx, fake, tmp_path, cfg, check=0, timeout=300)
        tl = Timeline(fake.timeline())
        done = tl.completed()
        assert len(done) == 60
        assert not tl.duplicates(), tl.duplicates()
        assert len(ru.markers(fake, A0)) == 60
        assert max(tl.max_concurrent_active().values()) == 1
        fake.clear_timeline()
        ru.run(cwx, fake, tmp_path, cfg, check=0)
        assert ru.creates(fake.timeline()) == []


def test_sigint_stops_then_next_run_adopts(cwx, tmp_path):
    # Long tasks: 1.5 s each.
    with FakeAWS(seed=ru.seed(settings={"time_factor": 0.06}), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 3})
        p = ru.spawn(cwx, fake, tmp_path, cfg)
        deadline = time.monotonic() + 20
        while not fake.tasks(active=True) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fake.tasks(active=True)
        t_sig = time.monotonic()
        p.send_signal(signal.SIGINT)
        time.sleep(0.1)
        p.send_signal(signal.SIGINT)  # the second: exit now, leave the task running
        assert p.wait(timeout=30) == 130
        assert time.monotonic() - t_sig < 5
        left = fake.tasks(active=True)
        assert len(left) == 1
        ru.run(cwx, fake, tmp_path, cfg, check=0)
        tl = Timeline(fake.timeline())
        assert len(tl.completed()) == 3 and not tl.duplicates()
        assert len(ru.creates(tl.events, "ok")) == 3  # the left task was adopted
        assert len(ru.markers(fake, A0)) == 3


def test_first_sigint_waits_for_active_task(cwx, tmp_path):
    with FakeAWS(seed=ru.seed(settings={"time_factor": 0.04}), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 3})
        p = ru.spawn(cwx, fake, tmp_path, cfg)
        deadline = time.monotonic() + 20
        while not fake.tasks(active=True) and time.monotonic() < deadline:
            time.sleep(0.02)
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=30) == 130
        tl = Timeline(fake.timeline())
        assert len(ru.creates(tl.events, "ok")) == 1  # no new task after the signal
        assert fake.tasks(active=True) == []          # the active one was waited for
        assert len(ru.markers(fake, A0)) == 1         # and marked
