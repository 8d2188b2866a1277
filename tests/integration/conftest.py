"""Shared pytest fixtures for cwexport's integration tests.

The binary comes from $CWX_BIN (set by ctest) or the usual build folders. The
fake AWS (tests/fakeaws) is started per test module on 127.0.0.1 by the `fake`
fixture of tests/fakeaws/fixture.py.
"""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fakeaws"))


def _find_binary():
    env = os.environ.get("CWX_BIN")
    if env:
        return env
    for sub in ("build/sanitize", "build/release", "build"):
        cand = ROOT / sub / "cli" / "cwexport"
        if cand.exists():
            return str(cand)
    pytest.exit("cwexport binary not found: build it or set CWX_BIN", 2)


class Cwexport:
    """Runs the cwexport binary and keeps what it said."""

    def __init__(self, binary):
        self.binary = binary

    def __call__(self, *args, env=None, timeout=120, check=None, input=None):
        full_env = dict(os.environ)
        # Never let a developer's own AWS setup leak into a test.
        for k in list(full_env):
            if k.startswith("AWS_"):
                del full_env[k]
        full_env["AWS_CONFIG_FILE"] = "/dev/null"
        full_env["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        full_env["AWS_EC2_METADATA_DISABLED"] = "true"
        if env:
            full_env.update(env)
        proc = subprocess.run([self.binary, *map(str, args)], env=full_env,
                              capture_output=True, text=True, timeout=timeout,
                              input=input, cwd=ROOT)
        if check is not None:
            assert proc.returncode == check, (
                f"exit {proc.returncode}, wanted {check}\n"
                f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}")
        return proc


@pytest.fixture(scope="session")
def cwx():
    return Cwexport(_find_binary())


@pytest.fixture(scope="session")
def root():
    return ROOT
