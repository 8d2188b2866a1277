"""Start fakeaws as a subprocess and drive its control API (stdlib only).

    import sys; sys.path.insert(0, "tests/fakeaws")
    from fixture import FakeAWS, demo_seed

    with FakeAWS(seed=demo_seed(), time_factor=0.001) as fake:
        env = fake.env()                 # AWS_* variables for the demo base key
        fake.faults(throttle_rate=0.2, operations=["CreateExportTask"])
        ...
        tl = fake.timeline()             # list of events; see timeline.py

As a pytest fixture:

    @pytest.fixture
    def fake(tmp_path):
        with FakeAWS(seed=demo_seed(), tmp_dir=tmp_path) as f:
            yield f
"""
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
DEMO_SEED = os.path.join(HERE, "seeds", "demo.json")
DEMO_KEY = {"access_key": "AKIAFAKEDEMO00000001", "secret": "fakedemosecretkey000000000000000000000001",
            "account": "111111111111"}
DEMO_KEY_B = {"access_key": "AKIAFAKEDEMO00000002", "secret": "fakedemosecretkey000000000000000000000002",
              "account": "222222222222"}
DEMO_ROLE = "arn:aws:iam::222222222222:role/cwexport-demo"


def demo_seed():
    with open(DEMO_SEED) as f:
        return json.load(f)


class ControlError(Exception):
    pass


class FakeAWS:
    """A running fakeaws.  `seed` is a dict or a path; `settings` override seed settings."""

    def __init__(self, seed=None, tmp_dir=None, tls=False, time_factor=None, rng_seed=None, verbose=False,
                 startup_timeout=20.0, **settings):
        self.seed = seed if seed is not None else DEMO_SEED
        self.tmp_dir = tmp_dir
        self.tls = tls
        self.time_factor = time_factor
        self.rng_seed = rng_seed
        self.settings = settings
        self.verbose = verbose
        self.startup_timeout = startup_timeout
        self.proc = None
        self.url = None
        self.ca_file = None
        self.info = {}

    # ------------------------------------------------------------ lifecycle
    def start(self):
        self._own_tmp = None
        if self.tmp_dir is None:
            self._own_tmp = tempfile.mkdtemp(prefix="fakeaws-")
            self.tmp_dir = self._own_tmp
        self.tmp_dir = str(self.tmp_dir)
        seed = self.seed
        if isinstance(seed, (str, os.PathLike)):
            with open(seed) as f:
                seed = json.load(f)
        seed = json.loads(json.dumps(seed))
        seed.setdefault("settings", {}).update(self.settings)
        seed_path = os.path.join(self.tmp_dir, "fakeaws-seed-%d.json" % os.getpid())
        with open(seed_path, "w") as f:
            json.dump(seed, f)
        ready = os.path.join(self.tmp_dir, "fakeaws-ready-%d-%d" % (os.getpid(), id(self)))
        for p in (ready, ready + ".json"):
            if os.path.exists(p):
                os.unlink(p)
        cmd = [PYTHON, "-m", "fakeaws", "--seed", seed_path, "--port", "0", "--ready-file", ready]
        if self.tls:
            cmd.append("--tls")
        if self.time_factor is not None:
            cmd += ["--time-factor", str(self.time_factor)]
        if self.rng_seed is not None:
            cmd += ["--rng-seed", str(self.rng_seed)]
        if self.verbose:
            cmd.append("-v")
        self.log_path = os.path.join(self.tmp_dir, "fakeaws-%d.log" % id(self))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=HERE, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout
        while not os.path.exists(ready + ".json"):
            if self.proc.poll() is not None:
                raise RuntimeError("fakeaws exited with %s:\n%s" % (self.proc.returncode, self.log()))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("fakeaws did not become ready:\n%s" % self.log())
            time.sleep(0.02)
        with open(ready + ".json") as f:
            self.info = json.load(f)
        self.url = self.info["url"]
        self.port = self.info["port"]
        self.ca_file = self.info.get("ca_file")
        return self

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()
        return self.proc.returncode if self.proc else None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --------------------------------------------------------------- client
    def call(self, method, route, body=None, query=None, raw=False):
        url = self.url + "/_fake/" + route
        if query:
            from urllib.parse import urlencode
            url += "?" + urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        ctx = None
        if self.tls:
            import ssl
            ctx = ssl.create_default_context(cafile=self.ca_file)
        try:
            with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
                payload = r.read()
        except urllib.error.HTTPError as e:
            payload = e.read()
            if e.code == 404 and raw:
                return None
            raise ControlError("%s %s -> %s %s" % (method, route, e.code, payload[:500]))
        return payload if raw else json.loads(payload)

    def env(self, key=None, region="us-east-1", **extra):
        """Environment for the AWS CLI or cwexport against this fake."""
        k = key or DEMO_KEY
        e = {"AWS_ACCESS_KEY_ID": k["access_key"], "AWS_SECRET_ACCESS_KEY": k["secret"],
             "AWS_DEFAULT_REGION": region, "AWS_REGION": region, "AWS_ENDPOINT_URL": self.url,
             "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PAGER": "",
             "AWS_EC2_METADATA_DISABLED": "true"}
        if k.get("session_token"):
            e["AWS_SESSION_TOKEN"] = k["session_token"]
        if self.ca_file:
            e["AWS_CA_BUNDLE"] = self.ca_file
        e.update(extra)
        return e

    # control helpers
    def health(self):
        return self.call("GET", "health")

    def timeline(self, since=0, kind=None):
        q = {"since": since}
        if kind:
            q["kind"] = kind
        return self.call("GET", "timeline", query=q)["events"]

    def clear_timeline(self):
        return self.call("DELETE", "timeline")

    def stats(self):
        return self.call("GET", "stats")

    def faults(self, rules=None, append=False, **rule):
        """faults(throttle_rate=.2, operations=["CreateExportTask"]) or faults(rules=[{...}, {...}])."""
        body = {"rules": rules if rules is not None else ([rule] if rule else []), "append": append}
        return self.call("POST", "faults", body)["rules"]

    def clear_faults(self):
        return self.call("DELETE", "faults")

    def foreign_task(self, account, region="us-east-1", duration_s=5.0, **kw):
        kw.update({"account": account, "region": region, "duration_s": duration_s})
        return self.call("POST", "foreign-task", kw)

    def inject_task(self, account, region, log_group, frm, to, **kw):
        kw.update({"account": account, "region": region, "log_group": log_group, "from": frm, "to": to})
        return self.call("POST", "tasks", kw)

    def tasks(self, account=None, active=False):
        q = {}
        if account:
            q["account"] = account
        if active:
            q["active"] = "1"
        return self.call("GET", "tasks", query=q)["tasks"]

    def fail_next(self, count=1, account=None, region=None, message=None, phase=None):
        body = {"count": count}
        for k, v in (("account", account), ("region", region), ("message", message), ("phase", phase)):
            if v is not None:
                body[k] = v
        return self.call("POST", "fail-next", body)

    def set_task_fail_rate(self, rate):
        """From now on each new (non-foreign) task ends FAILED with probability `rate` (0..1),
        drawn from the fake's own seeded stream (settings.task_fail_rate)."""
        return self.settings_update(task_fail_rate=rate)

    def expire_credentials(self, **spec):
        return self.call("POST", "expire-credentials", spec)["expired"]

    def set_time_factor(self, factor, **more):
        more["factor"] = factor
        return self.call("POST", "time-factor", more)["settings"]

    def settings_update(self, **kw):
        return self.call("POST", "settings", kw)["settings"]

    def reset(self):
        return self.call("POST", "reset", {})

    def s3_list(self, bucket, prefix=""):
        return self.call("GET", "s3/objects", query={"bucket": bucket, "prefix": prefix})["objects"]

    def s3_put(self, bucket, key, body=b""):
        if isinstance(body, str):
            body = body.encode()
        return self.call("POST", "s3/objects", {"bucket": bucket, "key": key,
                                                "body_b64": base64.b64encode(body).decode()})

    def s3_get(self, bucket, key):
        return self.call("GET", "s3/object", query={"bucket": bucket, "key": key}, raw=True)

    def s3_delete(self, bucket, key):
        return self.call("DELETE", "s3/objects", query={"bucket": bucket, "key": key})

    def add_bucket(self, name, region="us-east-1", account="111111111111", **kw):
        kw.update({"name": name, "region": region, "account": account})
        return self.call("POST", "s3/buckets", kw)

    def add_log_groups(self, *specs):
        return self.call("POST", "log-groups", {"log_groups": list(specs)})

    def sns_messages(self):
        return self.call("GET", "sns")["messages"]

    def credentials(self):
        return self.call("GET", "credentials")["credentials"]

    def sso_login(self, start_url="https://fake.awsapps.com/start", region="us-east-1", session_name=None,
                  ttl_s=None, refresh=True, registration_ttl_s=90 * 86400):
        """The token cache document of an `aws sso login` (write it to the cache yourself)."""
        return self.call("POST", "sso/login", {"start_url": start_url, "region": region,
                                               "session_name": session_name, "ttl_s": ttl_s, "refresh": refresh,
                                               "registration_ttl_s": registration_ttl_s})

    def wait_idle(self, timeout=30.0, account=None):
        """Wait until no task is PENDING or RUNNING."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.tasks(account=account, active=True):
                return True
            time.sleep(0.02)
        return False


def botocore_client(fake, service, region="us-east-1", key=None, **config):
    """A botocore client for `service` pointed at the fake (handy in tests)."""
    import botocore.session
    from botocore.config import Config
    k = key or DEMO_KEY
    s = botocore.session.get_session()
    cfg = {"retries": {"total_max_attempts": 1, "mode": "standard"}}
    if service == "s3":
        cfg["s3"] = {"addressing_style": "path"}
    cfg.update(config)
    return s.create_client(service, region_name=region, endpoint_url=fake.url, aws_access_key_id=k["access_key"],
                           aws_secret_access_key=k["secret"], aws_session_token=k.get("session_token"),
                           verify=fake.ca_file if fake.ca_file else None, config=Config(**cfg))


if __name__ == "__main__":
    with FakeAWS(seed=sys.argv[1] if len(sys.argv) > 1 else DEMO_SEED) as f:
        print(f.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
