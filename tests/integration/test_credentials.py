"""The credential chain end to end, through tests/integration/creds_probe.

Every source is exercised against something that answers like AWS: the fake
AWS (tests/fakeaws) for STS (AssumeRole, AssumeRoleWithWebIdentity,
GetCallerIdentity), and small fake EC2 instance metadata (IMDSv2) and ECS
container credential endpoints defined here, on 127.0.0.1. Each test checks
which source supplied the credentials, that they work (the caller identity
through the fake), and that no secret ever reaches the probe's output.
"""
import datetime
import http.server
import json
import os
import pathlib
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

from fixture import DEMO_KEY, DEMO_ROLE, FakeAWS, demo_seed

ROOT = pathlib.Path(__file__).resolve().parents[2]

EXTERNAL_ROLE = "arn:aws:iam::222222222222:role/cwexport-demo-external"
EXTERNAL_ID = "cwexport-demo-external-id"
ROLE_111 = "arn:aws:iam::111111111111:role/cwexport-demo"
WEB_TOKEN = "fake-web-identity-token-demo"
# Temporary credentials the fake metadata endpoints hand out; seeded into the
# fake AWS so that GetCallerIdentity accepts them.
META_KEY = {
    "access_key": "ASIAFAKEMETA00000001",
    "secret": "metasecretkey00000000000000000000000001",
    "session_token": "metasessiontoken-IQoJb3JpZ2luX2VjEPf-0001",
    "user": "instance-role",
}
ECS_AUTH = "ecs-authorization-token-0123456789"
SECRETS = [DEMO_KEY["secret"], META_KEY["secret"], META_KEY["session_token"], WEB_TOKEN, ECS_AUTH]


def _probe_binary():
    cands = []
    if os.environ.get("CWX_CREDS_PROBE"):
        cands.append(pathlib.Path(os.environ["CWX_CREDS_PROBE"]))
    if os.environ.get("CWX_BUILD_DIR"):
        cands.append(pathlib.Path(os.environ["CWX_BUILD_DIR"]) / "tests" / "integration" / "creds_probe")
    for sub in ("build/sanitize", "build", "build/release"):
        cands.append(ROOT / sub / "tests" / "integration" / "creds_probe")
    for c in cands:
        if c.exists():
            return str(c)
    pytest.fail("creds_probe not built (cmake --build build --target creds_probe)")


def _iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- fake metadata


class MetaServer(http.server.ThreadingHTTPServer):
    """Fake EC2 instance metadata (IMDSv2) and ECS credential endpoints.

    Also a forward proxy for the ECS link-local host: a request line with an
    absolute URL (http_proxy) is served as if it reached 169.254.170.2."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), MetaHandler)
        self.lock = threading.Lock()
        self.requests = []
        self.tokens = set()
        self.role = "cwexport-instance-role"
        self.ecs_auth = ECS_AUTH
        self.imds_disabled = False
        self.expires_in = 3600
        self.hang = False
        self.fail_5xx = 0  # answer 503 to that many requests
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def record(self, **kw):
        with self.lock:
            self.requests.append(kw)

    def kinds(self, kind):
        with self.lock:
            return [r for r in self.requests if r["kind"] == kind]

    def creds_doc(self, ecs):
        doc = {"AccessKeyId": META_KEY["access_key"], "SecretAccessKey": META_KEY["secret"],
               "Token": META_KEY["session_token"], "Expiration": _iso(time.time() + self.expires_in)}
        if ecs:
            doc["RoleArn"] = "arn:aws:iam::111111111111:role/task-role"
        else:
            doc.update({"Code": "Success", "LastUpdated": _iso(time.time()), "Type": "AWS-HMAC"})
        return doc

    def stop(self):
        self.shutdown()
        self.server_close()


class MetaHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body, ctype="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        srv = self.server
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if self.path != "/latest/api/token":
            return self.reply(404, "not found")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        srv.record(kind="token", ttl=ttl, forwarded=self.headers.get("X-Forwarded-For"))
        if srv.imds_disabled:
            return self.reply(403, "")
        if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.reply(400, "bad ttl")
        with srv.lock:
            token = "imds-session-token-%d" % (len(srv.tokens) + 1)
            srv.tokens.add(token)
        self.reply(200, token)

    def do_GET(self):
        srv = self.server
        path, host = self.path, self.headers.get("Host")
        if path.startswith("http://"):
            u = urllib.parse.urlsplit(path)
            path, host = u.path + ("?" + u.query if u.query else ""), u.netloc
        if srv.hang:
            time.sleep(5)
            return
        if srv.fail_5xx > 0:
            srv.fail_5xx -= 1
            srv.record(kind="5xx", path=path)
            return self.reply(503, "")
        prefix = "/latest/meta-data/iam/security-credentials/"
        if path.startswith(prefix):
            token = self.headers.get("X-aws-ec2-metadata-token")
            rest = path[len(prefix):]
            srv.record(kind="role" if rest == "" else "creds", token=token, path=path)
            if token not in srv.tokens:
                return self.reply(401, "")
            if rest == "":
                return self.reply(200, srv.role + "\n")
            if rest != srv.role:
                return self.reply(404, "")
            return self.reply(200, json.dumps(srv.creds_doc(ecs=False)), "application/json")
        if path.startswith("/ecs/") or path.startswith("/v2/credentials/"):
            auth = self.headers.get("Authorization")
            srv.record(kind="ecs", auth=auth, host=host, path=path)
            if path.startswith("/ecs/") and auth != srv.ecs_auth:
                return self.reply(401, json.dumps({"code": "AccessDeniedException",
                                                   "message": "bad authorization token"}), "application/json")
            return self.reply(200, json.dumps(srv.creds_doc(ecs=True)), "application/json")
        self.reply(404, "not found")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    seed = demo_seed()
    for a in seed["accounts"]:
        if a["id"] == "111111111111":
            a["keys"].append(dict(META_KEY))
    with FakeAWS(seed=seed, tmp_dir=tmp_path_factory.mktemp("fakeaws")) as f:
        yield f


@pytest.fixture
def meta():
    m = MetaServer()
    yield m
    m.stop()


@pytest.fixture
def home(tmp_path):
    """A temporary HOME with empty shared files."""
    (tmp_path / ".aws").mkdir()
    return tmp_path


class Result:
    def __init__(self, proc, elapsed):
        self.proc = proc
        self.elapsed = elapsed
        self.values = {}
        for line in proc.stdout.splitlines():
            k, _, v = line.partition("=")
            self.values.setdefault(k, []).append(v)

    def __getitem__(self, key):
        v = self.values.get(key)
        assert v, "no %s in:\n%s\nstderr:\n%s" % (key, self.proc.stdout, self.proc.stderr)
        return v[0]

    def all(self, key):
        return self.values.get(key, [])

    @property
    def code(self):
        return self.proc.returncode

    @property
    def output(self):
        return self.proc.stdout + self.proc.stderr


def probe(fake, home, *args, env=None, timeout=60, secrets=()):
    """Runs creds_probe with a clean AWS environment pointed at the fake."""
    full = {k: v for k, v in os.environ.items()
            if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy", "no_proxy",
                                                              "all_proxy")}
    full.update({"HOME": str(home), "AWS_ENDPOINT_URL": fake.url, "AWS_REGION": "us-east-1",
                 "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
                 "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
                 "AWS_EC2_METADATA_DISABLED": "true"})
    for k, v in (env or {}).items():
        if v is None:
            full.pop(k, None)
        else:
            full[k] = v
    t0 = time.monotonic()
    proc = subprocess.run([_probe_binary(), *args], env=full, capture_output=True, text=True,
                          timeout=timeout, cwd=str(home))
    r = Result(proc, time.monotonic() - t0)
    # Nothing secret may be printed, whatever happened.
    issued = [c for c in fake.credentials() if c.get("temporary")]
    for s in list(SECRETS) + list(secrets) + [c["secret"] for c in issued] + \
            [c["session_token"] for c in issued if c.get("session_token")]:
        assert s not in r.output, "a secret leaked into the probe's output"
    assert "ERROR: AddressSanitizer" not in proc.stderr and "runtime error" not in proc.stderr, proc.stderr
    return r


def write(path, text, mode=0o600):
    path.write_text(text)
    path.chmod(mode)
    return path


def static_keys(home, profile="dev", key=DEMO_KEY):
    write(home / ".aws" / "credentials",
          "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (profile, key["access_key"], key["secret"]))


def demo_env():
    return {"AWS_ACCESS_KEY_ID": DEMO_KEY["access_key"], "AWS_SECRET_ACCESS_KEY": DEMO_KEY["secret"]}


def sts_calls(fake, op):
    return [e for e in fake.timeline(kind="request") if e.get("service") == "sts" and e.get("op") == op]


# ---------------------------------------------------------------- environment


def test_environment_keys(fake, home):
    r = probe(fake, home, "--identity", env=demo_env())
    assert r.code == 0, r.output
    assert r["source"] == "environment"
    assert r["get1.source"] == "environment"
    assert r["get1.access_key_id"] == DEMO_KEY["access_key"]
    assert r["get1.session_token"] == "no"
    assert r["get1.expiration"] == "never"
    assert r["identity.account"] == "111111111111"
    # Two gets and the identity call's: one fetch.
    assert r["stats.fetches"] == "1" and int(r["stats.gets"]) >= 3


def test_environment_session_token_and_expiration(fake, home):
    exp = _iso(time.time() + 3600)
    r = probe(fake, home, "--identity",
              env={"AWS_ACCESS_KEY_ID": META_KEY["access_key"], "AWS_SECRET_ACCESS_KEY": META_KEY["secret"],
                   "AWS_SESSION_TOKEN": META_KEY["session_token"], "AWS_CREDENTIAL_EXPIRATION": exp})
    assert r.code == 0, r.output
    assert r["get1.session_token"] == "yes"
    assert r["get1.expiration"] == exp
    assert r["identity.arn"] == "arn:aws:iam::111111111111:user/instance-role"


def test_environment_half_a_key_is_an_error(fake, home):
    static_keys(home, "default")  # must not be used instead
    r = probe(fake, home, env={"AWS_ACCESS_KEY_ID": DEMO_KEY["access_key"]})
    assert r.code == 3
    assert r["get1.status"] == "ECRED"
    assert "AWS_SECRET_ACCESS_KEY is not" in r["get1.error"]


def test_explicit_profile_wins_over_environment(fake, home):
    static_keys(home, "dev")
    r = probe(fake, home, "--profile", "dev", "--identity",
              env={"AWS_ACCESS_KEY_ID": "AKIANOTTHISONE000000", "AWS_SECRET_ACCESS_KEY": "nope"})
    assert r.code == 0, r.output
    assert r["source"] == "profile:dev"


# ---------------------------------------------------------------- shared files


def test_profile_static_keys(fake, home):
    static_keys(home, "dev")
    write(home / ".aws" / "config", "[profile dev]\nregion = us-east-1\n")
    r = probe(fake, home, "--identity", env={"AWS_PROFILE": "dev"})
    assert r.code == 0, r.output
    assert r["source"] == "profile:dev"
    assert r["get1.access_key_id"] == DEMO_KEY["access_key"]
    assert r["identity.account"] == "111111111111"


def test_default_files_under_home(fake, home):
    static_keys(home, "default")
    r = probe(fake, home, "--identity", env={"AWS_CONFIG_FILE": None, "AWS_SHARED_CREDENTIALS_FILE": None})
    assert r.code == 0, r.output
    assert r["source"] == "profile:default"


def test_missing_profile(fake, home):
    static_keys(home, "dev")
    r = probe(fake, home, "--profile", "prod")
    assert r.code == 3
    assert "profile prod not found in" in r["get1.error"]


def test_profile_assume_role_with_source_profile(fake, home):
    static_keys(home, "base")
    write(home / ".aws" / "config",
          "[profile cross]\nrole_arn = %s\nsource_profile = base\nrole_session_name = probe-session\n"
          "duration_seconds = 1800\n" % DEMO_ROLE)
    r = probe(fake, home, "--profile", "cross", "--identity")
    assert r.code == 0, r.output
    assert r["source"] == "profile:cross/assume-role <- profile:base"
    assert r["get1.access_key_id"].startswith("ASIA")
    assert r["get1.session_token"] == "yes"
    assert r["identity.account"] == "222222222222"
    assert r["identity.arn"] == "arn:aws:sts::222222222222:assumed-role/cwexport-demo/probe-session"
    exp = datetime.datetime.strptime(r["get1.expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    assert 1700 < exp - time.time() <= 1800


def test_profile_role_chain_and_cycle(fake, home):
    static_keys(home, "base")
    write(home / ".aws" / "config",
          "[profile hop1]\nrole_arn = %s\nsource_profile = base\n"
          "[profile hop2]\nrole_arn = %s\nsource_profile = hop1\nrole_session_name = hop2\n"
          "[profile loop1]\nrole_arn = %s\nsource_profile = loop2\n"
          "[profile loop2]\nrole_arn = %s\nsource_profile = loop1\n" % (DEMO_ROLE, ROLE_111, DEMO_ROLE, DEMO_ROLE))
    r = probe(fake, home, "--profile", "hop2", "--identity")
    assert r.code == 0, r.output
    assert r["source"] == "profile:hop2/assume-role <- profile:hop1/assume-role <- profile:base"
    assert r["identity.arn"] == "arn:aws:sts::111111111111:assumed-role/cwexport-demo/hop2"
    r = probe(fake, home, "--profile", "loop1")
    assert r.code == 3
    assert "source_profile cycle: loop1 -> loop2 -> loop1" in r["get1.error"]


def test_profile_external_id(fake, home):
    static_keys(home, "base")
    write(home / ".aws" / "config",
          "[profile ext]\nrole_arn = %s\nsource_profile = base\nexternal_id = %s\n"
          "[profile wrong]\nrole_arn = %s\nsource_profile = base\nexternal_id = not-the-id\n"
          % (EXTERNAL_ROLE, EXTERNAL_ID, EXTERNAL_ROLE))
    r = probe(fake, home, "--profile", "ext", "--identity")
    assert r.code == 0, r.output
    assert r["identity.account"] == "222222222222"
    r = probe(fake, home, "--profile", "wrong")
    assert r.code == 3
    assert r["get1.status"] == "EDENIED"
    assert "sts:AssumeRole %s from profile:base" % EXTERNAL_ROLE in r["get1.error"]
    assert "AccessDenied" in r["get1.error"]


def test_profile_credential_source_environment(fake, home):
    write(home / ".aws" / "config",
          "[profile envrole]\nrole_arn = %s\ncredential_source = Environment\n" % DEMO_ROLE)
    r = probe(fake, home, "--profile", "envrole", "--identity", env=demo_env())
    assert r.code == 0, r.output
    assert r["source"] == "profile:envrole/assume-role <- environment"
    assert r["identity.account"] == "222222222222"


def test_profile_credential_source_imds(fake, home, meta):
    write(home / ".aws" / "config",
          "[profile ec2role]\nrole_arn = %s\ncredential_source = Ec2InstanceMetadata\n" % DEMO_ROLE)
    r = probe(fake, home, "--profile", "ec2role", "--identity",
              env={"AWS_EC2_METADATA_DISABLED": None, "AWS_EC2_METADATA_SERVICE_ENDPOINT": meta.url})
    assert r.code == 0, r.output
    assert r["source"] == "profile:ec2role/assume-role <- imds"
    assert r["identity.account"] == "222222222222"
    assert len(meta.kinds("creds")) == 1


def test_profile_credential_source_ecs(fake, home, meta):
    write(home / ".aws" / "config",
          "[profile taskrole]\nrole_arn = %s\ncredential_source = EcsContainer\n" % DEMO_ROLE)
    r = probe(fake, home, "--profile", "taskrole", "--identity",
              env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": meta.url + "/ecs/creds",
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": ECS_AUTH})
    assert r.code == 0, r.output
    assert r["source"] == "profile:taskrole/assume-role <- ecs"
    assert r["identity.account"] == "222222222222"


# ---------------------------------------------------------------- credential_process


PROCESS_SCRIPT = r"""#!/usr/bin/python3
import datetime, json, sys
with open(sys.argv[1], "a") as f:
    f.write("run\n")
mode = sys.argv[2]
if mode == "fail":
    sys.stderr.write("token expired: run 'login' again\nsecond line\n")
    sys.exit(5)
exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=float(sys.argv[3]))
print(json.dumps({"Version": 1, "AccessKeyId": "%(akid)s", "SecretAccessKey": "%(secret)s",
                  "SessionToken": "%(token)s", "Expiration": exp.strftime("%%Y-%%m-%%dT%%H:%%M:%%SZ")}))
""" % {"akid": META_KEY["access_key"], "secret": META_KEY["secret"], "token": META_KEY["session_token"]}


def _process_setup(home, mode, lifetime):
    tools = home / "my tools"
    tools.mkdir(exist_ok=True)
    script = write(tools / "get-creds", PROCESS_SCRIPT, 0o700)
    count = home / "runs.txt"
    write(home / ".aws" / "config",
          "[profile proc]\ncredential_process = \"%s\" '%s' %s %s\n" % (script, count, mode, lifetime))
    return count


def test_credential_process(fake, home):
    count = _process_setup(home, "ok", 3600)
    r = probe(fake, home, "--profile", "proc", "--identity", "--concurrent", "3")
    assert r.code == 0, r.output
    assert r["source"] == "profile:proc/process"
    assert r.all("get1.status") == ["ok"] * 3
    assert r["get1.access_key_id"] == META_KEY["access_key"]
    assert r["get1.session_token"] == "yes"
    assert r["identity.account"] == "111111111111"
    # Three concurrent gets and one cached: one run of the tool.
    assert count.read_text().count("run") == 1
    assert int(r["stats.gets"]) >= 6 and r["stats.fetches"] == "1"


def test_credential_process_refreshed_ahead_of_expiry(fake, home):
    # 4 s of life: the margin is a quarter (1 s), so 3.3 s later it is due.
    count = _process_setup(home, "ok", 4)
    r = probe(fake, home, "--profile", "proc", "--gets", "2", "--wait-ms", "3300")
    assert r.code == 0, r.output
    assert count.read_text().count("run") == 2
    assert r["stats.fetches"] == "2"


def test_credential_process_failure(fake, home):
    static_keys(home, "default")
    count = _process_setup(home, "fail", 0)
    r = probe(fake, home, "--profile", "proc")
    assert r.code == 3
    assert r["get1.status"] == "ECRED"
    err = r["get1.error"]
    assert "credential_process of profile proc" in err
    assert "exit status 5: token expired: run 'login' again" in err
    assert "second line" not in err
    assert count.read_text().count("run") == 1


# ---------------------------------------------------------------- web identity


def test_web_identity_environment(fake, home):
    token = write(home / "token", WEB_TOKEN + "\n")
    static_keys(home, "default")  # web identity comes first
    r = probe(fake, home, "--identity",
              env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": DEMO_ROLE,
                   "AWS_ROLE_SESSION_NAME": "irsa-pod"})
    assert r.code == 0, r.output
    assert r["source"] == "web-identity"
    assert r["identity.arn"] == "arn:aws:sts::222222222222:assumed-role/cwexport-demo/irsa-pod"


def test_web_identity_failure_does_not_fall_through(fake, home):
    token = write(home / "token", "not-a-valid-token")
    static_keys(home, "default")
    r = probe(fake, home, env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": DEMO_ROLE})
    assert r.code == 3
    assert "sts:AssumeRoleWithWebIdentity %s" % DEMO_ROLE in r["get1.error"]
    assert "InvalidIdentityToken" in r["get1.error"]
    r = probe(fake, home, env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(home / "absent"), "AWS_ROLE_ARN": DEMO_ROLE})
    assert r.code == 3
    assert "cannot read the token file" in r["get1.error"]


def test_web_identity_token_file_reread_on_refresh(fake, home):
    token = write(home / "token", WEB_TOKEN)
    # 8 s of life, sent as whole seconds (7-8 s left when fetched): due for
    # refresh within 6.25 s, still valid for the fallback at 6.3 s.
    fake.settings_update(credential_ttl_s=8)
    try:
        before = len(sts_calls(fake, "AssumeRoleWithWebIdentity"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"HOME": str(home), "AWS_ENDPOINT_URL": fake.url, "AWS_REGION": "us-east-1",
                    "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                    "AWS_EC2_METADATA_DISABLED": "true", "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
                    "AWS_ROLE_ARN": DEMO_ROLE})
        proc = subprocess.Popen([_probe_binary(), "--gets", "2", "--wait-ms", "6300"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = ""
        while "get1.expiration" not in first:
            line = proc.stdout.readline()
            assert line, "probe ended early"
            first += line
        # Rotate the token: the refresh must read the new (here: refused) one,
        # and fall back to the still-valid cached credentials.
        write(token, "rotated-token-that-the-fake-refuses")
        out, err = proc.communicate(timeout=30)
        out = first + out
        assert proc.returncode == 0, out + err
        assert "get2.status=ok" in out
        assert "stats.fetches=2" in out and "stats.failures=1" in out
        assert "refresh failed, using the cached ones" in err and "InvalidIdentityToken" in err
        assert len(sts_calls(fake, "AssumeRoleWithWebIdentity")) - before == 2
        for s in SECRETS + ["rotated-token-that-the-fake-refuses"]:
            assert s not in out + err
    finally:
        fake.settings_update(credential_ttl_s=None)


def test_profile_web_identity(fake, home):
    token = write(home / "token", WEB_TOKEN)
    write(home / ".aws" / "config",
          "[profile eks]\nrole_arn = %s\nweb_identity_token_file = %s\nrole_session_name = from-profile\n"
          % (DEMO_ROLE, token))
    r = probe(fake, home, "--profile", "eks", "--identity")
    assert r.code == 0, r.output
    assert r["source"] == "profile:eks/web-identity"
    assert r["identity.arn"].endswith("/cwexport-demo/from-profile")


# ---------------------------------------------------------------- ECS


def test_ecs_full_uri_with_token(fake, home, meta):
    r = probe(fake, home, "--identity",
              env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": meta.url + "/ecs/creds",
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": ECS_AUTH})
    assert r.code == 0, r.output
    assert r["source"] == "ecs"
    assert r["get1.access_key_id"] == META_KEY["access_key"]
    assert r["get1.session_token"] == "yes"
    assert r["identity.arn"] == "arn:aws:iam::111111111111:user/instance-role"
    hits = meta.kinds("ecs")
    assert len(hits) == 1 and hits[0]["auth"] == ECS_AUTH


def test_ecs_token_file(fake, home, meta):
    tok = write(home / "ecs-token", ECS_AUTH + "\n")
    r = probe(fake, home, "--identity",
              env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": meta.url + "/ecs/creds",
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": "the-file-wins",
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(tok)})
    assert r.code == 0, r.output
    assert meta.kinds("ecs")[0]["auth"] == ECS_AUTH


def test_ecs_relative_uri(fake, home, meta):
    # The relative URI goes to 169.254.170.2; the fake reaches it as the
    # HTTP proxy libcurl is told to use (the fake AWS itself is not proxied).
    r = probe(fake, home, "--identity",
              env={"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/6f3c-task",
                   "http_proxy": meta.url, "no_proxy": "127.0.0.1"})
    assert r.code == 0, r.output
    assert r["source"] == "ecs"
    hits = meta.kinds("ecs")
    assert len(hits) == 1
    assert hits[0]["host"] == "169.254.170.2" and hits[0]["path"] == "/v2/credentials/6f3c-task"
    assert hits[0]["auth"] is None


def test_ecs_unavailable_is_transient(fake, home, meta):
    """An ECS endpoint that answers 503 on every attempt: a transient
    failure the caller backs off from, not a credential error."""
    meta.fail_5xx = 100
    r = probe(fake, home, env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": meta.url + "/ecs/creds",
                               "AWS_CONTAINER_AUTHORIZATION_TOKEN": ECS_AUTH})
    meta.fail_5xx = 0
    assert r["get1.status"] == "EUNAVAIL", r.output
    assert "HTTP 503" in r["get1.error"]
    assert 2 <= len(meta.kinds("5xx")) <= 5


def test_ecs_refused_and_bad_host(fake, home, meta):
    r = probe(fake, home, env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": meta.url + "/ecs/creds",
                               "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong-token"})
    assert r.code == 3
    assert "ECS container credentials (%s/ecs/creds): HTTP 401" % meta.url in r["get1.error"]
    r = probe(fake, home, env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.7/creds"})
    assert r.code == 3
    assert "must be https or use a loopback or container host" in r["get1.error"]


# ---------------------------------------------------------------- IMDSv2


def imds_env(meta):
    return {"AWS_EC2_METADATA_DISABLED": None, "AWS_EC2_METADATA_SERVICE_ENDPOINT": meta.url}


def test_imds_v2(fake, home, meta):
    r = probe(fake, home, "--identity", "--concurrent", "4", env=imds_env(meta))
    assert r.code == 0, r.output
    assert r["source"] == "imds"
    assert r["get1.access_key_id"] == META_KEY["access_key"]
    assert r["identity.arn"] == "arn:aws:iam::111111111111:user/instance-role"
    tokens = meta.kinds("token")
    assert len(tokens) == 1 and tokens[0]["ttl"] == "21600"
    roles, creds = meta.kinds("role"), meta.kinds("creds")
    assert len(roles) == 1 and len(creds) == 1  # four concurrent gets + a cached one: one fetch
    assert roles[0]["token"] in meta.tokens and creds[0]["token"] in meta.tokens
    assert creds[0]["path"].endswith("/" + meta.role)
    assert int(r["stats.gets"]) >= 8 and r["stats.fetches"] == "1"


def test_imds_token_reused_across_refreshes(fake, home, meta):
    r = probe(fake, home, "--gets", "3", "--invalidate", env=imds_env(meta))
    assert r.code == 0, r.output
    assert r["stats.fetches"] == "3"
    assert len(meta.kinds("token")) == 1
    assert len(meta.kinds("creds")) == 3


def test_imds_disabled_and_unreachable(fake, home, meta):
    meta.imds_disabled = True
    r = probe(fake, home, env=imds_env(meta))
    assert r.code == 3
    assert "the metadata service is disabled" in r["get1.error"]
    # Nothing listening: fails at once, naming the endpoint.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = probe(fake, home, env={"AWS_EC2_METADATA_DISABLED": None,
                               "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:%d" % port})
    assert r.code == 3
    assert "EC2 instance metadata (http://127.0.0.1:%d)" % port in r["get1.error"]
    assert r.elapsed < 5
    # Listening but never answering: the short timeout keeps it quick.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        r = probe(fake, home, env={"AWS_EC2_METADATA_DISABLED": None,
                                   "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:%d" % s.getsockname()[1]})
    assert r.code == 3
    assert "no answer" in r["get1.error"]
    assert r.elapsed < 5


def test_nothing_configured(fake, home):
    r = probe(fake, home)
    assert r.code == 3
    assert r["source"] == "none"
    assert r["get1.error"].startswith("no credentials:")


# ---------------------------------------------------------------- per-account role


def test_per_account_role_over_environment(fake, home):
    r = probe(fake, home, "--role-arn", DEMO_ROLE, "--session-name", "acct-prod", "--identity", env=demo_env())
    assert r.code == 0, r.output
    assert r["source"] == "assume-role <- environment"
    assert r["identity.arn"] == "arn:aws:sts::222222222222:assumed-role/cwexport-demo/acct-prod"


def test_per_account_role_external_id_over_profile(fake, home):
    static_keys(home, "dev")
    r = probe(fake, home, "--profile", "dev", "--role-arn", EXTERNAL_ROLE, "--external-id", EXTERNAL_ID,
              "--identity")
    assert r.code == 0, r.output
    assert r["source"] == "assume-role <- profile:dev"
    assert r["identity.account"] == "222222222222"
    r = probe(fake, home, "--profile", "dev", "--role-arn", EXTERNAL_ROLE)
    assert r.code == 3
    assert r["get1.status"] == "EDENIED"


def test_assumed_role_refreshed_ahead_of_expiry(fake, home):
    fake.settings_update(credential_ttl_s=4)
    try:
        before = len(sts_calls(fake, "AssumeRole"))
        r = probe(fake, home, "--role-arn", DEMO_ROLE, "--gets", "2", "--wait-ms", "3300", "--identity",
                  env=demo_env())
        assert r.code == 0, r.output
        assert r["stats.fetches"] == "2"
        keys = r.all("get1.access_key_id") + r.all("get2.access_key_id")
        assert len(set(keys)) == 2
        assert len(sts_calls(fake, "AssumeRole")) - before == 2
        assert r["identity.account"] == "222222222222"
    finally:
        fake.settings_update(credential_ttl_s=None)
