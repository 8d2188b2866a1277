"""The HTML plan report in a real browser (Debian's Chromium, driven by
playwright-core from the pinned npm lock in this folder, which the fixture
test browser.npm_ci installs into the build tree): see check-report.mjs for
what is checked. The screenshot is kept in $CWX_BUILD_DIR/test-artifacts/."""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent
NOW_MS = 1768435200000  # 2026-01-15T00:00:00Z

CONFIG = """version: 1
defaults:
  region: us-east-1
  destination: {bucket: my-archive}
range: {from: 2023-01, to: 2025-12}
accounts:
  - name: prod
    account_id: "123456789012"
    regions: [us-east-1, eu-west-1]
    token_scope: region
    log_groups:
%s  - name: audit
    account_id: "210987654321"
    log_groups:
      - name: /app/audit
        range: {from: 2025-01}
"""


def _node_dir():
    d = pathlib.Path(os.environ.get("CWX_BROWSER_NODE_DIR", HERE))
    if not (d / "node_modules" / "playwright-core").is_dir():
        pytest.exit("playwright-core is not installed: run `npm ci` in %s" % d, 2)
    return d


def test_report_in_chromium(tmp_path):
    binary = os.environ["CWX_BIN"]
    names = "".join("      - name: /aws/lambda/service-%02d\n" % i for i in range(40))
    names += "".join("      - name: /app/payments-%d\n" % i for i in range(3))
    cfg = tmp_path / "plan.yaml"
    cfg.write_text(CONFIG % names)
    html, plan = tmp_path / "plan.html", tmp_path / "plan.json"
    for fmt, out in (("html", html), ("json", plan)):
        p = subprocess.run([binary, "plan", "--offline", "-c", cfg, "-f", fmt, "-o", out,
                            "--now", str(NOW_MS)], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
    shot = tmp_path / "plan-report.png"
    node = _node_dir()
    p = subprocess.run(["node", node / "check-report.mjs", html, plan, shot, "payments"],
                       cwd=node, capture_output=True, text=True, timeout=300)
    build = os.environ.get("CWX_BUILD_DIR")
    if build and shot.exists():
        dest = pathlib.Path(build) / "test-artifacts"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, dest / shot.name)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    found = json.loads(p.stdout)
    assert found["failures"] == [] and shot.stat().st_size > 10000
