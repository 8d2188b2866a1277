"""IAM Identity Center profiles end to end on the fake AWS: the token `aws sso login`
cached, its refresh through SSO OIDC CreateToken (cache written back atomically),
GetRoleCredentials, expired sessions (exit 3 with the exact fix), legacy profiles,
role chains from an SSO profile, and an export run. No token is ever printed."""
import hashlib
import json
import os
import stat

import pytest

import runutil
from fixture import FakeAWS, demo_seed

START_URL = "https://fake.awsapps.com/start"
ROLE = "CwexportOperator"

CONFIG = """\
[profile ops]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = {role}
region = us-east-1

[sso-session corp]
sso_start_url = {url}
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile legacy]
sso_start_url = {url}
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = {role}

[profile chained]
role_arn = arn:aws:iam::222222222222:role/cwexport-demo
source_profile = ops

[profile unassigned]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = NotAssigned

[profile broken]
sso_session = nowhere
sso_account_id = 111111111111
sso_role_name = {role}
""".format(url=START_URL, role=ROLE)


def sso_seed():
    s = demo_seed()
    s["sso"] = {"user": "operator", "assignments": [{"account": "111111111111", "role": ROLE}]}
    return s


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    with FakeAWS(seed=sso_seed(), tmp_dir=tmp_path_factory.mktemp("fake")) as f:
        yield f


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    (h / ".aws" / "sso" / "cache").mkdir(parents=True)
    (h / ".aws" / "config").write_text(CONFIG)
    return h


def cache_file(home, key):
    return home / ".aws" / "sso" / "cache" / (hashlib.sha1(key.encode()).hexdigest() + ".json")


def login(fake, home, session="corp", **kw):
    doc = fake.sso_login(start_url=START_URL, session_name=session, **kw)
    path = cache_file(home, session if session else START_URL)
    path.write_text(json.dumps(doc))
    os.chmod(path, 0o600)
    return doc, path


def sso_env(fake, home):
    return {"HOME": str(home), "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
            "AWS_ENDPOINT_URL": fake.url, "AWS_EC2_METADATA_DISABLED": "true"}


def ops(fake, op):
    return [e for e in fake.timeline(kind="request") if e.get("op") == op]


def secrets_of(doc):
    return [doc[k] for k in ("accessToken", "refreshToken", "clientSecret") if doc.get(k)]


def test_sso_session_profile_with_a_cached_token(cwx, fake, home):
    doc, path = login(fake, home)
    before = path.read_text()
    fake.clear_timeline()
    proc = cwx("--profile", "ops", "whoami", env=sso_env(fake, home), check=0)
    assert "credentials: profile:ops/sso\n" in proc.stdout
    assert "account:     111111111111" in proc.stdout
    assert "assumed-role/AWSReservedSSO_%s_" % ROLE in proc.stdout
    assert len(ops(fake, "GetRoleCredentials")) == 1
    assert ops(fake, "CreateToken") == []
    assert path.read_text() == before  # a fresh token is not refreshed
    for s in secrets_of(doc):
        assert s not in proc.stdout + proc.stderr


def test_expiring_token_is_refreshed_once_and_the_cache_rewritten(cwx, fake, home):
    doc, path = login(fake, home, ttl_s=300)  # inside the 15-minute refresh window
    fake.clear_timeline()
    proc = cwx("--profile", "ops", "whoami", env=sso_env(fake, home), check=0)
    assert "account:     111111111111" in proc.stdout
    assert len(ops(fake, "CreateToken")) == 1
    new = json.loads(path.read_text())
    assert new["accessToken"] != doc["accessToken"]
    assert new["refreshToken"] != doc["refreshToken"]
    assert new["expiresAt"] > doc["expiresAt"]
    for k in ("startUrl", "region", "clientId", "clientSecret", "registrationExpiresAt"):
        assert new[k] == doc[k]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left
    for s in secrets_of(doc) + secrets_of(new):
        assert s not in proc.stdout + proc.stderr
    # The refreshed token is good for hours: the next run does not refresh again.
    fake.clear_timeline()
    cwx("--profile", "ops", "whoami", env=sso_env(fake, home), check=0)
    assert ops(fake, "CreateToken") == []


def test_expired_token_with_a_valid_refresh_token_is_refreshed(cwx, fake, home):
    _, path = login(fake, home, ttl_s=-60)
    fake.clear_timeline()
    cwx("--profile", "ops", "whoami", env=sso_env(fake, home), check=0)
    assert len(ops(fake, "CreateToken")) == 1


def test_expired_session_says_how_to_log_in_and_exits_3(cwx, fake, home, tmp_path):
    doc, _ = login(fake, home, ttl_s=-60)
    fake.call("POST", "sso/revoke", {})  # the refresh token is no good either
    proc = cwx("--profile", "ops", "whoami", env=sso_env(fake, home), check=3)
    assert "run: aws sso login --profile ops" in proc.stdout
    for s in secrets_of(doc):
        assert s not in proc.stdout + proc.stderr
    # The same through run: exit 3 and the hint in the log.
    cfg = tmp_path / "run.yaml"
    cfg.write_text(json.dumps(run_config("ops")))
    proc = cwx("run", "-c", cfg, "--progress", "none", env=sso_env(fake, home), check=3)
    assert "run: aws sso login --profile ops" in proc.stderr
    for s in secrets_of(doc):
        assert s not in proc.stdout + proc.stderr


def test_token_revoked_on_the_server_gives_the_hint(cwx, fake, home):
    login(fake, home)
    fake.call("POST", "sso/revoke", {})
    proc = cwx("--profile", "ops", "whoami", env=sso_env(fake, home), check=3)
    assert "HTTP 401: Session token not found or invalid" in proc.stdout
    assert "run: aws sso login --profile ops" in proc.stdout


def test_no_cached_token(cwx, fake, home):
    proc = cwx("--profile", "ops", "whoami", env=sso_env(fake, home), check=3)
    assert "no cached SSO token" in proc.stdout
    assert "run: aws sso login --profile ops" in proc.stdout


def test_legacy_profile_uses_the_start_url_cache_and_never_refreshes(cwx, fake, home):
    doc, path = login(fake, home, session=None)
    fake.clear_timeline()
    proc = cwx("--profile", "legacy", "whoami", env=sso_env(fake, home), check=0)
    assert "credentials: profile:legacy/sso\n" in proc.stdout
    assert "account:     111111111111" in proc.stdout
    assert ops(fake, "CreateToken") == []
    # Expiring soon: a legacy cache has no client registration, so it is used as is.
    login(fake, home, session=None, ttl_s=300)
    fake.clear_timeline()
    cwx("--profile", "legacy", "whoami", env=sso_env(fake, home), check=0)
    assert ops(fake, "CreateToken") == []


def test_sso_profile_as_source_profile_of_a_role(cwx, fake, home):
    login(fake, home)
    proc = cwx("--profile", "chained", "whoami", env=sso_env(fake, home), check=0)
    assert "credentials: profile:chained/assume-role <- profile:ops/sso\n" in proc.stdout
    assert "account:     222222222222" in proc.stdout
    assert "assumed-role/cwexport-demo/" in proc.stdout


def test_role_not_assigned_and_broken_session(cwx, fake, home):
    login(fake, home)
    proc = cwx("--profile", "unassigned", "whoami", env=sso_env(fake, home), check=3)
    assert "role NotAssigned in account 222222222222 is not assigned" in proc.stdout
    proc = cwx("--profile", "broken", "whoami", env=sso_env(fake, home), check=3)
    assert "sso_session nowhere has no [sso-session nowhere] section" in proc.stdout


def run_config(profile):
    return {"version": 1,
            "defaults": {"region": "us-east-1", "window": "day", "settle": "1h",
                         "destination": {"bucket": "cwexport-demo-{account_id}-{region}"},
                         "poll": {"min": "100ms", "max": "400ms"}},
            "range": {"last": 1},
            "accounts": [{"name": "sso", "account_id": "111111111111", "profile": profile,
                          "log_groups": [{"name": "/app/audit"}]}]}


def test_run_exports_with_an_sso_profile(cwx, tmp_path_factory, home, tmp_path):
    seed = sso_seed()
    seed.setdefault("settings", {})["time_factor"] = 0.001
    with FakeAWS(seed=seed, tmp_dir=tmp_path_factory.mktemp("fake-run")) as fake:
        doc, _ = login(fake, home)
        cfg = tmp_path / "run.yaml"
        cfg.write_text(json.dumps(run_config("ops")))
        summary = tmp_path / "summary.json"
        proc = cwx("run", "-c", cfg, "--summary", summary, "--progress", "none",
                   env=sso_env(fake, home), check=0, timeout=120)
        tl = runutil.Timeline(fake.timeline())
        assert tl.duplicates() == {}
        s = json.loads(summary.read_text())
        assert s["totals"]["failed"] == 0
        assert s["totals"]["done"] + s["totals"]["skipped"] >= 1
        assert len(ops(fake, "GetRoleCredentials")) >= 1
        for sec in secrets_of(doc):
            assert sec not in proc.stdout + proc.stderr + summary.read_text()


AWS = "/usr/bin/aws"
needs_cli = pytest.mark.skipif(not os.path.exists(AWS), reason="Debian awscli not installed")


def cli_env(fake, home):
    """The AWS CLI v2 of Debian (2.9) reads no endpoint_url for its own SSO clients: a botocore
    data folder (AWS_DATA_PATH) gives sso and sso-oidc an endpoint rule set that names the fake."""
    data = home / "botocore-data"
    for svc in ("sso", "sso-oidc"):
        d = data / svc / "2019-06-10"
        d.mkdir(parents=True, exist_ok=True)
        flag = {"required": True, "default": False, "documentation": "-", "type": "Boolean"}
        rules = {"version": "1.0", "parameters": {
            "Region": {"builtIn": "AWS::Region", "required": False, "documentation": "-", "type": "String"},
            "UseDualStack": dict(flag, builtIn="AWS::UseDualStack"),
            "UseFIPS": dict(flag, builtIn="AWS::UseFIPS"),
            "Endpoint": {"builtIn": "SDK::Endpoint", "required": False, "documentation": "-", "type": "String"}},
            "rules": [{"conditions": [], "type": "endpoint",
                       "endpoint": {"url": fake.url, "properties": {}, "headers": {}}}]}
        (d / "endpoint-rule-set-1.json").write_text(json.dumps(rules))
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "AWS_DATA_PATH": str(data), "AWS_PAGER": "",
            "AWS_CONFIG_FILE": str(home / ".aws" / "config"), "AWS_EC2_METADATA_DISABLED": "true"}


def aws(env, *args):
    import subprocess
    p = subprocess.run([AWS, *args], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "aws %s: %s" % (" ".join(args), p.stderr)
    return p


@needs_cli
def test_aws_sso_login_then_cwexport_uses_its_cache(cwx, fake, home):
    env = cli_env(fake, home)
    aws(env, "sso", "login", "--profile", "ops", "--no-browser")
    path = cache_file(home, "corp")
    doc = json.loads(path.read_text())
    assert doc["startUrl"] == START_URL and doc["refreshToken"]
    # The CLI's own SSO credential provider on the fake, for comparison.
    cli = json.loads(aws(env, "sts", "get-caller-identity", "--profile", "ops",
                         "--endpoint-url", fake.url).stdout)
    proc = cwx("--profile", "ops", "whoami", env=sso_env(fake, home), check=0)
    assert "caller:      %s\n" % cli["Arn"] in proc.stdout
    for s in secrets_of(doc):
        assert s not in proc.stdout + proc.stderr
    aws(env, "sso", "logout")
    assert not path.exists()


@needs_cli
def test_aws_cli_sso_and_oidc_commands_on_the_fake(fake, home):
    env = cli_env(fake, home)
    doc, _ = login(fake, home)
    ep = ["--endpoint-url", fake.url, "--region", "us-east-1", "--output", "json"]
    accounts = json.loads(aws(env, "sso", "list-accounts", "--access-token", doc["accessToken"], *ep).stdout)
    assert [a["accountId"] for a in accounts["accountList"]] == ["111111111111"]
    roles = json.loads(aws(env, "sso", "list-account-roles", "--access-token", doc["accessToken"],
                           "--account-id", "111111111111", *ep).stdout)
    assert roles["roleList"] == [{"roleName": ROLE, "accountId": "111111111111"}]
    creds = json.loads(aws(env, "sso", "get-role-credentials", "--access-token", doc["accessToken"],
                           "--account-id", "111111111111", "--role-name", ROLE, *ep).stdout)
    assert creds["roleCredentials"]["accessKeyId"].startswith("ASIA")
    tok = json.loads(aws(env, "sso-oidc", "create-token", "--client-id", doc["clientId"],
                         "--client-secret", doc["clientSecret"], "--grant-type", "refresh_token",
                         "--refresh-token", doc["refreshToken"], *ep).stdout)
    assert tok["accessToken"] and tok["expiresIn"] > 0
    import subprocess
    again = subprocess.run([AWS, "sso-oidc", "create-token", "--client-id", doc["clientId"],
                            "--client-secret", doc["clientSecret"], "--grant-type", "refresh_token",
                            "--refresh-token", doc["refreshToken"], *ep],
                           env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "InvalidGrantException" in again.stderr
