"""What `cwexport run` shows and decides at the edges: the live progress on a
terminal, `detect: objects` for archives made by other tools, and
--cancel-on-exit."""
import datetime
import json
import os
import pty
import re
import select
import signal
import subprocess
import time

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

A0 = ru.account_id(0)


def last_months(n, settle_s=3600):
    """Labels of the last n month windows settled `settle_s` ago, oldest first."""
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=settle_s)
    y, m = now.year, now.month
    out = []
    for _ in range(n):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append("%04d-%02d" % (y, m))
    return out[::-1]


def run_on_pty(cwx, fake, tmp_path, cfg, timeout=60):
    """Runs `cwexport run` with stderr on a pseudo-terminal (progress auto:
    live, as on a terminal); returns (exit code, everything it drew)."""
    full = dict(os.environ)
    for k in list(full):
        if k.startswith("AWS_"):
            del full[k]
    full.update(ru.env(fake, tmp_path))
    full["TERM"] = "xterm"
    master, slave = pty.openpty()
    p = subprocess.Popen([cwx.binary, "run", "-c", str(cfg)], env=full,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed its end
                    break
                if not data:
                    break
                chunks.append(data)
            elif p.poll() is not None:
                break
        code = p.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
            p.wait()
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_live_progress_on_a_terminal(cwx, tmp_path):
    # Tasks of about 1 s, so that the 250 ms redraws catch each state.
    with FakeAWS(seed=ru.seed(settings={"time_factor": 0.04, "jitter": 0.0}), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 3}, defaults={"poll": {"min": "50ms", "max": "200ms"}})
        code, out = run_on_pty(cwx, fake, tmp_path, cfg)
        assert code == 0, out[-3000:]
        # Frames: each redraw moves the cursor up over the lines it drew last.
        assert "\x1b[K" in out and "\x1b[1A" in out
        lines = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", x).strip("\r")
                 for x in re.split(r"\r\n|\n", out)]
        lane = [x for x in lines if x.startswith("acct0 ")]
        assert lane, out[-2000:]
        # Per lane: done/total, the active task (its id and state), group and window.
        assert any(re.search(r"\b0/3\b", x) for x in lane)
        running = [x for x in lane if re.search(r"\b[0-2]/3\s+(PENDING|RUNNING)\s+[0-9a-f-]{36}", x)]
        assert running, "\n".join(lane[-20:])
        assert any("/app/api" in x and re.search(r"\d{4}-\d{2}", x) for x in running)
        # An ETA once a task has ended and tasks are left.
        assert any(re.search(r"\b[12]/3\b.* eta \d+m\d\ds", x) for x in lane), "\n".join(lane[-20:])
        # It ends cleanly: the last frame says finished with every window done,
        # the output ends on a new line, and nothing is left half drawn.
        frames = [x for x in lane if "finished" in x]
        assert frames and re.search(r"\b3/3\b", frames[-1])
        assert out.endswith("\n")
        assert not re.search(r"\x1b\[?[0-9;]*$", out)
        assert "finished in" in out  # the closing log line after the last frame
        assert len(Timeline(fake.timeline()).completed()) == 3


def test_detect_objects_archives_of_other_tools(cwx, tmp_path):
    groups = [("/app/api", {}), ("/app/empty", {"bytes_per_day": 0})]
    with FakeAWS(seed=ru.seed(groups=groups), tmp_dir=tmp_path) as fake:
        # skip_empty off: the empty group's windows are exported (and found empty).
        cfg = ru.config(tmp_path, groups=["/app/api", "/app/empty"], rng={"last": 3},
                        defaults={"destination": {"bucket": "cwx-run-{account_id}-{region}",
                                                  "detect": "objects"},
                                  "skip_empty": "off"})
        bkt = ru.bucket(A0)
        months = last_months(3)
        # /app/api: another tool exported every window (its data objects are there).
        for m in months:
            fake.s3_put(bkt, "%s/us-east-1/app/api/%s/0f3c-old-task/stream-000/000000.gz" % (A0, m),
                        b"\x1f\x8b old archive")
            fake.s3_put(bkt, "%s/us-east-1/app/api/%s/aws-logs-write-test" % (A0, m),
                        "Permission Check Successful")
        # /app/empty: an earlier export of an empty window left only the write test.
        fake.s3_put(bkt, "%s/us-east-1/app/empty/%s/aws-logs-write-test" % (A0, months[0]),
                    "Permission Check Successful")
        p = ru.run(cwx, fake, tmp_path, cfg, check=0)
        tl = Timeline(fake.timeline())
        made = tl.completed()
        # No export of /app/api; each window of /app/empty exported exactly once,
        # the one holding only aws-logs-write-test included.
        assert {k[2] for k in made} == {"/app/empty"} and len(made) == 3, made
        assert not tl.duplicates() and len(ru.creates(tl.events)) == 3
        t = p.summary["totals"]
        assert t["done"] == 6 and t["failed"] == 0
        keys = ru.markers(fake, A0)
        assert len(keys) == 3 and all("/app/empty/" in k for k in keys)
        for k in keys:
            assert json.loads(fake.s3_get(bkt, k))["objects"] == 0
        # Never looped: the next run exports nothing.
        fake.clear_timeline()
        ru.run(cwx, fake, tmp_path, cfg, check=0)
        assert ru.creates(fake.timeline()) == []


def test_cancel_on_exit(cwx, tmp_path):
    # Tasks of ~6 s: the signal comes while the first one runs.
    with FakeAWS(seed=ru.seed(settings={"time_factor": 0.25}), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 3})
        p = ru.spawn(cwx, fake, tmp_path, cfg, "--cancel-on-exit")
        deadline = time.monotonic() + 20
        while not fake.tasks(active=True) and time.monotonic() < deadline:
            time.sleep(0.02)
        active = fake.tasks(active=True)
        assert len(active) == 1
        t_sig = time.monotonic()
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=30) == 130
        assert time.monotonic() - t_sig < 4  # did not wait for the task to end
        assert fake.tasks(active=True) == []
        tasks = {t["taskId"]: t for t in fake.tasks()}
        assert tasks[active[0]["taskId"]]["status"]["code"] == "CANCELLED"
        tl = Timeline(fake.timeline())
        assert len(ru.creates(tl.events)) == 1  # nothing started after the signal
        assert tl.api_calls().get("CancelExportTask") == 1
        assert ru.markers(fake, A0) == []
        p.stderr_file.close()
        err = open(p.stderr_file.name).read()
        assert "cancelling task %s" % active[0]["taskId"] in err


def test_next_create_does_not_wait_for_verify_and_mark(cwx, tmp_path):
    # The token is handed over when a poll sees COMPLETED: the next job (checked
    # while the task ran) creates at once; listing the export and writing the
    # marker of the finished job go on beside it.
    with FakeAWS(seed=ru.seed(settings={"time_factor": 0.02, "jitter": 0.0}), tmp_dir=tmp_path) as fake:
        # Without the lane lease: its renew before each create is one more S3 call racing the
        # finished job's listing and marker, which this ordering check does not measure.
        cfg = ru.config(tmp_path, rng={"last": 4},
                        defaults={"poll": {"min": "20ms", "max": "200ms"}, "lease": "off"})
        events = tmp_path / "events.jsonl"
        ru.run(cwx, fake, tmp_path, cfg, "--events", events, check=0)
        ev = [json.loads(x) for x in events.read_text().splitlines()]
        order = []
        for e in ev:
            if e["to"] == "wait" and e["job"] not in order:
                order.append(e["job"])
        assert len(order) == 4

        def at(job, to):
            return next(i for i, e in enumerate(ev) if e["job"] == job and e["to"] == to)

        for prev, nxt in zip(order, order[1:]):
            # The next job was checked while the previous task ran ...
            assert at(nxt, "ready") < at(prev, "verify")
            # ... and created right when that task was seen COMPLETED.
            assert at(prev, "verify") < at(nxt, "create") < at(prev, "mark")
        tl = Timeline(fake.timeline())
        assert max(tl.max_concurrent_active().values()) == 1 and not tl.duplicates()
        assert len(ru.markers(fake, A0)) == 4
