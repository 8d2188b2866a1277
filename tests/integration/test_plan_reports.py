"""Plan reports: markdown, the self-contained HTML heatmap (opened in headless
Chromium), and the estimates every format carries."""
import csv
import io
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

NOW_MS = 1768435200000  # 2026-01-15T00:00:00Z
CHROMIUM = "/usr/bin/chromium"

BASE = """version: 1
defaults:
  region: us-east-1
  poll: {min: 5s, max: 60s}
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
      - name: /app/audit#1
      - prefix: /aws/ecs/
"""


def write(tmp_path, text, name="c.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def big_config(tmp_path, groups=2000):
    lines = ["version: 1", "defaults:", "  region: us-east-1",
             "  destination: {bucket: bench-archive}",
             "range: {from: 2023-01, to: 2025-12}", "accounts:", "  - name: bench",
             '    account_id: "123456789012"', "    log_groups:"]
    lines += [f"      - name: /bench/service-{i:05d}/application" for i in range(groups)]
    return write(tmp_path, "\n".join(lines) + "\n", "big.yaml")


def plan(cwx, cfg, fmt, *extra, check=0):
    return cwx("plan", "--offline", "-c", cfg, "-f", fmt, "--now", NOW_MS, *extra,
               check=check).stdout


# ---------------------------------------------------------------- estimates

def test_json_estimates_offline(cwx, tmp_path):
    doc = json.loads(plan(cwx, write(tmp_path, BASE), "json"))
    assert len(doc["jobs"]) == 6
    for job in doc["jobs"]:
        # Offline the groups' sizes are unknown: the fixed cost per task only.
        assert job["est_bytes"] is None
        assert job["est_seconds"] == 60
    (lane,) = doc["lanes"]
    assert lane["account"] == "prod" and lane["region"] is None
    assert lane["jobs"] == 6 and lane["pending"] == 6
    assert lane["rate_source"] == "default" and lane["bytes_per_second"] == 10000000
    assert lane["task_overhead_seconds"] == 60
    # Six exports of 60 s, each until a poll of the run's schedule sees it
    # end: the first ones polled every 5 s (no prediction yet), the later
    # ones aimed at the predicted end.
    backfill = lane["est_backfill_seconds"]
    assert 6 * 60 < backfill < 6 * 66
    calls = lane["aws_calls"]
    # Per job: 1 create, the replayed polls, 1 list, 1 put; per lane start:
    # the marker index page and 3 task listings.
    assert calls["create_export_task"] == 6
    assert 6 * 4 + 3 <= calls["describe_export_tasks"] <= 6 * 20 + 3
    est = lane["estimates"]
    assert est["makespan_seconds"]["value"] == backfill
    assert est["makespan_seconds"]["source"] == "default"
    assert est["makespan_seconds"]["low"] < backfill < est["makespan_seconds"]["high"]
    assert est["describe_export_tasks"]["value"] == calls["describe_export_tasks"]
    assert (est["describe_export_tasks"]["low"] < calls["describe_export_tasks"]
            < est["describe_export_tasks"]["high"])
    assert est["bytes"] == {"value": None, "source": "unknown", "unknown_jobs": 6}
    assert calls["list_objects"] == 6 + 1
    assert calls["put_object"] == 6
    assert calls["total"] == sum(v for k, v in calls.items() if k != "total")
    assert doc["totals"] == {"jobs": 6, "pending": 6, "done": 0, "running": 0,
                             "skipped": 0, "failed": 0, "unresolved": 1, "tasks": 6,
                             "no_events": 0}
    est = doc["estimates"]
    assert est["lanes"] == 1 and est["wall_seconds"] == backfill
    assert est["serial_seconds"] == backfill and est["bytes"] == 0
    assert est["bytes_unknown_jobs"] == 6
    assert est["aws_calls"] == calls


def test_lanes_per_region_scope(cwx, tmp_path):
    text = BASE.replace("    log_groups:",
                        "    regions: [us-east-1, eu-west-1]\n    token_scope: region\n"
                        "    log_groups:")
    doc = json.loads(plan(cwx, write(tmp_path, text), "json"))
    assert [(l["account"], l["region"]) for l in doc["lanes"]] == [
        ("prod", "us-east-1"), ("prod", "eu-west-1")]
    one = doc["lanes"][0]["est_backfill_seconds"]
    assert doc["lanes"][1]["est_backfill_seconds"] == one
    assert doc["estimates"]["wall_seconds"] == one
    assert doc["estimates"]["serial_seconds"] == 2 * one
    doc = json.loads(plan(cwx, write(tmp_path, text.replace("token_scope: region",
                                                            "token_scope: account")), "json"))
    assert [(l["account"], l["region"]) for l in doc["lanes"]] == [("prod", None)]
    # One lane: twelve exports one after the other (it learns as it goes).
    assert 12 * 60 < doc["estimates"]["wall_seconds"] < 12 * 66


def test_csv_estimates(cwx, tmp_path):
    rows = list(csv.DictReader(io.StringIO(plan(cwx, write(tmp_path, BASE), "csv"))))
    assert len(rows) == 6
    assert all(r["est_bytes"] == "" and float(r["est_seconds"]) == 60 for r in rows)


def test_table_shows_lanes_and_estimates(cwx, tmp_path):
    out = plan(cwx, write(tmp_path, BASE), "table")
    assert "EST.BYTES" in out and "LANE" in out
    assert re.search(r"^prod\s+6\s+6\s+0\s+0\s+0\s+0\s+unknown\s+6m \d\ds", out, re.M), out
    assert "6 CreateExportTask" in out


# ---------------------------------------------------------------- markdown

def md_tables(text):
    """Every pipe table of a markdown document: {heading: [row dicts]}."""
    tables, heading, header = {}, None, None
    for line in text.splitlines():
        if line.startswith("## "):
            heading, header = line[3:], None
            continue
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip().replace("\\|", "|")
                 for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if header is None:
            header = cells
            tables.setdefault(heading, [])
        elif set("".join(cells)) <= set("-: "):
            continue
        else:
            tables[heading].append(dict(zip(header, cells)))
    return tables


def test_markdown(cwx, tmp_path):
    cfg = write(tmp_path, BASE)
    out = plan(cwx, cfg, "markdown")
    assert out.startswith("# cwexport plan\n")
    t = md_tables(out)
    assert t["Totals"] == [{"jobs": "6", "pending": "6", "done": "0", "running": "0",
                            "skipped": "0", "failed": "0", "unresolved selectors": "1"}]
    assert t["Lanes"][0]["lane"] == "prod" and re.fullmatch(r"6m \d\ds", t["Lanes"][0]["backfill"])
    assert t["Unresolved selectors"] == [{"account": "prod", "region": "us-east-1",
                                          "kind": "prefix", "value": "/aws/ecs/"}]
    jobs = t["Jobs"]
    doc = json.loads(plan(cwx, cfg, "json"))
    assert [(r["log group"], r["window"], r["status"], r["task name"]) for r in jobs] == [
        (j["log_group"], j["window"], j["status"], j["task_name"]) for j in doc["jobs"]]


def test_unknown_format(cwx, tmp_path):
    proc = cwx("plan", "--offline", "-c", write(tmp_path, BASE), "-f", "pdf", check=2)
    assert "markdown" in proc.stderr and "html" in proc.stderr


# ---------------------------------------------------------------- html

def test_html_is_self_contained(cwx, tmp_path):
    html = plan(cwx, write(tmp_path, BASE), "html")
    assert html.startswith("<!DOCTYPE html>")
    # No network fetch: no external scripts, styles, images or fonts.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(" not in html
    blob = re.search(r'<script id="plan-data" type="application/json">(.*?)</script>',
                     html, re.S).group(1)
    data = json.loads(blob)
    assert [g[0] for g in data["groups"]] == ["/aws/lambda/api", "/app/audit#1"]
    assert data["cols"] == ["2024-01", "2024-02", "2024-03"]
    assert all(g[3] == "000" for g in data["groups"])


def chromium_render(html_path, out_dir, name, width=1400, height=1000):
    """Opens html_path in headless Chromium: returns (body attributes,
    browser log); saves a screenshot as out_dir/name.png (and a copy under
    $CWX_BUILD_DIR/test-artifacts/)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} missing: install Debian's `chromium` package "
                    "to run the HTML report tests")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--hide-scrollbars",
             f"--window-size={width},{height}", "--virtual-time-budget=10000"]
    url = pathlib.Path(html_path).resolve().as_uri()

    def run(*extra):
        profile = tempfile.mkdtemp(prefix="cwx-chromium-")
        try:
            return subprocess.run([CHROMIUM, *flags, f"--user-data-dir={profile}", *extra, url],
                                  capture_output=True, text=True, timeout=180)
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    dom = run("--enable-logging=stderr", "--v=0", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-3000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)
    assert body, dom.stdout[:2000]
    attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', body.group(1)))
    shot = pathlib.Path(out_dir) / f"{name}.png"
    res = run(f"--screenshot={shot}")
    assert res.returncode == 0 and shot.exists() and shot.stat().st_size > 1000, res.stderr[-3000:]
    build = os.environ.get("CWX_BUILD_DIR")
    if build:
        dest = pathlib.Path(build) / "test-artifacts"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, dest / shot.name)
    return attrs, dom.stderr + dom.stdout


def assert_clean(attrs, log):
    assert attrs.get("rendered") == "1", attrs
    assert attrs.get("errors") == "0", log[-3000:]
    assert "Uncaught" not in log, log[-3000:]


def test_html_heatmap_2000_groups_in_chromium(cwx, tmp_path):
    cfg = big_config(tmp_path, 2000)
    out = tmp_path / "plan.html"
    cwx("plan", "--offline", "-c", cfg, "-f", "html", "-o", out, "--now", NOW_MS, check=0)
    assert out.stat().st_size < 2_000_000
    attrs, log = chromium_render(out, tmp_path, "plan-heatmap-2000x36")
    assert_clean(attrs, log)
    assert attrs["groups"] == "2000" and attrs["cols"] == "36"
    assert attrs["cells"] == str(2000 * 36)
    assert attrs["npending"] == str(2000 * 36)
    # Only the visible rows are drawn, however many groups there are.
    assert 0 < int(attrs["drawn"]) < 2000 * 36
    assert int(attrs["drawn"]) % 36 == 0


def test_html_small_plan_in_chromium(cwx, tmp_path):
    out = tmp_path / "small.html"
    cwx("plan", "--offline", "-c", write(tmp_path, BASE), "-f", "html", "-o", out,
        "--now", NOW_MS, check=0)
    attrs, log = chromium_render(out, tmp_path, "plan-small")
    assert_clean(attrs, log)
    assert attrs["cells"] == "6" and attrs["drawn"] == "6" and attrs["rows"] == "2"
