"""Helpers of the `cwexport run` integration tests: small fake worlds, configs
(JSON is YAML), credentials files, and timeline checks."""
import json
import os
import signal
import subprocess
import time

import pytest

from fixture import FakeAWS  # noqa: F401  (re-exported for the tests)
from timeline import Timeline  # noqa: F401

REGION = "us-east-1"


def account_id(i):
    return "%012d" % (111111111111 * (i + 1) if i < 9 else 100000000000 + i)


def key_for(acct):
    return {"access_key": "AKIARUN0" + acct[-12:], "secret": ("runsecret" + acct + "x" * 40)[:40],
            "account": acct}


def bucket(acct, region=REGION):
    return "cwx-run-%s-%s" % (acct, region)


def seed(accounts=1, regions=(REGION,), groups=None, settings=None, topics=(), token_scope="account"):
    """A world: `accounts` accounts with one bucket per region; `groups` is a list of
    (name, spec) for every account and region, spec as in the fake's seed format."""
    ids = [account_id(i) for i in range(accounts)]
    st = {"time_factor": 0.01, "jitter": 0.2, "token_scope": token_scope, "rng_seed": 7}
    st.update(settings or {})
    lg = []
    for a in ids:
        for r in regions:
            for name, spec in (groups or [("/app/api", {})]):
                g = {"name": name, "account": a, "region": r, "created": "now-200d",
                     "bytes_per_day": 2e6, "streams": 2}
                g.update(spec)
                lg.append(g)
    return {
        "settings": st,
        "accounts": [{"id": a, "name": "acct-" + a, "keys": [key_for(a)]} for a in ids],
        "buckets": [{"name": bucket(a, r), "account": a, "region": r} for a in ids for r in regions],
        "log_groups": lg,
        "sns_topics": list(topics),
    }


def config(tmp_path, accounts=1, regions=(REGION,), groups=("/app/api",), rng=None, extra=None,
           defaults=None, name="run.yaml", token_scope="account"):
    """Writes a config (JSON flow style is valid YAML) and returns its path."""
    d = {"region": REGION,
         "destination": {"bucket": "cwx-run-{account_id}-{region}"},
         "poll": {"min": "100ms", "max": "400ms"},
         "settle": "1h",
         "api_rate": 100,
         # A short lease: runners waiting on another's lane re-read it every 1.5 s.
         "lease": {"ttl": "3s"}}
    d.update(defaults or {})
    cfg = {"version": 1, "defaults": d, "range": rng or {"last": 3}, "accounts": []}
    for i in range(accounts):
        a = account_id(i)
        cfg["accounts"].append({
            "name": "acct%d" % i, "account_id": a, "profile": "p%d" % i,
            "regions": list(regions), "token_scope": token_scope,
            "log_groups": [{"name": g} if g.startswith("/") and not g.endswith("/") else {"prefix": g}
                           for g in groups]})
    cfg.update(extra or {})
    path = tmp_path / name
    path.write_text(json.dumps(cfg, indent=1) + "\n")
    creds = tmp_path / "credentials"
    if not creds.exists():
        lines = []
        for i in range(max(accounts, 10)):
            k = key_for(account_id(i))
            lines += ["[p%d]" % i, "aws_access_key_id = " + k["access_key"],
                      "aws_secret_access_key = " + k["secret"], ""]
        creds.write_text("\n".join(lines))
    return path


def env(fake, tmp_path):
    e = fake.env(key_for(account_id(0)))
    e["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "credentials")
    return e


def run(cwx, fake, tmp_path, cfg, *args, check=None, timeout=120, extra_env=None):
    summary = tmp_path / ("summary-%d.json" % time.monotonic_ns())
    e = env(fake, tmp_path)
    e.update(extra_env or {})
    proc = cwx("run", "-c", cfg, "--summary", summary, "--progress", "json", *args,
               env=e, check=check, timeout=timeout)
    proc.summary = json.loads(summary.read_text()) if summary.exists() else None
    return proc


def spawn(cwx, fake, tmp_path, cfg, *args):
    """Starts cwexport run in the background (stderr to a file)."""
    full = dict(os.environ)
    for k in list(full):
        if k.startswith("AWS_"):
            del full[k]
    full.update(env(fake, tmp_path))
    err = open(tmp_path / ("stderr-%d.txt" % time.monotonic_ns()), "w")
    p = subprocess.Popen([cwx.binary, "run", "-c", str(cfg), "--progress", "json", *map(str, args)],
                         env=full, stdout=subprocess.DEVNULL, stderr=err)
    p.stderr_file = err
    return p


def creates(events, outcome=None):
    return [e for e in events if e["kind"] == "request" and e["op"] == "CreateExportTask"
            and (outcome is None or e["outcome"] == outcome)]


def markers(fake, acct, region=REGION):
    """The window markers (not the lane lease, `_lease.json`, that a killed run
    leaves, nor the lane's time model, `_model.json`)."""
    return [o["key"] for o in fake.s3_list(bucket(acct, region), "_cwexport/")
            if not o["key"].endswith(("/_lease.json", "/_model.json"))]


def stop(p, sig=signal.SIGINT):
    p.send_signal(sig)


def require_run(cwx):
    """Skips when the binary was built without `run` (the AWS layer missing)."""
    p = subprocess.run([cwx.binary, "run", "--help"], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("cwexport was built without the run command")


@pytest.fixture(autouse=True)
def _needs_run(cwx):
    require_run(cwx)
