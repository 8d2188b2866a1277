"""`cwexport run --metrics FILE`: Prometheus text exposition for node_exporter's textfile
collector, parsed with the Prometheus client library's own parser (Debian's
python3-prometheus-client); values agree with the JSON summary; the last success time
survives a failing run; the file is replaced atomically."""
import json
import os
import stat

import pytest

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS

parser = pytest.importorskip("prometheus_client.parser")


def families(path):
    return {f.name: f for f in parser.text_string_to_metric_families(path.read_text())}


def value(fams, name, **labels):
    for s in fams[name].samples:
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError((name, labels))


def test_metrics_of_a_run_and_of_a_failing_one(cwx, tmp_path):
    groups = [("/app/api", {}), ("/app/web", {})]
    with FakeAWS(seed=ru.seed(accounts=2, groups=groups), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, accounts=2, groups=("/app/api", "/app/web"), rng={"last": 2})
        out = tmp_path / "textfile"
        out.mkdir()
        metrics = out / "cwexport.prom"
        proc = ru.run(cwx, fake, tmp_path, cfg, "--metrics", metrics, check=0)
        summary = proc.summary
        fams = families(metrics)
        for name in ("cwexport_windows", "cwexport_exported_bytes", "cwexport_exported_objects",
                     "cwexport_export_tasks", "cwexport_retries", "cwexport_api_calls",
                     "cwexport_last_run_duration_seconds", "cwexport_last_success_timestamp_seconds"):
            assert fams[name].type == "gauge", name
        assert len(summary["lanes"]) == 2
        for lane in summary["lanes"]:
            labels = {"lane": lane["lane"], "account": lane["account"], "account_id": lane["account_id"]}
            for state in ("done", "skipped", "failed", "pending"):
                assert value(fams, "cwexport_windows", state=state, **labels) == lane[state]
            assert value(fams, "cwexport_exported_bytes", **labels) == lane["bytes"]
            assert value(fams, "cwexport_export_tasks", **labels) == lane["creates"]
            assert value(fams, "cwexport_retries", kind="api", **labels) == lane["api_retries"]
        done = sum(s.value for s in fams["cwexport_windows"].samples if s.labels["state"] == "done")
        assert done == summary["totals"]["done"] > 0
        assert value(fams, "cwexport_last_run_exit_code") == 0
        last_run = value(fams, "cwexport_last_run_timestamp_seconds")
        assert value(fams, "cwexport_last_success_timestamp_seconds") == last_run
        assert abs(value(fams, "cwexport_last_run_duration_seconds") - summary["duration_s"]) < 0.01
        assert stat.S_IMODE(metrics.stat().st_mode) == 0o644
        assert os.listdir(out) == ["cwexport.prom"]

        # A run that fails (no credentials): the last success time is kept.
        bad = dict(ru.env(fake, tmp_path))
        bad["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "nothing")
        proc = cwx("run", "-c", cfg, "--metrics", metrics, "--progress", "none", env=bad, check=3)
        fams = families(metrics)
        assert value(fams, "cwexport_last_run_exit_code") == 3
        assert value(fams, "cwexport_last_run_timestamp_seconds") >= last_run
        assert value(fams, "cwexport_last_success_timestamp_seconds") == last_run
        assert os.listdir(out) == ["cwexport.prom"]


def test_unwritable_metrics_path_is_reported(cwx, tmp_path):
    with FakeAWS(seed=ru.seed(), tmp_dir=tmp_path) as fake:
        cfg = ru.config(tmp_path, rng={"last": 1})
        proc = ru.run(cwx, fake, tmp_path, cfg, "--metrics", tmp_path / "no" / "such" / "dir.prom")
        assert "could not write the metrics to" in proc.stderr
        assert proc.returncode == 0
        assert json.dumps(proc.summary)
