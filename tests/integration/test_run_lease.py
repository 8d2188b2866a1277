"""Several `cwexport run` processes on one config: the lane lease in S3 (conditional writes)
makes each lane driven by one runner at a time, so every window is exported exactly once.
Each runner signs with its own access key of the account, so the fake's timeline tells which
runner made each call."""
import json
import os
import random
import signal
import time

import pytest

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

A0 = ru.account_id(0)
TTL_S = 3.0
LEASE_KEY = "_cwexport/%s/_lease.json"
# More rounds than CI runs: CWX_LEASE_ROUNDS=10.
ROUNDS = int(os.environ.get("CWX_LEASE_ROUNDS", "2"))


def runner_key(acct, r):
    return {"access_key": "AKIARN%02d%s" % (r, acct[-12:]), "secret": ("runner%d%s" % (r, acct) + "z" * 40)[:40],
            "account": acct}


def world(runners, accounts=1, groups=4, settings=None, group_spec=None):
    gs = [("/app/g%d" % i, dict(group_spec or {})) for i in range(groups)]
    s = ru.seed(accounts=accounts, groups=gs, settings=settings)
    for a in s["accounts"]:
        a["keys"] += [runner_key(a["id"], r) for r in range(runners)]
    return s, [g for g, _ in gs]


def configs(tmp_path, runners, accounts=1, groups=(), **kw):
    """One config per runner, identical but for the profile (its own key)."""
    paths = []
    for r in range(runners):
        p = ru.config(tmp_path, accounts=accounts, groups=groups, name="run%d.yaml" % r, **kw)
        d = json.loads(p.read_text())
        for i, a in enumerate(d["accounts"]):
            a["profile"] = "r%d_%d" % (r, i)
        p.write_text(json.dumps(d, indent=1))
        paths.append(p)
    lines = []
    for r in range(runners):
        for i in range(accounts):
            k = runner_key(ru.account_id(i), r)
            lines += ["[r%d_%d]" % (r, i), "aws_access_key_id = " + k["access_key"],
                      "aws_secret_access_key = " + k["secret"], ""]
    with open(tmp_path / "credentials", "a") as f:
        f.write("\n" + "\n".join(lines))
    return paths


def runner_of(event):
    k = event.get("access_key") or ""
    return int(k[6:8]) if k.startswith("AKIARN") else None


def tasks_per_window(tl):
    out = {}
    for t in tl.tasks().values():
        if not t["foreign"]:
            out.setdefault((t["account"], t["region"], t["log_group"], t["from"], t["to"]), []).append(t)
    return out


def check_exactly_once(fake, tl, windows, accounts=1):
    per = tasks_per_window(tl)
    assert len(per) == windows, (len(per), windows)
    twice = {k: [t["task_id"] for t in v] for k, v in per.items() if len(v) > 1}
    assert not twice, twice
    assert not tl.duplicates()
    assert max(tl.max_concurrent_active().values()) == 1
    for i in range(accounts):
        assert len(ru.markers(fake, ru.account_id(i))) == windows // accounts


def lease_body(fake, acct=A0):
    try:
        return json.loads(fake.s3_get(ru.bucket(acct), LEASE_KEY % acct))
    except Exception:
        return None


def wait_for(pred, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


@pytest.mark.parametrize("runners", [3, 5])
def test_runners_export_each_window_once(cwx, tmp_path, runners):
    """N runners started at random moments 0-0.4 s apart, throttles and 5xx on every
    service: every window exported once, never two tasks active, every runner exits 0."""
    s, names = world(runners)
    with FakeAWS(seed=s, tmp_dir=tmp_path) as fake:
        cfgs = configs(tmp_path, runners, groups=names, rng={"last": 3})
        for seed in range(ROUNDS):
            fake.reset()
            fake.faults(rules=[{"throttle_rate": 0.05}, {"error_rate": 0.03}])
            rnd = random.Random(1000 * runners + seed)
            procs = []
            for r in range(runners):
                procs.append(ru.spawn(cwx, fake, tmp_path, cfgs[r]))
                time.sleep(rnd.uniform(0, 0.4 / runners))
            codes = [p.wait(timeout=180) for p in procs]
            assert codes == [0] * runners, (seed, codes)
            tl = Timeline(fake.timeline())
            check_exactly_once(fake, tl, 12)
            # The lease is released at the end.
            assert lease_body(fake) is None


def test_kill9_of_the_holder_is_taken_over(cwx, tmp_path):
    """SIGKILL of the runner holding the lease mid-task: the other runner takes the lane
    over within ttl plus one re-read, adopts the running task, exports nothing twice."""
    s, names = world(2, groups=2, settings={"time_factor": 0.15})
    with FakeAWS(seed=s, tmp_dir=tmp_path) as fake:
        cfgs = configs(tmp_path, 2, groups=names, rng={"last": 2})
        a = ru.spawn(cwx, fake, tmp_path, cfgs[0])
        assert wait_for(lambda: fake.tasks(active=True), 30)
        b = ru.spawn(cwx, fake, tmp_path, cfgs[1])
        assert wait_for(lambda: (lease_body(fake) or {}).get("runner", {}).get("pid") == a.pid, 10)
        time.sleep(1.0)  # b is watching a's lease now
        running = fake.tasks(active=True)
        assert running
        a.kill()
        a.wait()
        t_kill = time.monotonic()
        assert wait_for(lambda: (lease_body(fake) or {}).get("runner", {}).get("pid") == b.pid, 30)
        took = time.monotonic() - t_kill
        assert took <= TTL_S + TTL_S / 2 + 1.0, took
        assert b.wait(timeout=120) == 0
        tl = Timeline(fake.timeline())
        check_exactly_once(fake, tl, 4)
        # The task a left running was adopted by b, not created again.
        creates_b = [e for e in ru.creates(tl.events, "ok") if runner_of(e) == 1]
        per = tasks_per_window(tl)
        left = [t for t in per.values() if t[0]["task_id"] == running[0]["taskId"]]
        assert len(left) == 1
        assert len(creates_b) + len([e for e in ru.creates(tl.events, "ok") if runner_of(e) == 0]) == 4


def test_stopped_holder_is_fenced(cwx, tmp_path):
    """SIGSTOP of the holder for longer than ttl, then SIGCONT: the other runner took the
    lane over; the stale holder creates nothing more and exits 0; nothing is exported twice."""
    s, names = world(2, groups=2, settings={"time_factor": 0.08})
    with FakeAWS(seed=s, tmp_dir=tmp_path) as fake:
        cfgs = configs(tmp_path, 2, groups=names, rng={"last": 2})
        a = ru.spawn(cwx, fake, tmp_path, cfgs[0])
        assert wait_for(lambda: fake.tasks(active=True), 30)
        b = ru.spawn(cwx, fake, tmp_path, cfgs[1])
        assert wait_for(lambda: (lease_body(fake) or {}).get("runner", {}).get("pid") == a.pid, 10)
        time.sleep(0.5)
        a.send_signal(signal.SIGSTOP)
        try:
            assert wait_for(lambda: (lease_body(fake) or {}).get("runner", {}).get("pid") == b.pid,
                            TTL_S * 3)
            time.sleep(0.5)
            seq_cont = max(e["seq"] for e in fake.timeline())
        finally:
            a.send_signal(signal.SIGCONT)
        assert b.wait(timeout=120) == 0
        assert a.wait(timeout=120) == 0
        tl = Timeline(fake.timeline())
        check_exactly_once(fake, tl, 4)
        late = [e for e in ru.creates(tl.events) if runner_of(e) == 0 and e["seq"] > seq_cont]
        assert late == [], late


def test_store_without_conditional_writes(cwx, tmp_path):
    """A bucket answering 501 to the condition headers: one-line error naming `lease: off`,
    exit 3, before any export; with `lease: off` the classic single runner exports."""
    with FakeAWS(seed=ru.seed(settings={"s3_conditional_writes": False}), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 3})
        p = ru.run(cwx, fake, tmp_path, cfg, check=3)
        errors = [ln for ln in p.stderr.splitlines() if "lease: off" in ln]
        assert len(errors) == 1, p.stderr
        assert "conditional writes" in errors[0]
        assert ru.creates(fake.timeline()) == []
        cfg = ru.config(tmp_path, rng={"last": 3}, defaults={"lease": "off"}, name="off.yaml")
        ru.run(cwx, fake, tmp_path, cfg, check=0)
        tl = Timeline(fake.timeline())
        assert len(tl.completed()) == 3 and not tl.duplicates()
        assert len(ru.markers(fake, A0)) == 3


def test_lease_conflicts_are_retried(cwx, tmp_path):
    """409 ConditionalRequestConflict on a share of the lease's writes: retried."""
    with FakeAWS(seed=ru.seed(settings={"s3_conflict_rate": 0.3}), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 3})
        p = ru.run(cwx, fake, tmp_path, cfg, check=0)
        assert p.summary
        tl = Timeline(fake.timeline())
        assert len(tl.completed()) == 3 and not tl.duplicates()
        assert any(e.get("outcome") == "ConditionalRequestConflict" for e in tl.requests())
