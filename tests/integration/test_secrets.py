"""Secret hygiene: every command, at the most verbose level and with JSON
logs, against the fake AWS; stdout, stderr and every file written (summary,
events, reports) are searched for the secret access key and the session
token of the base credentials and of every temporary credential the fake
issued for assumed roles. None may appear (nor their percent-encoded or
JSON-escaped forms, nor a 16-character piece of one). Config files cannot
carry secret keys: the loader refuses them, without echoing the value."""
import json
import pathlib
import re
import subprocess
import urllib.parse

import pytest

import runutil as ru
from runutil import FakeAWS

REGION = ru.REGION
A = ru.account_id(0)
B = ru.account_id(1)
ROLE = "arn:aws:iam::%s:role/cwexport-secrets" % B
# Distinctive values: easy to find, impossible to confuse with anything else.
SECRET = "SeCrEtKeYxQzW9v8u7t6s5r4q3p2o1nZyXwVuTsR"
TOKEN = "SeSsIoNtOkEnxJ5k4l3m2n1+bVcXzAsDfGhJkL/pOiUyTrEwQ=="
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")


def _seed():
    s = ru.seed(accounts=2, topics=["arn:aws:sns:us-east-1:%s:cwx" % A])
    s["accounts"][0]["keys"] = [{"access_key": "ASIASECRETSTEST00001", "secret": SECRET,
                                 "session_token": TOKEN, "account": A, "expires": "now+6h"}]
    s["roles"] = [{"arn": ROLE, "trusted_accounts": [A], "max_session_s": 3600}]
    return s


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    with FakeAWS(seed=_seed(), tmp_dir=tmp_path_factory.mktemp("secretsfake")) as f:
        yield f


def _config(tmp_path):
    cfg = {"version": 1,
           "defaults": {"region": REGION, "destination": {"bucket": "cwx-run-{account_id}-{region}"},
                        "poll": {"min": "100ms", "max": "400ms"}, "settle": "1h", "api_rate": 100},
           "range": {"last": 2},
           "notify": {"sns_topic_arn": "arn:aws:sns:us-east-1:%s:cwx" % A, "on": ["failure", "done"]},
           "accounts": [
               {"name": "base", "account_id": A, "regions": [REGION],
                "log_groups": [{"name": "/app/api"}]},
               {"name": "assumed", "role_arn": ROLE, "regions": [REGION],
                "log_groups": [{"prefix": "/app/"}]}]}
    p = tmp_path / "secrets.yaml"
    p.write_text(json.dumps(cfg, indent=1))
    return p


def _env(fake):
    return fake.env({"access_key": "ASIASECRETSTEST00001", "secret": SECRET,
                     "session_token": TOKEN})


def _forms(value):
    """The ways a value could be written out."""
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
             json.dumps(value)[1:-1]}
    # A 16-character piece from the middle catches truncated or split copies.
    if len(value) >= 32:
        forms.add(value[8:24])
    return forms


def _secrets(fake):
    values = {SECRET, TOKEN}
    for c in fake.credentials():
        if c.get("temporary") or c.get("role_arn"):
            values.add(c["secret"])
            if c.get("session_token"):
                values.add(c["session_token"])
    return values


def _commands(cwx):
    """Every sub-command this binary has, with its output options."""
    have = set()
    for name in ("validate", "plan", "run", "status", "cancel", "bucket-policy", "doctor",
                 "whoami"):
        p = subprocess.run([cwx.binary, name, "--help"], capture_output=True, text=True)
        if p.returncode == 0:
            have.add(name)
    return have


def test_no_secret_in_any_output(cwx, fake, tmp_path):
    cfg = _config(tmp_path)
    have = _commands(cwx)
    assert {"validate", "plan", "status", "cancel", "bucket-policy"} <= have
    out = tmp_path / "out"
    out.mkdir()
    runs = [["validate", "-c", cfg],
            ["plan", "-c", cfg, "--offline", "--format", "json", "-o", out / "plan-offline.json"],
            ["plan", "-c", cfg, "--format", "html", "-o", out / "plan.html"],
            ["plan", "-c", cfg, "--format", "csv"],
            ["plan", "-c", cfg, "--format", "markdown"],
            ["plan", "-c", cfg]]
    if "run" in have:
        runs.append(["run", "-c", cfg, "--summary", out / "summary.json",
                     "--events", out / "events.jsonl", "--progress", "json"])
    runs += [["status", "-c", cfg], ["status", "-c", cfg, "--json"],
             ["cancel", "-c", cfg, "--dry-run"], ["cancel", "-c", cfg, "--json"],
             ["bucket-policy", "-c", cfg]]
    if "doctor" in have:
        runs += [["doctor", "-c", cfg], ["doctor", "-c", cfg, "--format", "json", "--publish-test"]]
    if "whoami" in have:
        runs += [["whoami", "-c", cfg], ["whoami"]]
    texts = []
    for args in runs:
        p = cwx("-vvv", "--log-format", "json", *args, env=_env(fake), timeout=180)
        assert p.returncode >= 0 and not SANITIZER.search(p.stderr), (args, p.stderr[-2000:])
        # doctor and whoami say 3 when a check or an identity fails
        assert p.returncode in ((0, 1, 3) if args[0] in ("doctor", "whoami") else (0, 1)), (
            args, p.returncode, p.stderr[-2000:])
        texts.append(("%s stdout" % args[0], p.stdout))
        texts.append(("%s stderr" % args[0], p.stderr))
        # JSON logs: every stderr line that looks like JSON is one object.
        for line in p.stderr.splitlines():
            if line.startswith("{"):
                json.loads(line)
    for f in sorted(out.iterdir()):
        texts.append((f.name, f.read_text(errors="replace")))
    # The most verbose level did log something, and roles were assumed.
    assert sum(len(t) for _, t in texts) > 2000
    issued = [c for c in fake.credentials() if c.get("role_arn") == ROLE]
    assert issued, "the role was never assumed: the test would prove little"
    for value in _secrets(fake):
        for form in _forms(value):
            for where, text in texts:
                assert form not in text, "a secret (%s...) appears in %s" % (value[:4], where)


SECRET_KEYS = ["aws_secret_access_key", "secret_access_key", "aws_session_token",
               "session_token"]


@pytest.mark.parametrize("key", SECRET_KEYS)
@pytest.mark.parametrize("where", ["defaults", "account"])
def test_config_cannot_carry_secret_keys(cwx, tmp_path, key, where):
    acct = {"name": "a", "account_id": A, "log_groups": [{"name": "/app/api"}]}
    cfg = {"version": 1, "defaults": {"region": REGION, "destination": {"bucket": "b-bucket"}},
           "accounts": [acct]}
    (cfg["defaults"] if where == "defaults" else acct)[key] = SECRET
    p = tmp_path / "c.yaml"
    p.write_text(json.dumps(cfg, indent=1))
    for cmd in (["validate", "-c", p], ["plan", "-c", p, "--offline"]):
        r = cwx("-vvv", *cmd, check=2)
        assert "secret" in r.stderr.lower() and key in r.stderr, r.stderr
        assert re.search(r"c\.yaml:\d+:\d+: error:", r.stderr), r.stderr
        for form in _forms(SECRET):
            assert form not in r.stdout + r.stderr


@pytest.mark.parametrize("field", ["name", "account_id", "profile"])
@pytest.mark.parametrize("var", ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "MY_ALIAS"])
def test_secret_env_vars_never_expanded_into_a_config(cwx, tmp_path, field, var):
    """${AWS_SECRET_ACCESS_KEY} (or any variable holding the secret key or
    the session token) in a config value is refused, never expanded into a
    name that reports would print, and never echoed."""
    acct = {"name": "a", "account_id": A, "log_groups": [{"name": "/app/api"}]}
    acct[field] = "${%s}" % var
    cfg = {"version": 1, "defaults": {"region": REGION, "destination": {"bucket": "b-bucket"}},
           "range": {"last": 1}, "accounts": [acct]}
    p = tmp_path / "env.yaml"
    p.write_text(json.dumps(cfg, indent=1))
    env = {"AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN, "MY_ALIAS": TOKEN}
    for cmd in (["validate", "-c", p], ["plan", "-c", p, "--offline", "--format", "json"]):
        r = cwx("-vvv", *cmd, env=env, check=2)
        assert "${%s}, which holds a secret" % var in r.stderr, r.stderr
        for value in (SECRET, TOKEN):
            for form in _forms(value):
                assert form not in r.stdout + r.stderr
