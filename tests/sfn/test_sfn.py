"""`cwexport sfn`: the emitted state machines pass asl-validator and the
CloudFormation resource specification, and run against the fake AWS under
aws-local-stepfunctions, every Task making the real AWS SDK for JavaScript v3
call (tests/sfn/run-machine.mjs)."""
import importlib.util
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fakeaws"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import runutil as ru  # noqa: E402

# The integration tests' binary finder and runner (tests/integration/conftest.py).
_spec = importlib.util.spec_from_file_location("cwx_integration_conftest",
                                               ROOT / "tests" / "integration" / "conftest.py")
_integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_integration)
from fixture import FakeAWS, botocore_client  # noqa: E402
from timeline import Timeline  # noqa: E402

A0 = ru.account_id(0)
GROUPS = ["/app/api", "/app/worker", "/app/audit"]
# What a marker holds, the CLI's and the machine's alike.
MARKER_KEYS = {"marker_version", "cwexport_version", "account", "account_id", "region", "log_group",
               "log_stream_prefix", "window", "from", "to", "bucket", "prefix", "task_id", "task_name",
               "objects", "bytes", "task_creation_time", "task_created_at", "task_completion_time",
               "task_completed_at", "marked_time", "marked_at"}


def _node_dir():
    d = pathlib.Path(os.environ.get("CWX_SFN_NODE_DIR", HERE))
    if not (d / "node_modules").is_dir():
        pytest.exit("the npm tools are not installed: run `npm ci` in %s" % d, 2)
    return d


@pytest.fixture(scope="module")
def cwx():
    return _integration.Cwexport(_integration._find_binary())


@pytest.fixture(scope="module")
def node_dir():
    return _node_dir()


def node(node_dir, *args, env=None, timeout=300):
    full = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full.update(env or {})
    return subprocess.run(["node", *map(str, args)], cwd=node_dir, env=full, capture_output=True,
                          text=True, timeout=timeout)


def emit(cwx, fake, tmp_path, cfg, *args, check=0):
    out = tmp_path / "sfn"
    env = ru.env(fake, tmp_path) if fake else {}
    p = cwx("sfn", "-c", cfg, "-o", out, *args, env=env, check=check)
    p.out = out
    return p


class Execution:
    def __init__(self, proc, calls):
        self.proc = proc
        self.calls = calls
        self.result = json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None

    def outcomes(self):
        return [o for lane in self.result for o in lane]

    def ops(self, op):
        return [c for c in self.calls if c["op"] == op]


def start(node_dir, fake, tmp_path, account="acct0", wait_ms=20):
    """Starts an execution of the emitted machine in the background."""
    d = tmp_path / "sfn" / account
    calls = tmp_path / ("calls-%d.json" % time.monotonic_ns())
    full = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full.update(ru.env(fake, tmp_path))
    full["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
    full["CWX_SFN_WAIT_MS"] = str(wait_ms)
    p = subprocess.Popen(["node", "run-machine.mjs", str(d / "state-machine.asl.json"),
                          str(d / "input.json"), "--calls", str(calls)], cwd=node_dir, env=full,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.calls_file = calls
    return p


def finish(p, check=True, timeout=300):
    out, err = p.communicate(timeout=timeout)
    proc = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    if check:
        assert proc.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (
            proc.returncode, out[-3000:], err[-3000:])
    calls = p.calls_file
    return Execution(proc, json.loads(calls.read_text()) if calls.exists() else [])


def execute(node_dir, fake, tmp_path, account="acct0", check=True, wait_ms=20):
    return finish(start(node_dir, fake, tmp_path, account, wait_ms), check)


def marker_docs(fake, acct=A0):
    b = ru.bucket(acct)
    return {k: json.loads(fake.s3_get(b, k)) for k in ru.markers(fake, acct)}


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("scope", ["account", "region"])
def test_emitted_files_validate(cwx, node_dir, tmp_path, scope):
    cfg = ru.config(tmp_path, groups=GROUPS, rng={"last": 4}, token_scope=scope,
                    defaults={"max_attempts": 2})
    c = json.loads(cfg.read_text())
    c["accounts"][0]["log_groups"][1]["log_stream_prefix"] = "web-"
    cfg.write_text(json.dumps(c))
    p = emit(cwx, None, tmp_path, cfg, "--offline")
    d = p.out / "acct0"
    assert "12 pending windows" in p.stdout
    v = node(node_dir, "node_modules/.bin/asl-validator", "--json-path", d / "state-machine.asl.json")
    assert v.returncode == 0, v.stdout + v.stderr
    t = node(node_dir, "check-template.mjs", d / "template.yaml")
    assert t.returncode == 0, t.stdout + t.stderr
    asl = json.loads((d / "state-machine.asl.json").read_text())
    inp = json.loads((d / "input.json").read_text())
    lane = inp["Lanes"][0]
    assert lane["Lane"] == (A0 if scope == "account" else A0 + "/us-east-1")
    assert len(lane["Jobs"]) == 12
    # Oldest window first, then the group order; the planner's names.
    windows = [j["Window"] for j in lane["Jobs"]]
    assert windows == sorted(windows)
    assert [j["LogGroup"] for j in lane["Jobs"][:3]] == GROUPS
    assert lane["Jobs"][1]["LogStreamPrefix"] == "web-" and lane["Jobs"][0]["LogStreamPrefix"] is None
    plan = json.loads(cwx("plan", "-c", cfg, "--offline", "--format", "json", check=0).stdout)
    by_name = {j["task_name"]: j for j in plan["jobs"]}
    for j in lane["Jobs"]:
        pj = by_name[j["TaskName"]]
        assert (pj["prefix"], pj["from"], pj["to"], pj["window"]) == (j["Prefix"], j["From"], j["To"],
                                                                     j["Window"])
        assert j["MarkerKey"] == "_cwexport/%s/us-east-1%s/%s.json" % (A0, j["LogGroup"], j["Window"])
        assert j["PollLast"] == len(j["Poll"]) - 1 and all(s >= 1 for s in j["Poll"])
    # Only aws-sdk integrations.
    text = json.dumps(asl)
    resources = set()

    def walk(states):
        for st in states.values():
            if st["Type"] == "Task":
                resources.add(st["Resource"])
            if "ItemProcessor" in st:
                walk(st["ItemProcessor"]["States"])
    walk(asl["States"])
    assert resources and all(r.startswith("arn:aws:states:::aws-sdk:") for r in resources)
    assert '"MaxConcurrency": 1' in text
    pol = json.loads((d / "execution-role-policy.json").read_text())
    actions = {a for s in pol["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                     else s["Action"])}
    assert {"logs:CreateExportTask", "logs:DescribeExportTasks", "s3:ListBucket",
            "s3:PutObject"} <= actions
    assert not any(a.endswith("*") for a in actions)


def test_max_windows_takes_the_oldest(cwx, tmp_path):
    cfg = ru.config(tmp_path, groups=GROUPS, rng={"last": 4})
    p = emit(cwx, None, tmp_path, cfg, "--offline", "--max-windows", "5")
    assert "5 pending windows" in p.stdout and "7 more pending windows left out" in p.stdout
    jobs = json.loads((p.out / "acct0" / "input.json").read_text())["Lanes"][0]["Jobs"]
    all_jobs = json.loads((emit(cwx, None, tmp_path, cfg, "--offline", "--max-windows", "0").out
                           / "acct0" / "input.json").read_text())["Lanes"][0]["Jobs"]
    assert len(all_jobs) == 12 and jobs == all_jobs[:5]
    assert cwx("sfn", "-c", cfg, "-o", tmp_path / "x", "--offline", "--max-windows", "-1",
               check=2).stderr.count("--max-windows") == 1


def test_inexpressible_configs(cwx, tmp_path):
    two = ru.config(tmp_path, regions=("us-east-1", "eu-west-1"), name="two.yaml")
    p = emit(cwx, None, tmp_path, two, "--offline", check=2)
    assert "2 regions" in p.stderr and "--region" in p.stderr
    assert not (tmp_path / "sfn").exists()
    noid = json.loads(ru.config(tmp_path, name="noid.yaml").read_text())
    del noid["accounts"][0]["account_id"]
    (tmp_path / "noid.yaml").write_text(json.dumps(noid))
    p = emit(cwx, None, tmp_path, tmp_path / "noid.yaml", "--offline", check=2)
    assert "no account_id" in p.stderr
    p = cwx("sfn", "-c", two, check=2)
    assert "-o DIR" in p.stderr


# ----------------------------------------------------------------- execution

def test_plan_executes_once_and_again_creates_nothing(cwx, node_dir, tmp_path):
    with FakeAWS(seed=ru.seed(groups=[(g, {}) for g in GROUPS]), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, groups=GROUPS, rng={"last": 4})
        c = json.loads(cfg.read_text())
        c["accounts"][0]["log_groups"][2]["log_stream_prefix"] = "web-"   # CreateWithStreamPrefix
        cfg.write_text(json.dumps(c))
        p = emit(cwx, fake, tmp_path, cfg)
        assert "12 pending windows" in p.stdout
        ex = execute(node_dir, fake, tmp_path)
        assert sorted(o["Outcome"] for o in ex.outcomes()) == ["exported"] * 12
        creates = {c["state"] for c in ex.ops("CreateExportTask")}
        assert creates == {"Create", "CreateWithStreamPrefix"}
        tl = Timeline(fake.timeline())
        assert len(tl.completed()) == 12 and not tl.duplicates()
        assert max(tl.max_concurrent_active().values()) == 1
        docs = marker_docs(fake)
        assert len(docs) == 12
        for key, doc in docs.items():
            assert set(doc) - {"marked_by"} == MARKER_KEYS, key
            assert doc["account_id"] == A0 and doc["task_name"].startswith("cwexport-")
            assert doc["task_completion_time"] >= doc["task_creation_time"] > 0
        # The CLI agrees: everything is done, and a run creates nothing.
        plan = json.loads(cwx("plan", "-c", cfg, "--format", "json", env=ru.env(fake, tmp_path),
                              check=0).stdout)
        assert plan["totals"]["done"] == 12 and plan["totals"]["pending"] == 0
        before = len(ru.creates(fake.timeline()))
        ru.run(cwx, fake, tmp_path, cfg, check=0)
        assert len(ru.creates(fake.timeline())) == before
        # Executing the same input again creates nothing.
        again = execute(node_dir, fake, tmp_path)
        assert [o["Outcome"] for o in again.outcomes()] == ["done"] * 12
        assert not again.ops("CreateExportTask")
        assert [c["state"] for c in again.ops("PutObject")] == ["LeaseAcquire"]
        assert len(ru.creates(fake.timeline())) == before


def test_cli_marker_makes_machine_skip(cwx, node_dir, tmp_path):
    with FakeAWS(seed=ru.seed(groups=[(g, {}) for g in GROUPS]), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, groups=GROUPS, rng={"last": 2})
        emit(cwx, fake, tmp_path, cfg)        # all 6 pending
        one = ru.config(tmp_path, groups=GROUPS[:1], rng={"last": 2}, name="one.yaml")
        ru.run(cwx, fake, tmp_path, one, check=0)   # the CLI exports 2 of them
        ex = execute(node_dir, fake, tmp_path)
        got = sorted(o["Outcome"] for o in ex.outcomes())
        assert got == ["done"] * 2 + ["exported"] * 4
        tl = Timeline(fake.timeline())
        assert len(tl.completed()) == 6 and not tl.duplicates()


def test_foreign_holder_waited_out(cwx, node_dir, tmp_path):
    with FakeAWS(seed=ru.seed(), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 1})
        emit(cwx, fake, tmp_path, cfg)
        holder = fake.foreign_task(A0, duration_s=120.0, name="someone-else")
        ex = start(node_dir, fake, tmp_path)
        # Once the machine has met the busy slot and polls the holder, the
        # holder ends (cancelled by its owner).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            events = fake.timeline()
            busy = [e["seq"] for e in ru.creates(events) if e["outcome"] != "ok"]
            polls = [e for e in events if busy and e["seq"] > busy[0] and e["kind"] == "request"
                     and e["op"] == "DescribeExportTasks"]
            if len(polls) >= 3:
                break
            time.sleep(0.05)
        assert busy, "the machine never met the busy slot"
        logs = botocore_client(fake, "logs", key=ru.key_for(A0))
        logs.cancel_export_task(taskId=holder["taskId"])
        ex = finish(ex)
        assert [o["Outcome"] for o in ex.outcomes()] == ["exported"]
        creates = ru.creates(fake.timeline())
        assert 2 <= len(creates) <= 3
        assert [c.get("error") for c in ex.ops("CreateExportTask")][0] == \
            "CloudWatchLogs.LimitExceededException"
        tl = Timeline(fake.timeline())
        assert max(tl.max_concurrent_active().values()) == 1
        assert len(marker_docs(fake)) == 1


def test_task_of_cwexport_run_adopted(cwx, node_dir, tmp_path):
    # One slow window (about 40 s): the run creates its task and is killed
    # while it runs, leaving its lane lease behind (taken over as stale).
    seed = ru.seed(groups=[("/app/api", {"bytes_per_day": 3e9})])
    with FakeAWS(seed=seed, tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 1})
        emit(cwx, fake, tmp_path, cfg)
        run = ru.spawn(cwx, fake, tmp_path, cfg)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not fake.tasks(account=A0, active=True):
            time.sleep(0.02)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        active = fake.tasks(account=A0, active=True)
        assert len(active) == 1, "the run's task should still be active"
        ex = execute(node_dir, fake, tmp_path, wait_ms=200)
        assert [o["Outcome"] for o in ex.outcomes()] == ["exported"]
        tl = Timeline(fake.timeline())
        assert len(tl.tasks()) == 1 and not tl.duplicates()
        (doc,) = marker_docs(fake).values()
        assert doc["task_id"] == active[0]["taskId"], doc
        assert ex.ops("CreateExportTask")[0]["error"] == "CloudWatchLogs.LimitExceededException"


def test_failed_task_retried_then_recorded(cwx, node_dir, tmp_path):
    with FakeAWS(seed=ru.seed(groups=[(g, {}) for g in GROUPS]), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, groups=GROUPS, rng={"last": 1}, defaults={"max_attempts": 2})
        emit(cwx, fake, tmp_path, cfg)
        # The first job's task fails twice (max_attempts), the second's once.
        fake.fail_next(3, account=A0)
        ex = execute(node_dir, fake, tmp_path)
        got = [(o["LogGroup"], o["Outcome"]) for o in ex.outcomes()]
        assert got == [(GROUPS[0], "failed"), (GROUPS[1], "exported"), (GROUPS[2], "exported")]
        assert ex.outcomes()[0]["Attempts"] == 2
        tl = Timeline(fake.timeline())
        finals = sorted(t["final"] for t in tl.tasks().values())
        assert finals == ["COMPLETED", "COMPLETED", "FAILED", "FAILED", "FAILED"]
        assert len(marker_docs(fake)) == 2


def test_polls_no_more_than_cwexport_run(cwx, node_dir, capsys):
    # bench/sfn_polls on bench/handoff's durations, small: the machine's
    # poll schedule makes no more DescribeExportTasks per job than
    # `cwexport run` does on the same jobs.
    sys.path.insert(0, str(ROOT / "bench"))
    import sfn_polls
    got = sfn_polls.main(["--binary", cwx.binary, "--jobs", "8", "--scale", "200",
                          "--node-dir", str(node_dir)])
    with capsys.disabled():
        print("\n" + capsys.readouterr().out, end="")
    assert got["exported"] == 8
    assert got["sfn"] <= got["cwexport"], got


def _lease_key(acct=A0):
    return "_cwexport/%s/_lease.json" % acct


def _runner_lease(renews):
    return json.dumps({"cwexport_lease": 1, "lane": "acct0",
                       "runner": {"host": "elsewhere", "pid": 4242, "id": "9f1c0b7a5e2d4c31"},
                       "acquired": "2026-12-04T17:00:00Z", "renewed": "2026-12-04T17:00:00Z",
                       "renews": renews, "ttl_ms": 120000})


def test_lease_taken_and_released(cwx, node_dir, tmp_path):
    with FakeAWS(seed=ru.seed(), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 2})
        emit(cwx, fake, tmp_path, cfg)
        lane = json.loads((tmp_path / "sfn" / "acct0" / "input.json").read_text())["Lanes"][0]
        # the config's lease.ttl (3 s in the test configs), as cwexport run reads it
        assert lane["Lease"] == {"Bucket": ru.bucket(A0), "Key": _lease_key(), "TtlMs": 3000}
        ex = execute(node_dir, fake, tmp_path)
        assert [o["Outcome"] for o in ex.outcomes()] == ["exported"] * 2
        puts = [c["state"] for c in ex.calls if c["op"] == "PutObject"]
        # acquire, a renew before each create (and after each poll that did
        # not find the task ended), the markers
        assert puts[0] == "LeaseAcquire" and ex.calls[-1]["state"] == "Release"
        assert puts.count("FencePut") == len(ex.ops("CreateExportTask")) == 2
        assert puts.count("PutMarker") == 2
        assert not fake.s3_list(ru.bucket(A0), _lease_key())


def test_lease_of_a_runner_waited_for(cwx, node_dir, tmp_path):
    with FakeAWS(seed=ru.seed(), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 1})
        emit(cwx, fake, tmp_path, cfg)
        b = ru.bucket(A0)
        fake.s3_put(b, _lease_key(), _runner_lease(0))
        # Waits of 300 ms: the machine reads the lease every 300 ms and would
        # take it over after two reads with the same ETag; the runner renews
        # it every 100 ms, then releases it.
        ex = start(node_dir, fake, tmp_path, wait_ms=300)
        deadline = time.monotonic() + 90
        renews, reads = 0, []
        while time.monotonic() < deadline and len(reads) < 4:
            renews += 1
            fake.s3_put(b, _lease_key(), _runner_lease(renews))
            time.sleep(0.1)
            reads = [e for e in fake.timeline() if e["kind"] == "request" and e["op"] == "GetObject"]
        assert len(reads) >= 4, "the machine did not watch the lease"
        assert not ru.creates(fake.timeline()), "created while a runner held the lane"
        fake.s3_delete(b, _lease_key())
        ex = finish(ex)
        assert [o["Outcome"] for o in ex.outcomes()] == ["exported"]
        assert len(ru.creates(fake.timeline())) == 1
        assert not fake.s3_list(b, _lease_key())


def test_stale_lease_taken_over(cwx, node_dir, tmp_path):
    with FakeAWS(seed=ru.seed(), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 1})
        emit(cwx, fake, tmp_path, cfg)
        fake.s3_put(ru.bucket(A0), _lease_key(), _runner_lease(7))   # a crashed runner's
        ex = execute(node_dir, fake, tmp_path)
        assert [o["Outcome"] for o in ex.outcomes()] == ["exported"]
        states = [c["state"] for c in ex.calls]
        assert states[:4] == ["LeaseAcquire", "LeaseRead", "LeaseRead", "LeaseRead"]
        assert states[4] == "LeaseTake"
        assert not fake.s3_list(ru.bucket(A0), _lease_key())


def test_lease_settings_of_the_config_honoured(cwx, tmp_path):
    with FakeAWS(seed=ru.seed(), tmp_dir=tmp_path) as fake:
        # lease: off → no lease in the input, no lease statement in the policy
        cfg = ru.config(tmp_path, rng={"last": 2}, defaults={"lease": "off"})
        emit(cwx, fake, tmp_path, cfg)
        out = tmp_path / "sfn" / "acct0"
        assert json.loads((out / "input.json").read_text())["Lanes"][0]["Lease"] is None
        policy = json.loads((out / "execution-role-policy.json").read_text())
        assert "LaneLease" not in {s.get("Sid") for s in policy["Statement"]}
        # lease: {ttl, bucket} → the machine takes the lease where cwexport run does
        cfg = ru.config(tmp_path, rng={"last": 2},
                        defaults={"lease": {"ttl": "45s", "bucket": "leases-{account_id}"}})
        emit(cwx, fake, tmp_path, cfg)
        lane = json.loads((out / "input.json").read_text())["Lanes"][0]
        assert lane["Lease"] == {"Bucket": "leases-%s" % A0, "Key": _lease_key(), "TtlMs": 45000}
        policy = json.loads((out / "execution-role-policy.json").read_text())
        (stmt,) = [s for s in policy["Statement"] if s.get("Sid") == "LaneLease"]
        assert stmt["Resource"] == "arn:aws:s3:::leases-%s/%s" % (A0, _lease_key())
        assert "s3:PutObject" in stmt["Action"]
