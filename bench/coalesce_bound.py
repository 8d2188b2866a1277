#!/usr/bin/python3
"""bench/coalesce_bound: the best any planner could do on bench/coalesce's fleet.

Draws group-months from the distribution of the fake's `long_tail` seed
option (empty 45 %, tiny under 1 MB 25 %, 20-300 MB 25 %, 1.1-3 GB 5 %) and
plans them with perfect knowledge of every month's bytes, which no real
planner has (AWS gives a group's storedBytes, the streams' event intervals
and, for the last 455 days, daily IncomingBytes): windows without data need
no task; consecutive windows merge while their bytes stay <= max_bytes and
the range <= max_windows windows (empty windows inside a range count, as
cwexport's ranges cover them). Extending each range as far as it goes is
optimal for this contiguous packing. Each task costs what the fake's time
model charges (PENDING 55 s, then RUNNING bytes / 20 MB/s, at least 5 s).

Prints tasks and the modelled makespan of the longest lane for one task per
window, for windows with data only, and for the best coalescing, with the
ratios bench/coalesce's targets speak of. Figures only.

usage: bench/coalesce_bound.py [--groups 2000] [--months 36] [--accounts 10]
                               [--max-bytes 1073741824] [--max-windows 12] [--seed 1]
"""
import argparse
import random

PENDING_S = 55.0
MIN_RUNNING_S = 5.0
THROUGHPUT = 2e7


def month_bytes(rnd):
    x = rnd.random()
    if x < 0.45:
        return 0.0
    if x < 0.70:
        return rnd.uniform(1e4, 1e6 - 1)
    if x < 0.95:
        return rnd.uniform(20e6, 300e6)
    return rnd.uniform(1.1e9, 3e9)


def task_s(nbytes):
    return PENDING_S + max(MIN_RUNNING_S, nbytes / THROUGHPUT)


def best_ranges(months, max_bytes, max_windows):
    """The fewest ranges covering every month with data: list of their bytes."""
    out, i = [], 0
    while i < len(months):
        if months[i] == 0:
            i += 1
            continue
        total, j = months[i], i + 1
        if total <= max_bytes:
            while (j < len(months) and j - i < max_windows
                   and (months[j] == 0 or total + months[j] <= max_bytes)):
                total += months[j]
                j += 1
        out.append(total)
        i = j
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=2000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--accounts", type=int, default=10)
    ap.add_argument("--max-bytes", type=float, default=float(1 << 30))
    ap.add_argument("--max-windows", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    lanes = [{"per-window": [0, 0.0], "skip_empty": [0, 0.0], "best coalesce": [0, 0.0]}
             for _ in range(args.accounts)]
    for g in range(args.groups):
        months = [month_bytes(rnd) for _ in range(args.months)]
        lane = lanes[g % args.accounts]
        for b in months:
            lane["per-window"][0] += 1
            lane["per-window"][1] += task_s(b)
            if b > 0:
                lane["skip_empty"][0] += 1
                lane["skip_empty"][1] += task_s(b)
        for b in best_ranges(months, args.max_bytes, args.max_windows):
            lane["best coalesce"][0] += 1
            lane["best coalesce"][1] += task_s(b)
    print("bench/coalesce_bound: %d groups x %d months over %d lanes, perfect knowledge"
          % (args.groups, args.months, args.accounts))
    base_tasks = sum(ln["per-window"][0] for ln in lanes)
    base_span = max(ln["per-window"][1] for ln in lanes)
    print("%-14s %8s %10s %12s" % ("strategy", "tasks", "makespan", "vs per-window"))
    for name in ("per-window", "skip_empty", "best coalesce"):
        tasks = sum(ln[name][0] for ln in lanes)
        span = max(ln[name][1] for ln in lanes)
        print("%-14s %8d %8.1f d   %.1fx fewer tasks, %.1fx shorter"
              % (name, tasks, span / 86400, base_tasks / tasks, base_span / span))


if __name__ == "__main__":
    main()
