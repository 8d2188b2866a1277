#!/usr/bin/python3
"""Load test of the fake AWS (tests/fakeaws): signed DescribeExportTasks calls made with
botocore from a few threads, bounded by a request count and a time limit.

    /usr/bin/python3 bench/fake_load.py [--threads 4] [--requests 4000] [--seconds 20] [--url URL]

Starts its own fake with the demo seed unless --url is given (then the demo base key is
used). Prints requests/s, errors and latency percentiles. Never asserted in CI."""
import argparse
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fakeaws"))

from fixture import DEMO_KEY, FakeAWS  # noqa: E402


def make_client(url):
    import botocore.session
    from botocore.config import Config
    s = botocore.session.get_session()
    return s.create_client("logs", region_name="us-east-1", endpoint_url=url,
                           aws_access_key_id=DEMO_KEY["access_key"], aws_secret_access_key=DEMO_KEY["secret"],
                           config=Config(retries={"total_max_attempts": 1}, max_pool_connections=2))


def run(url, threads, total, seconds):
    lock = threading.Lock()
    state = {"issued": 0, "ok": 0, "errors": 0, "lat": [], "errtypes": {}}
    deadline = time.monotonic() + seconds
    clients = [make_client(url) for _ in range(threads)]
    for c in clients:  # warm up: connection + first-call overheads out of the measurement
        c.describe_export_tasks(limit=5)
    start = threading.Barrier(threads + 1)

    def worker(c):
        start.wait()
        lat = []
        while time.monotonic() < deadline:
            with lock:
                if state["issued"] >= total:
                    break
                state["issued"] += 1
            t0 = time.perf_counter()
            try:
                c.describe_export_tasks(limit=5)
                ok = True
            except Exception as e:  # noqa: BLE001 - counted and reported
                ok = False
                name = type(e).__name__
            lat.append(time.perf_counter() - t0)
            with lock:
                if ok:
                    state["ok"] += 1
                else:
                    state["errors"] += 1
                    state["errtypes"][name] = state["errtypes"].get(name, 0) + 1
        with lock:
            state["lat"] += lat

    ts = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in ts:
        t.start()
    start.wait()
    t0 = time.monotonic()
    for t in ts:
        t.join()
    elapsed = time.monotonic() - t0
    lat = sorted(state["lat"])

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0.0
    return {"threads": threads, "requests": state["ok"] + state["errors"], "ok": state["ok"],
            "errors": state["errors"], "error_types": state["errtypes"], "seconds": elapsed,
            "rps": (state["ok"] + state["errors"]) / elapsed if elapsed else 0.0,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": pct(1.0)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--url", help="an already running fake (else one is started with the demo seed)")
    a = ap.parse_args()
    fake = None
    url = a.url
    if not url:
        fake = FakeAWS().start()
        url = fake.url
    try:
        r = run(url, a.threads, a.requests, a.seconds)
        stats = fake.stats() if fake else None
    finally:
        if fake:
            fake.stop()
    print("fake_load: %d signed DescribeExportTasks from %d threads in %.2f s" % (r["requests"], r["threads"],
                                                                                 r["seconds"]))
    print("fake_load: %.0f requests/s, %d errors%s" % (r["rps"], r["errors"],
                                                       (" %s" % r["error_types"]) if r["errors"] else ""))
    print("fake_load: latency p50 %.2f ms, p99 %.2f ms, max %.2f ms" % (r["p50_ms"], r["p99_ms"], r["max_ms"]))
    if stats:
        print("fake_load: server saw %d TCP connections, %d requests" % (stats["connections"], stats["requests"]))
    return 0 if r["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
