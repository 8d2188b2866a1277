"""Runs the AWS CLI v2's own `aws configure get` / `aws configure list` (Debian's awscli,
the code behind /usr/bin/aws, driven in-process so that a matrix of setups costs one Python
start) and prints what it reports as JSON.

stdin: [{"env": {...}, "profile": NAME or null, "keys": [...]}, ...]
stdout: [{"get": {key: value or null}, "list": {name: [value, type]}}, ...]

`services` sections: Debian's CLI (2.9) predates them and `aws configure get` cannot
address them; their nested values are read with the CLI's own config loader (botocore's
full_config, where the section appears as "services NAME").
"""
import contextlib
import io
import json
import os
import sys

from awscli.clidriver import create_clidriver


def run(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = create_clidriver().main(args)
    return rc, out.getvalue()


def one(setup):
    # awscli sets AWS_DATA_PATH to its own data when imported: keep that one.
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_DATA_PATH"}
    os.environ.clear()
    os.environ.update(base)
    os.environ.update(setup["env"])
    prof = ["--profile", setup["profile"]] if setup.get("profile") else []
    got = {}
    for key in setup["keys"]:
        rc, text = run(["configure", "get", key] + prof)
        got[key] = text.strip() if rc == 0 and text.strip() else None
    rc, text = run(["configure", "list"] + prof)
    listed = {}
    for line in text.splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 3:
            listed[parts[0]] = [parts[1], parts[2]]
    services = {}
    name = got.get("services")
    if name:
        from botocore.session import Session
        sess = Session(profile=setup.get("profile"))
        sect = sess.full_config.get("services " + name, {})
        for svc, sub in sect.items():
            if isinstance(sub, dict) and "endpoint_url" in sub:
                services[svc] = sub["endpoint_url"]
    return {"get": got, "list": listed, "services": services}


def main():
    setups = json.load(sys.stdin)
    json.dump([one(s) for s in setups], sys.stdout)


if __name__ == "__main__":
    main()
