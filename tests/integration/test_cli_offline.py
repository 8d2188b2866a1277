"""`cwexport validate` and `cwexport plan --offline`: no AWS involved."""
import csv
import hashlib
import io
import json
import os
import pathlib
import re
import subprocess
import tempfile

import pytest

EXAMPLES = ["configs/demo.yaml", "configs/backfill.yaml", "configs/nightly.yaml"]
# 2026-01-15T00:00:00Z: plans made "now" are reproducible.
NOW_MS = 1768435200000

ERROR_LINE = re.compile(r"^[^:\n]+:\d+:\d+: error: .+$")


@pytest.mark.parametrize("config", EXAMPLES)
def test_examples_validate(cwx, config):
    proc = cwx("validate", "-c", config, check=0)
    assert "valid" in proc.stdout


@pytest.mark.parametrize("config", EXAMPLES)
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_examples_plan_offline(cwx, config, fmt):
    proc = cwx("plan", "--offline", "-c", config, "--format", fmt, "--now", NOW_MS, check=0)
    assert proc.stdout
    if fmt == "json":
        doc = json.loads(proc.stdout)
        assert doc["version"] == 1
        assert doc["totals"]["jobs"] == len(doc["jobs"])


def write(tmp_path, text, name="c.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


BASE = """version: 1
defaults:
  region: us-east-1
  destination:
    bucket: my-log-archive
range:
  from: 2024-01
  to: 2024-03
accounts:
  - name: prod
    account_id: "123456789012"
    log_groups:
      - name: /aws/lambda/api
      - prefix: /aws/ecs/
"""


def test_plan_json_contract(cwx, tmp_path):
    cfg = write(tmp_path, BASE)
    doc = json.loads(cwx("plan", "--offline", "-c", cfg, "-f", "json", "--now", NOW_MS,
                         check=0).stdout)
    assert [j["window"] for j in doc["jobs"]] == ["2024-01", "2024-02", "2024-03"]
    mar = doc["jobs"][2]
    assert mar["from"] == 1709251200000 and mar["to"] == 1711929599999
    assert mar["prefix"] == "123456789012/us-east-1/aws/lambda/api/2024-03"
    assert mar["bucket"] == "my-log-archive"
    assert mar["account"] == "prod" and mar["account_id"] == "123456789012"
    assert mar["status"] == "pending" and mar["reason"] is None
    ident = "\n".join(["cwexport-job/v1", "123456789012", "us-east-1", "/aws/lambda/api", "",
                       "1709251200000", "1711929599999", "my-log-archive",
                       "123456789012/us-east-1/aws/lambda/api/2024-03"]) + "\n"
    assert mar["task_name"] == "cwexport-" + hashlib.sha256(ident.encode()).hexdigest()[:16]
    assert doc["totals"] == {"jobs": 3, "pending": 3, "done": 0, "running": 0,
                             "skipped": 0, "failed": 0, "unresolved": 1, "tasks": 3,
                             "no_events": 0}
    assert doc["unresolved"] == [{"account": "prod", "region": "us-east-1",
                                  "kind": "prefix", "value": "/aws/ecs/"}]


def test_plan_csv_matches_json(cwx, tmp_path):
    cfg = write(tmp_path, BASE)
    doc = json.loads(cwx("plan", "--offline", "-c", cfg, "-f", "json", "--now", NOW_MS).stdout)
    rows = list(csv.DictReader(io.StringIO(
        cwx("plan", "--offline", "-c", cfg, "-f", "csv", "--now", NOW_MS, check=0).stdout)))
    assert len(rows) == len(doc["jobs"])
    for row, job in zip(rows, doc["jobs"]):
        assert row["task_name"] == job["task_name"]
        assert int(row["from"]) == job["from"] and int(row["to"]) == job["to"]


def test_plan_without_account_id_has_no_task_names(cwx, tmp_path):
    cfg = write(tmp_path, BASE.replace('    account_id: "123456789012"\n', ""))
    doc = json.loads(cwx("plan", "--offline", "-c", cfg, "-f", "json", "--now", NOW_MS,
                         check=0).stdout)
    assert all(j["task_name"] is None and j["account_id"] is None for j in doc["jobs"])


def test_settle_excludes_recent_windows(cwx, tmp_path):
    cfg = write(tmp_path, BASE.replace("  to: 2024-03\n", ""))
    # 2024-03-01T06:00Z: February ended 6 h ago and has not settled (12 h).
    doc = json.loads(cwx("plan", "--offline", "-c", cfg, "-f", "json",
                         "--now", 1709272800000, check=0).stdout)
    assert [j["window"] for j in doc["jobs"]] == ["2024-01"]


def test_nothing_settled_yet(cwx, tmp_path):
    cfg = write(tmp_path, BASE.replace("  from: 2024-01\n  to: 2024-03\n", "  from: 2030-01\n"))
    doc = json.loads(cwx("plan", "--offline", "-c", cfg, "-f", "json", "--now", NOW_MS,
                         check=0).stdout)
    assert doc["jobs"] == []


@pytest.mark.parametrize("text,where", [
    (BASE.replace("version: 1", "version: 2"), ":1:10: error: "),
    (BASE.replace("  from: 2024-01", "  from: 2024-13"), ":7:9: error: "),
    (BASE.replace("    bucket: my-log-archive", "    bukcet: my-log-archive"), ":5:5: error: "),
    ("version: 1\naccounts: [\n", ""),
])
def test_bad_configs_one_line_exit_2(cwx, tmp_path, text, where):
    cfg = write(tmp_path, text)
    for cmd in (["validate"], ["plan", "--offline"]):
        proc = cwx(*cmd, "-c", cfg, check=2)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert ERROR_LINE.match(lines[0]), lines[0]
        assert lines[0].startswith(cfg)
        assert where in lines[0]
        assert proc.stdout == ""


def test_missing_file(cwx, tmp_path):
    proc = cwx("validate", "-c", str(tmp_path / "nope.yaml"), check=2)
    assert "nope.yaml" in proc.stderr


@pytest.mark.parametrize("cmd", ["validate", "plan"])
def test_help(cwx, cmd):
    proc = cwx(cmd, "--help", check=0)
    assert proc.stdout.startswith("usage: cwexport " + cmd)


def test_version_and_usage(cwx):
    assert cwx("--version", check=0).stdout.startswith("cwexport ")
    assert "commands:" in cwx("--help", check=0).stdout
    cwx(check=2)
    cwx("frobnicate", check=2)


def _hourly_config(tmp_path, hours, groups=100):
    lines = ["version: 1", "defaults:", "  region: us-east-1", "  window: hour",
             "  destination: {bucket: flat-archive}", f"range: {{last: {hours}}}",
             "accounts:", "  - name: flat", '    account_id: "123456789012"',
             "    log_groups:"]
    lines += [f"      - name: /flat/service-{i:03d}" for i in range(groups)]
    return write(tmp_path, "\n".join(lines) + "\n", f"hourly-{hours}.yaml")


def _peak_rss_kb(cwx, cfg):
    """Peak RSS of one `plan --offline --format json` (report to /dev/null)."""
    env = dict(os.environ)
    # AddressSanitizer keeps freed blocks in a quarantine of up to 256 MB:
    # keep it small so that the figure is the program's own memory.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1"
    for k in [k for k in env if k.startswith("AWS_")]:
        del env[k]
    with tempfile.NamedTemporaryFile() as t:
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name, cwx.binary, "plan",
                               "--offline", "-f", "json", "-c", cfg, "--now", str(NOW_MS)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return int(pathlib.Path(t.name).read_text().split()[-1])


def test_plan_offline_memory_stays_flat(cwx, tmp_path):
    # 100 log groups x 2,000 and x 8,000 hourly windows: 200 k and 800 k jobs.
    # The report is written as the jobs are made, so four times the jobs
    # must not take more memory (a job array would add ~24 MB).
    small = _peak_rss_kb(cwx, _hourly_config(tmp_path, 2000))
    large = _peak_rss_kb(cwx, _hourly_config(tmp_path, 8000))
    print(f"peak RSS: 200 k jobs {small} kB, 800 k jobs {large} kB")
    assert large < 1.3 * small + 4096, (small, large)


def test_plan_offline_streamed_rows_are_the_jobs(cwx, tmp_path):
    # The streamed rows: every group's windows in order, named and counted.
    cfg = _hourly_config(tmp_path, 5, groups=3)
    doc = json.loads(cwx("plan", "--offline", "-c", cfg, "-f", "json", "--now", NOW_MS,
                         check=0).stdout)
    assert [j["log_group"] for j in doc["jobs"]] == [
        f"/flat/service-{g:03d}" for g in range(3) for _ in range(5)]
    assert [j["window"] for j in doc["jobs"][:5]] == sorted(j["window"] for j in doc["jobs"][:5])
    assert len({j["task_name"] for j in doc["jobs"]}) == 15
    assert doc["totals"]["jobs"] == doc["totals"]["pending"] == doc["totals"]["tasks"] == 15
    assert doc["lanes"][0]["jobs"] == 15


def test_plan_offline_max_jobs_refused_first(cwx, tmp_path):
    # Over max_jobs: one clear error, before any job is made or written.
    cfg = _hourly_config(tmp_path, 8000)
    text = pathlib.Path(cfg).read_text().replace("version: 1\n", "version: 1\nmax_jobs: 100000\n")
    proc = cwx("plan", "--offline", "-c", write(tmp_path, text, "capped.yaml"), "-f", "json",
               "--now", NOW_MS, check=2)
    assert "max_jobs (100000)" in proc.stderr and proc.stdout == ""
