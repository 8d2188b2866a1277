"""Fault soak and crash-resume loop of `cwexport run` against the fake AWS.

Soak: 300 jobs (3 accounts x 2 regions x 5 log groups x 10 months; token
scope account+region, so six lanes share the wall-clock time), every account
reached through an assumed role whose credentials expire every minute of
scaled time, with 10 % 5xx answers, 5 % throttling, 2 % connection resets,
latency spikes on 5 % of calls and 5 % of tasks FAILED. The run must end
with exit 0, or 1 with exactly the windows whose task FAILED max_attempts
times reported failed; every other window is exported exactly once and
marked; no token ever has two active tasks; the summary counts the retries:
of FAILED tasks, of API calls, of job steps, of credential fetches.

Crash-resume: the same world (faults off, FAILED tasks on), cwexport killed
with SIGKILL at 20 random moments and restarted each time, then a last run:
no window exported twice, none lost, never two active tasks per token.

Time factors keep each test under ~3 minutes."""
import json
import random
import time

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

REGION = ru.REGION
REGIONS = (ru.REGION, "eu-west-1")
ACCOUNTS = [ru.account_id(i) for i in range(3)]
GROUPS = ["/soak/g%02d" % i for i in range(5)]
MONTHS = 10
FACTOR = 0.01
MAX_ATTEMPTS = 3


def _seed(ttl_s):
    s = ru.seed(accounts=3, regions=REGIONS, token_scope="region",
                groups=[(g, {"created": "now-500d", "bytes_per_day": 5e5}) for g in GROUPS],
                settings={"time_factor": FACTOR, "credential_ttl_s": ttl_s, "rng_seed": 11,
                          "task_fail_rate": 0.05})
    s["roles"] = [{"arn": "arn:aws:iam::%s:role/cwexport-soak" % a,
                   "trusted_accounts": [ACCOUNTS[0]], "max_session_s": 3600}
                  for a in ACCOUNTS]
    return s


def _config(tmp_path):
    cfg = {"version": 1,
           "defaults": {"region": REGION,
                        "destination": {"bucket": "cwx-run-{account_id}-{region}"},
                        "poll": {"min": "100ms", "max": "400ms"}, "settle": "1h",
                        "api_rate": 200, "max_attempts": MAX_ATTEMPTS,
                        "token_scope": "region"},
           "range": {"last": MONTHS},
           "accounts": [{"name": "soak%d" % i, "account_id": a,
                         "role_arn": "arn:aws:iam::%s:role/cwexport-soak" % a,
                         "regions": list(REGIONS), "log_groups": [{"prefix": "/soak/"}]}
                        for i, a in enumerate(ACCOUNTS)]}
    p = tmp_path / "soak.yaml"
    p.write_text(json.dumps(cfg, indent=1))
    return p


def _failed_windows(tl):
    """Windows whose task FAILED max_attempts times."""
    fails = {}
    for e in tl.task_events(include_foreign=False):
        if e["state"] == "FAILED":
            k = (e["account"], e["region"], e["log_group"], e["from"], e["to"])
            fails[k] = fails.get(k, 0) + 1
    return fails


def _check_world(fake, tl):
    """What must hold whatever happened: no window exported twice, never two
    active tasks per token, a marker for every completed window and none
    for any other. Returns (done, fails, exhausted, lost): lost = windows
    neither done nor failed max_attempts times."""
    done = tl.completed()
    fails = _failed_windows(tl)
    exhausted = {k for k, n in fails.items() if n >= MAX_ATTEMPTS}
    assert not tl.duplicates(), tl.duplicates()
    assert max(tl.max_concurrent_active().values()) == 1, tl.max_concurrent_active()
    assert not (set(done) & exhausted)
    marked = _marked(fake)
    assert marked <= {_window(k) for k in done}, "a marker without a completed task"
    lost = 300 - len(done) - len(exhausted)
    return done, fails, exhausted, lost


def _window(key):
    """(account, region, log group, month label) of a completed-task key."""
    a, r, g, frm, _ = key
    return (a, r, g, time.strftime("%Y-%m", time.gmtime(frm / 1000)))


def _marked(fake):
    out = set()
    for a in ACCOUNTS:
        for r in REGIONS:
            for k in ru.markers(fake, a, r):
                # _cwexport/<account>/<region>/<group without '/'>/<label>.json
                parts = k[:-len(".json")].split("/")
                out.add((a, r, "/" + "/".join(parts[3:-1]), parts[-1]))
    return out


# Answers of the fake that are not faults: a marker not there yet, the
# export slot taken.
_NOT_FAULTS = {"ok", "NoSuchKey", "NotFound", "LimitExceededException"}


def _faults_met(outcomes, resets=True):
    """Faulty answers to cwexport's own clients (every operation but STS's,
    whose calls belong to the credential providers). A connection reset on a
    reused keep-alive connection before any answer is sent again by libcurl
    itself, unseen by the retry counters: resets=False leaves resets out."""
    return sum(n for op, o in outcomes.items() if op not in ("AssumeRole", "GetCallerIdentity")
               for k, n in o.items()
               if k not in _NOT_FAULTS and (resets or k != "connection_reset"))


def test_fault_soak(cwx, tmp_path):
    ttl = 60 * FACTOR  # one minute of scaled time
    with FakeAWS(seed=_seed(ttl), tmp_dir=tmp_path) as fake:
        fake.faults(rules=[{"error_rate": 0.10}, {"throttle_rate": 0.05},
                           {"reset_rate": 0.02}, {"latency_ms": 400, "latency_rate": 0.05}])
        cfg = _config(tmp_path)
        events = tmp_path / "events.jsonl"
        t0 = time.monotonic()
        try:
            p = ru.run(cwx, fake, tmp_path, cfg, "--events", events, timeout=240)
        finally:
            fake.clear_faults()
        elapsed = time.monotonic() - t0
        assert p.returncode in (0, 1, 3), (p.returncode, p.stderr[-3000:])
        tl = Timeline(fake.timeline())
        done, fails, exhausted, lost = _check_world(fake, tl)
        s = p.summary
        assert s is not None, p.stderr[-3000:]
        t = s["totals"]
        print("soak: %.0f s, exit %d, %d done, %d FAILED tasks, %d exhausted, %d lost, "
              "faulty answers %d, summary %s, failures %s, outcomes %s"
              % (elapsed, p.returncode, len(done), sum(fails.values()), len(exhausted), lost,
                 _faults_met(tl.api_outcomes()), json.dumps(t),
                 json.dumps([(f["reason"], f["detail"]) for f in s["failures"]]),
                 tl.api_outcomes()))
        # the faults did happen, and credentials were refreshed many times
        outcomes = tl.api_outcomes()
        assert sum(n for o in outcomes.values() for k, n in o.items() if k != "ok") > 50
        issued = [c for c in fake.credentials() if c.get("role_arn")]
        assert len(issued) > 3 * 5, len(issued)
        assert sum(fails.values()) >= 1, "no task FAILED: the soak proved little"
        # The summary counts the retries: every faulty answer to a call was
        # either tried again by the call (api_retries) or ended the call,
        # whose job step (step_retries) or phase (phase_retries) was then
        # redone; a step also redoes a call that failed for want of
        # credentials (credential_failures).
        faults, seen = _faults_met(outcomes), _faults_met(outcomes, resets=False)
        redone = t["api_retries"] + t["step_retries"] + t["phase_retries"]
        assert t["api_retries"] > 0 and t["step_retries"] >= 0, t
        assert t["api_retries"] <= faults and seen <= redone, (t, faults, seen)
        assert t["api_throttles"] > 0, t
        assert t["credential_fetches"] > 3 * 5, t
        assert t["credential_fetches"] <= len(issued) + t["credential_failures"], t
        assert sum(la["api_retries"] for la in s["lanes"]) == t["api_retries"]
        # Whatever the first run left, a second run without faults finishes
        # it: nothing exported twice, every window done or failed for good.
        fake.clear_faults()
        p2 = ru.run(cwx, fake, tmp_path, cfg, timeout=240)
        assert p2.returncode in (0, 1), p2.stderr[-3000:]
        tl2 = Timeline(fake.timeline())
        done2, _, exhausted2, lost2 = _check_world(fake, tl2)
        assert lost2 == 0, lost2
        assert _marked(fake) == {_window(k) for k in done2}
        assert p.returncode in (0, 1) and lost == 0, (p.returncode, lost, s["failures"],
                                                      [la.get("stop_reason") for la in s["lanes"]])
        # exactly the exhausted windows are reported failed
        assert t["failed"] == len(exhausted), (t, exhausted)
        assert p.returncode == (1 if exhausted else 0)
        lines = [json.loads(x) for x in events.read_text().splitlines()]
        failed_jobs = {(e["account_id"], e["region"], e["log_group"], e["window"])
                       for e in lines if e.get("to") == "failed"}
        assert len(failed_jobs) == len(exhausted)
        # every FAILED task that was not a window's last attempt was retried,
        # and the summary counts those retries
        retried = sum(fails.values()) - len(exhausted)
        assert t["retries"] == retried, (t, retried)


def test_crash_resume_loop(cwx, tmp_path):
    with FakeAWS(seed=_seed(None), tmp_dir=tmp_path) as fake:
        cfg = _config(tmp_path)
        rnd = random.Random(20)
        kills, early = 0, []
        for _ in range(20):
            p = ru.spawn(cwx, fake, tmp_path, cfg)
            time.sleep(rnd.uniform(0.1, 1.5))
            if p.poll() is None:
                p.kill()
                kills += 1
            else:
                early.append(p.returncode)
            p.wait()
        p = ru.run(cwx, fake, tmp_path, cfg, timeout=240)
        assert kills >= 15, (kills, early)
        assert p.returncode in (0, 1), p.stderr[-3000:]
        tl = Timeline(fake.timeline())
        done, fails, exhausted, lost = _check_world(fake, tl)
        print("crash-resume: %d kills, %d done, %d FAILED tasks, %d exhausted, %d lost"
              % (kills, len(done), sum(fails.values()), len(exhausted), lost))
        assert lost == 0
        # a last run has nothing left to export
        fake.clear_timeline()
        p = ru.run(cwx, fake, tmp_path, cfg, timeout=120)
        assert p.returncode in (0, 1) and ru.creates(fake.timeline()) == []
