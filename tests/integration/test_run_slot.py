"""The export slot: a foreign holder, token scopes over 5 accounts × 2
regions, and two cwexport processes cooperating through AWS state."""
import time

import pytest

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

A0 = ru.account_id(0)
POLL_MAX_S = 0.4  # the configs' poll.max


def test_foreign_holder_waited_on(cwx, tmp_path):
    with FakeAWS(seed=ru.seed(), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 2})
        fake.foreign_task(A0, duration_s=2.0, name="someone-else")
        ru.run(cwx, fake, tmp_path, cfg, check=0)
        tl = Timeline(fake.timeline())
        tasks = tl.tasks()
        foreign = [t for t in tasks.values() if t["foreign"]][0]
        ours = sorted((t for t in tasks.values() if not t["foreign"]), key=lambda t: t["created"])
        assert len(ours) == 2 and not tl.duplicates()
        during = [e for e in ru.creates(tl.events) if e["t"] <= foreign["ended"]]
        assert len(during) <= 3
        # The first task of ours starts within one poll interval of the holder's end.
        assert ours[0]["created"] - foreign["ended"] <= POLL_MAX_S + 0.25
        assert max(tl.max_concurrent_active().values()) == 1


@pytest.mark.parametrize("scope", ["account", "region"])
def test_five_accounts_two_regions(cwx, tmp_path, scope):
    regions = ("us-east-1", "eu-west-1")
    with FakeAWS(seed=ru.seed(accounts=5, regions=regions, token_scope=scope), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, accounts=5, regions=regions, rng={"last": 2}, token_scope=scope)
        p = ru.run(cwx, fake, tmp_path, cfg, check=0)
        tl = Timeline(fake.timeline(), scope=scope)
        assert len(tl.completed()) == 5 * 2 * 2 and not tl.duplicates()
        conc = tl.max_concurrent_active()
        assert max(conc.values()) == 1  # never two active tasks in one token
        assert len(conc) == (5 if scope == "account" else 10)
        per_account = Timeline(fake.timeline(), scope="account").max_concurrent_active()
        if scope == "region":
            assert max(per_account.values()) == 2  # both regions of an account busy at once
        assert len(p.summary["lanes"]) == len(conc)


def test_two_processes_cooperate(cwx, tmp_path):
    groups = [("/app/g%d" % i, {}) for i in range(4)]
    with FakeAWS(seed=ru.seed(groups=groups), tmp_dir=tmp_path) as fake:
        names = [g for g, _ in groups]
        cfg = ru.config(tmp_path, groups=names, rng={"last": 3})
        t0 = time.monotonic()
        ru.run(cwx, fake, tmp_path, cfg, check=0)
        alone = time.monotonic() - t0
        # Start again from scratch with two processes at once.
        fake.reset()
        t0 = time.monotonic()
        procs = [ru.spawn(cwx, fake, tmp_path, cfg) for _ in range(2)]
        codes = [p.wait(timeout=120) for p in procs]
        pair = time.monotonic() - t0
        assert codes == [0, 0]
        tl = Timeline(fake.timeline())
        assert len(tl.completed()) == 12 and not tl.duplicates()
        assert max(tl.max_concurrent_active().values()) == 1
        assert len(ru.markers(fake, A0)) == 12
        assert pair < alone * 1.6 + 1.0, (pair, alone)
