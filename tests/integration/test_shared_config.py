"""The shared config's settings side by side with the AWS CLI: for ten config and
credentials files setups, what `cwexport whoami` resolves (region, endpoints, retry mode,
max attempts, CA bundle, and where each came from) matches what `aws configure list` and
`aws configure get` report on the same files and environment, with the precedence the CLI
documents (environment over profile over default)."""
import json
import os
import re
import subprocess

import pytest

from fixture import DEMO_KEY, FakeAWS, demo_seed

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = ["region", "retry_mode", "max_attempts", "endpoint_url", "services", "ca_bundle",
        "ignore_configured_endpoint_urls"]
SERVICES = {"logs": ("cloudwatch_logs", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"), "s3": ("s3", "AWS_ENDPOINT_URL_S3"),
            "sts": ("sts", "AWS_ENDPOINT_URL_STS"), "sns": ("sns", "AWS_ENDPOINT_URL_SNS")}
CA = "/etc/ssl/certs/ca-certificates.crt"
CREDS = "aws_access_key_id = %s\naws_secret_access_key = %s\n" % (DEMO_KEY["access_key"], DEMO_KEY["secret"])


def setups(url):
    local = url.replace("127.0.0.1", "localhost")
    return [
        # 1. nothing configured
        dict(config="", env={}),
        # 2. the default profile sets everything
        dict(config="[default]\nregion = eu-west-1\nretry_mode = adaptive\nmax_attempts = 7\n"
                    "endpoint_url = %s\n" % url, env={}),
        # 3. the environment wins over the default profile
        dict(config="[default]\nregion = eu-west-1\nretry_mode = adaptive\nmax_attempts = 7\n"
                    "endpoint_url = %s/\n" % url,
             env={"AWS_DEFAULT_REGION": "us-west-2", "AWS_RETRY_MODE": "legacy", "AWS_MAX_ATTEMPTS": "2",
                  "AWS_ENDPOINT_URL": local}),
        # 4. AWS_PROFILE picks a profile; legacy mode has 5 attempts by default
        dict(config="[default]\nregion = eu-west-1\n[profile dev]\nregion = ap-south-1\nretry_mode = legacy\n"
                    "endpoint_url = %s\n" % url, env={"AWS_PROFILE": "dev"}),
        # 5. --profile wins over AWS_PROFILE
        dict(config="[profile dev]\nregion = ap-south-1\nmax_attempts = 4\nendpoint_url = %s\n"
                    "[profile other]\nregion = sa-east-1\nmax_attempts = 9\n" % url,
             env={"AWS_PROFILE": "other"}, profile="dev", credentials="[dev]\n" + CREDS),
        # 6. the credentials file's values win over the config file's
        dict(config="[profile dev]\nregion = ap-south-1\nendpoint_url = %s\n" % url,
             credentials="[dev]\nregion = eu-central-1\n" + CREDS, profile="dev", env={}),
        # 7. a services section per service, the profile's endpoint_url for the rest
        dict(config="[profile svc]\nregion = eu-west-1\nservices = local\nendpoint_url = %s\n"
                    "[services local]\ncloudwatch_logs =\n  endpoint_url = %s\nsts =\n  endpoint_url = %s/\n"
                    % (url, local, url), env={"AWS_PROFILE": "svc"}),
        # 8. AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL over the services section
        dict(config="[default]\nservices = local\nendpoint_url = http://127.0.0.1:9\n"
                    "[services local]\ns3 =\n  endpoint_url = http://127.0.0.1:8\n",
             env={"AWS_ENDPOINT_URL": url, "AWS_ENDPOINT_URL_S3": local, "AWS_DEFAULT_REGION": "eu-west-1"}),
        # 9. ignore_configured_endpoint_urls in the profile turns every override off
        dict(config="[default]\nregion = eu-west-1\nendpoint_url = %s\nignore_configured_endpoint_urls = true\n"
                    "max_attempts = 1\nca_bundle = %s\n" % (url, CA), env={"AWS_ENDPOINT_URL_STS": url}),
        # 10. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, and AWS_CA_BUNDLE over the profile's
        dict(config="[default]\nregion = us-east-2\nendpoint_url = %s\nca_bundle = /nonexistent/ca.pem\n" % url,
             env={"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_ENDPOINT_URL": url, "AWS_CA_BUNDLE": CA,
                  "AWS_MAX_ATTEMPTS": "1"}),
    ]


def parse_whoami(text):
    out = {}
    for key in ("profile", "retry_mode", "max_attempts", "ca_bundle"):
        m = re.search(r"^  %s:\s+(.*) \((.*)\)$" % key, text, re.M)
        out[key] = (m.group(1), m.group(2)) if m else None
    m = re.search(r"^  region:\s+(\S+) \((.*)\)$", text, re.M)
    out["region"] = (m.group(1), m.group(2))
    for svc in SERVICES:
        m = re.search(r"^  %s\s+(\S+)(?: \(path-style\))? \((.*)\)$" % svc, text, re.M)
        out[svc] = (m.group(1), m.group(2))
    return out


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    with FakeAWS(seed=demo_seed(), tmp_dir=tmp_path_factory.mktemp("fake")) as f:
        yield f


@pytest.mark.skipif(not os.path.exists("/usr/bin/aws"), reason="Debian awscli not installed")
def test_matrix_matches_the_aws_cli(cwx, fake, tmp_path):
    cases = setups(fake.url)
    envs, batch = [], []
    for i, c in enumerate(cases):
        d = tmp_path / str(i)
        d.mkdir()
        (d / "config").write_text(c["config"])
        (d / "credentials").write_text(c.get("credentials", "[default]\n" + CREDS))
        env = {"AWS_CONFIG_FILE": str(d / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(d / "credentials"),
               "AWS_EC2_METADATA_DISABLED": "true", "HOME": str(d)}
        env.update(c["env"])
        envs.append(env)
        batch.append({"env": env, "profile": c.get("profile"), "keys": KEYS})
    p = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "awscli_configure.py")],
                       input=json.dumps(batch), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    cli = json.loads(p.stdout)

    for i, (c, env, ref) in enumerate(zip(cases, envs, cli)):
        args = (["--profile", c["profile"]] if c.get("profile") else []) + ["whoami"]
        proc = cwx(*args, env=env, timeout=120)
        ours = parse_whoami(proc.stdout)
        where = "setup %d:\n%s\ncli: %s" % (i + 1, proc.stdout, ref)
        get, e = ref["get"], c["env"]

        # region: what `aws configure list` shows, and its type
        value, kind = ref["list"]["region"]
        if value == "<not":
            assert ours["region"][1].startswith("no region configured"), where
        else:
            assert ours["region"][0] == value, where
            assert ours["region"][1] == ({"env": "AWS_DEFAULT_REGION", "config-file": "profile"}[kind]), where

        # retry_mode and max_attempts: the environment, else `aws configure get`, else the default
        mode = e.get("AWS_RETRY_MODE") or get["retry_mode"] or "standard"
        assert ours["retry_mode"][0] == mode, where
        assert ours["retry_mode"][1] == ("AWS_RETRY_MODE" if "AWS_RETRY_MODE" in e
                                         else "profile" if get["retry_mode"] else "default"), where
        attempts = e.get("AWS_MAX_ATTEMPTS") or get["max_attempts"] or ("5" if mode == "legacy" else "3")
        assert ours["max_attempts"][0] == attempts, where

        ca = e.get("AWS_CA_BUNDLE") or get["ca_bundle"]
        assert ours["ca_bundle"][0] == (ca or "system store"), where

        # endpoints
        ignore = (e.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") or get["ignore_configured_endpoint_urls"]
                  or "").lower() == "true"
        for svc, (key, var) in SERVICES.items():
            if ignore:
                want = (None, "default")
            elif var in e:
                want = (e[var], var)
            elif "AWS_ENDPOINT_URL" in e:
                want = (e["AWS_ENDPOINT_URL"], "AWS_ENDPOINT_URL")
            elif key in ref["services"]:
                want = (ref["services"][key], "profile services section %s" % get["services"])
            elif get["endpoint_url"]:
                want = (get["endpoint_url"], "profile endpoint_url")
            else:
                want = (None, "default")
            if want[0] is None:
                assert ours[svc][0].startswith("https://") and ours[svc][0].endswith(".amazonaws.com"), where
            else:
                assert ours[svc][0] == want[0].rstrip("/"), where
            assert ours[svc][1] == want[1], where
        for s in (DEMO_KEY["secret"],):
            assert s not in proc.stdout + proc.stderr


def test_settings_apply_to_calls(cwx, fake, tmp_path):
    """The profile's endpoint_url and max_attempts are used, not only shown: every STS call
    fails with 500 and the fake counts the profile's attempts."""
    cfg = tmp_path / "config"
    cfg.write_text("[profile ops]\nregion = us-east-1\nendpoint_url = %s\nmax_attempts = 2\n"
                   "retry_mode = legacy\n" % fake.url)
    creds = tmp_path / "credentials"
    creds.write_text("[ops]\n" + CREDS)
    env = {"AWS_CONFIG_FILE": str(cfg), "AWS_SHARED_CREDENTIALS_FILE": str(creds),
           "AWS_EC2_METADATA_DISABLED": "true"}
    proc = cwx("--profile", "ops", "whoami", env=env, check=0)
    assert "account:     111111111111" in proc.stdout
    fake.clear_timeline()
    fake.faults(operations=["GetCallerIdentity"], error_rate=1.0)
    try:
        cwx("--profile", "ops", "whoami", env=env, check=3)
    finally:
        fake.clear_faults()
    calls = [ev for ev in fake.timeline(kind="request") if ev.get("op") == "GetCallerIdentity"]
    assert len(calls) == 2
