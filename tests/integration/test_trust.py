"""Trust boundaries against the fake AWS: one key per log group, the caller's
account, the bucket's owner, plain-http endpoints."""
import json

import pytest

import runutil as ru
from runutil import _needs_run  # noqa: F401  (autouse: skip without `run`)
from runutil import FakeAWS, Timeline

A0 = ru.account_id(0)
A1 = ru.account_id(1)


@pytest.fixture
def fake(tmp_path):
    with FakeAWS(seed=ru.seed(accounts=2, groups=[("/coll/x", {}), ("coll/x", {})]),
                 tmp_dir=tmp_path) as f:
        yield f


def _config(tmp_path, names, name="trust.yaml", **kw):
    path = ru.config(tmp_path, name=name, **kw)
    cfg = json.loads(path.read_text())
    cfg["accounts"][0]["log_groups"] = [{"name": n} for n in names]
    path.write_text(json.dumps(cfg, indent=1) + "\n")
    return path


def _plan(cwx, fake, tmp_path, cfg):
    proc = cwx("plan", "-c", cfg, "-f", "json", env=ru.env(fake, tmp_path), check=0)
    return json.loads(proc.stdout)["jobs"]


def test_slash_and_bare_names_never_share_keys(cwx, fake, tmp_path):
    ru.run(cwx, fake, tmp_path, _config(tmp_path, ["/coll/x"]), check=0)
    first = ru.markers(fake, A0)
    assert len(first) == 3 and all(k.startswith("_cwexport/%s/us-east-1/coll/x/" % A0)
                                   for k in first)

    bare = _config(tmp_path, ["coll/x"], name="bare.yaml")
    jobs = _plan(cwx, fake, tmp_path, bare)
    assert [j["status"] for j in jobs] == ["pending"] * 3
    assert all(j["prefix"].startswith("%s/us-east-1/!coll/x/" % A0) for j in jobs)

    fake.clear_timeline()
    ru.run(cwx, fake, tmp_path, bare, check=0)
    tl = Timeline(fake.timeline())
    assert len(ru.creates(tl.events, "ok")) == 3
    keys = set(ru.markers(fake, A0)) - set(first)
    assert len(keys) == 3 and all(k.startswith("_cwexport/%s/us-east-1/!coll/x/" % A0)
                                  for k in keys)
    for k in keys:
        assert json.loads(fake.s3_get(ru.bucket(A0), k))["log_group"] == "coll/x"
    data = [o["key"] for o in fake.s3_list(ru.bucket(A0), "%s/us-east-1/!coll/x/" % A0)]
    assert data


def test_old_layout_marker_honoured_only_for_its_group(cwx, fake, tmp_path):
    bare = _config(tmp_path, ["coll/x"])
    jobs = _plan(cwx, fake, tmp_path, bare)
    windows = [j["window"] for j in jobs]
    assert len(windows) == 3
    old = "_cwexport/%s/us-east-1/coll/x/%s.json"
    # Written by an older cwexport for this very group: honoured.
    fake.s3_put(ru.bucket(A0), old % (A0, windows[0]),
                json.dumps({"marker_version": 1, "log_group": "coll/x"}).encode())
    # The same key written for "/coll/x": not this group's marker.
    fake.s3_put(ru.bucket(A0), old % (A0, windows[1]),
                json.dumps({"marker_version": 1, "log_group": "/coll/x"}).encode())
    fake.clear_timeline()
    by_window = {j["window"]: j["status"] for j in _plan(cwx, fake, tmp_path, bare)}
    assert by_window == {windows[0]: "done", windows[1]: "pending", windows[2]: "pending"}
    gets = [e["key"] for e in Timeline(fake.timeline()).requests() if e["op"] == "GetObject"]
    assert sorted(k for k in gets if "/coll/x/" in k) == sorted(old % (A0, w) for w in windows[:2])

    # A slash group's key is its own, as before: no content check.
    slash = _config(tmp_path, ["/coll/x"], name="slash.yaml")
    st = {j["window"]: j["status"] for j in _plan(cwx, fake, tmp_path, slash)}
    assert st == {windows[0]: "done", windows[1]: "done", windows[2]: "pending"}
