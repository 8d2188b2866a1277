"""The process around the credentials: SIGHUP and SIGPIPE, core dumps, the
summary file written whole or not at all."""
import json
import os
import signal
import subprocess
import time

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

A0 = ru.account_id(0)


def _env(fake, tmp_path):
    full = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full.update(ru.env(fake, tmp_path))
    return full


def test_sighup_is_a_graceful_stop(cwx, tmp_path):
    with FakeAWS(seed=ru.seed(settings={"time_factor": 0.04}), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 3})
        p = ru.spawn(cwx, fake, tmp_path, cfg)
        deadline = time.monotonic() + 20
        while not fake.tasks(active=True) and time.monotonic() < deadline:
            time.sleep(0.02)
        p.send_signal(signal.SIGHUP)
        assert p.wait(timeout=30) == 130
        tl = Timeline(fake.timeline())
        assert len(ru.creates(tl.events, "ok")) == 1  # no new task after the signal
        assert fake.tasks(active=True) == []          # the active one was waited for
        assert len(ru.markers(fake, A0)) == 1
        p.stderr_file.close()
        assert "hung up: no new export tasks" in (tmp_path / os.path.basename(
            p.stderr_file.name)).read_text()


def test_closed_pipes_do_not_kill_the_run(cwx, tmp_path):
    with FakeAWS(seed=ru.seed(), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 3})
        # Output and progress go to pipes whose reader is gone.
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        os.close(r_out)
        os.close(r_err)
        p = subprocess.Popen([cwx.binary, "run", "-c", str(cfg), "--progress", "json", "-v"],
                             env=_env(fake, tmp_path), stdout=w_out, stderr=w_err)
        os.close(w_out)
        os.close(w_err)
        assert p.wait(timeout=120) == 0
        assert len(ru.markers(fake, A0)) == 3
        # A plan piped into a reader that stops early.
        p = subprocess.Popen([cwx.binary, "plan", "-c", str(cfg), "--offline", "-f", "csv"],
                             env=_env(fake, tmp_path), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        p.stdout.close()
        err = p.stderr.read().decode()
        assert p.wait(timeout=60) != -signal.SIGPIPE, err


def test_no_core_dumps_unless_asked(cwx, tmp_path):
    # /proc/<pid>/status shows the limit the process set for itself.
    with FakeAWS(seed=ru.seed(settings={"time_factor": 0.04}), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 3})
        for keep, want in ((None, "0"), ("1", None)):
            env = _env(fake, tmp_path)
            if keep:
                env["CWEXPORT_KEEP_CORE_DUMPS"] = keep
            p = subprocess.Popen([cwx.binary, "run", "-c", str(cfg), "--progress", "json"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            while not fake.tasks(active=True) and time.monotonic() < deadline:
                time.sleep(0.02)
            with open("/proc/%d/limits" % p.pid) as f:
                core = [line for line in f if line.startswith("Max core file size")][0].split()
            p.send_signal(signal.SIGINT)
            p.wait(timeout=30)
            if want:
                assert core[4] == want and core[5] == want, core
            else:
                assert core[5] != "0", core  # the hard limit left as it was


def test_crash_while_writing_the_summary_keeps_the_old_one(cwx, tmp_path):
    import resource
    with FakeAWS(seed=ru.seed(), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 3})
        summary = tmp_path / "summary.json"
        summary.write_text('{"old": true}\n')
        os.chmod(summary, 0o600)

        def small_files():
            # Any write past 256 bytes kills the process (SIGXFSZ): the
            # summary of this run is larger.
            resource.setrlimit(resource.RLIMIT_FSIZE, (256, 256))

        p = subprocess.Popen([cwx.binary, "run", "-c", str(cfg), "--summary", str(summary),
                              "--progress", "none"], env=_env(fake, tmp_path),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=small_files)
        assert p.wait(timeout=120) == -signal.SIGXFSZ
        assert summary.read_text() == '{"old": true}\n'
        assert len(ru.markers(fake, A0)) == 3

        # Without the limit the summary is replaced whole, mode 0644, or 0600
        # with --private-outputs.
        p = subprocess.run([cwx.binary, "run", "-c", str(cfg), "--summary", str(summary)],
                           env=_env(fake, tmp_path), capture_output=True, timeout=120)
        assert p.returncode == 0
        assert json.loads(summary.read_text())["exit_code"] == 0
        assert os.stat(summary).st_mode & 0o777 == 0o644
        p = subprocess.run([cwx.binary, "--private-outputs", "run", "-c", str(cfg), "--summary",
                            str(summary)], env=_env(fake, tmp_path), capture_output=True,
                           timeout=120)
        assert os.stat(summary).st_mode & 0o777 == 0o600
        report = tmp_path / "plan.html"
        subprocess.run([cwx.binary, "plan", "-c", str(cfg), "-f", "html", "-o", str(report)],
                       env=_env(fake, tmp_path), capture_output=True, timeout=120, check=True)
        assert os.stat(report).st_mode & 0o777 == 0o644
        assert [f for f in os.listdir(tmp_path) if f.startswith(".plan.html")] == []
