"""Start and stop a test server for the C unit tests, as a ctest fixture.

    server_fixture.py start DIR echo|fakeaws [--tls]
    server_fixture.py stop DIR

`start` launches the server in its own session (it outlives this script),
waits until it listens, and writes into DIR:
    url       the base URL, one line ("http://127.0.0.1:PORT")
    tls_url   the HTTPS URL, when the server has one
    ca_file   the CA bundle of its self-signed certificate, when TLS is on
    pid       the server's pid
    log       its output
`stop` terminates the pid recorded in DIR (SIGTERM, then SIGKILL) and
removes the url file, so a test run after it skips instead of talking to a
dead port. A start first stops a server left over from an interrupted run.

ctest runs `start` as a FIXTURES_SETUP test and `stop` as FIXTURES_CLEANUP;
the C tests find DIR through CWX_TEST_SERVER_DIR (see tests/unit/aws.cmake
and tests/unit/aws_test_env.h).
"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PYTHON = "/usr/bin/python3"


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def stop(d):
    pid_path = os.path.join(d, "pid")
    for name in ("url", "tls_url", "ca_file"):
        try:
            os.unlink(os.path.join(d, name))
        except FileNotFoundError:
            pass
    try:
        with open(pid_path) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return 0
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            except ChildProcessError:
                pass
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    os.unlink(pid_path)
    return 0


def start(d, kind, tls):
    os.makedirs(d, exist_ok=True)
    stop(d)
    ready = os.path.join(d, "ready")
    for p in (ready, ready + ".json"):
        if os.path.exists(p):
            os.unlink(p)
    if kind == "echo":
        cmd = [PYTHON, os.path.join(HERE, "http_echo_server.py"), "--ready-file", ready]
        cwd = HERE
    elif kind == "fakeaws":
        cwd = os.path.join(ROOT, "tests", "fakeaws")
        cmd = [PYTHON, "-m", "fakeaws", "--seed", os.path.join(cwd, "seeds", "demo.json"),
               "--port", "0", "--ready-file", ready]
    else:
        print("unknown server kind %r" % kind, file=sys.stderr)
        return 2
    if tls:
        cmd.append("--tls")
    log = open(os.path.join(d, "log"), "wb")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=env)
    with open(os.path.join(d, "pid"), "w") as f:
        f.write("%d\n" % proc.pid)
    deadline = time.monotonic() + 30
    while not os.path.exists(ready + ".json"):
        if proc.poll() is not None:
            sys.stderr.write("server exited with %s\n" % proc.returncode)
            with open(os.path.join(d, "log"), "rb") as f:
                sys.stderr.write(f.read().decode("utf-8", "replace"))
            return 1
        if time.monotonic() > deadline:
            stop(d)
            sys.stderr.write("server did not become ready\n")
            return 1
        time.sleep(0.02)
    time.sleep(0.05)  # the .json is written after the listener is up; let it settle
    with open(ready + ".json") as f:
        info = json.load(f)
    for name in ("tls_url", "ca_file"):
        if info.get(name):
            with open(os.path.join(d, name), "w") as f:
                f.write(info[name] + "\n")
    if info.get("tls") and not info.get("tls_url"):
        with open(os.path.join(d, "tls_url"), "w") as f:
            f.write(info["url"] + "\n")
    # url last: its presence means "ready".
    with open(os.path.join(d, "url.tmp"), "w") as f:
        f.write(info["url"] + "\n")
    os.rename(os.path.join(d, "url.tmp"), os.path.join(d, "url"))
    print(info["url"])
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "start":
        return start(argv[1], argv[2], "--tls" in argv[3:])
    if len(argv) == 2 and argv[0] == "stop":
        return stop(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
