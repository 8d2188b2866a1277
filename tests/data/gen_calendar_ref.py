#!/usr/bin/python3
"""Reference windows for tests/unit/test_calendar.c, computed with Python's
zoneinfo (which reads the same /usr/share/zoneinfo but evaluates it with its
own code), from the definitions in docs/windows.md, stated independently of
how planner/calendar.c computes them:

- month, week (ISO, Monday), day: a period whose civil start is L begins at
  the first instant whose wall-clock time is >= L, and ends where the next
  period begins;
- hour: a new window begins whenever the wall clock enters another hour or
  goes back; a window whose hour the clock already showed earlier (the
  repeated hour of a fall-back) is labelled with the UTC offset in force,
  e.g. 2024-11-03T01-0500.

Usage: /usr/bin/python3 tests/data/gen_calendar_ref.py > tests/data/calendar_ref.txt

Output: '#' comments, then one window a line:
    <zone> <granularity> <label> <start_ms> <end_ms>
Consecutive lines of one zone and granularity whose end and start meet are
consecutive windows (the test checks cwx_window_next on them).
"""

import datetime as dt
import sys
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
STEP = 900  # every UTC offset in use is a multiple of 15 minutes

ZONES = [
    "UTC",
    "Asia/Tokyo",
    "America/New_York",
    "Europe/London",
    "Asia/Kathmandu",          # +05:45
    "Australia/Lord_Howe",     # +10:30 / +11:00, 30-minute DST
    "America/Santiago",        # DST starts at 24:00: local midnight is skipped
    "Asia/Beirut",             # DST changes at 00:00 (skips and repeats midnight)
    "Pacific/Chatham",         # +12:45 / +13:45
    "America/St_Johns",        # -03:30 / -02:30
    "Pacific/Apia",            # skipped 2011-12-30 entirely
]

GRANS = ["month", "week", "day", "hour"]
SPAN = {"month": 3 * 31 * 86400, "week": 3 * 7 * 86400, "day": 3 * 86400,
        "hour": 4 * 3600}


def local(zone, t):
    """Naive wall-clock time at epoch second t."""
    return dt.datetime.fromtimestamp(t, zone).replace(tzinfo=None)


def offset(zone, t):
    return int(dt.datetime.fromtimestamp(t, zone).utcoffset().total_seconds())


def naive_seconds(d):
    return int((d - dt.datetime(1970, 1, 1)).total_seconds())


def first_instant(zone, l_naive):
    """First epoch second whose wall clock is >= l_naive."""
    lsec = naive_seconds(l_naive)
    t = lsec - 27 * 3600
    while naive_seconds(local(zone, t)) < lsec:
        t += STEP
    lo, hi = t - STEP, t  # local(lo) < L <= local(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if naive_seconds(local(zone, mid)) >= lsec:
            hi = mid
        else:
            lo = mid
    return hi


def period_start(g, d):
    if g == "month":
        return dt.datetime(d.year, d.month, 1)
    day = dt.datetime(d.year, d.month, d.day)
    if g == "week":
        return day - dt.timedelta(days=day.weekday())
    return day


def period_next(g, p):
    if g == "month":
        return dt.datetime(p.year + (p.month == 12), p.month % 12 + 1, 1)
    return p + dt.timedelta(days=7 if g == "week" else 1)


def label(g, p):
    if g == "month":
        return "%04d-%02d" % (p.year, p.month)
    if g == "week":
        y, w, _ = p.date().isocalendar()
        return "%04d-W%02d" % (y, w)
    if g == "day":
        return "%04d-%02d-%02d" % (p.year, p.month, p.day)
    return "%04d-%02d-%02dT%02d" % (p.year, p.month, p.day, p.hour)


def periods(zone, g, a, b):
    """Windows of month/week/day meeting the epoch-second range [a, b)."""
    p = period_start(g, local(zone, a) - dt.timedelta(days=2))
    out = []
    start = first_instant(zone, p)
    while start < b:
        q = period_next(g, p)
        end = first_instant(zone, q)
        if end > a and end > start:  # an empty period (Apia 2011-12-30) has no window
            out.append((label(g, p), start, end))
        p, start = q, end
    return out


def hours(zone, a, b):
    """Hour windows meeting [a, b): a window starts where the clock enters
    another hour or goes back."""
    t0 = (a - 6 * 3600) // STEP * STEP
    cands = set()
    t = t0
    prev_off = offset(zone, t)
    while t < b + 3 * 3600:
        if local(zone, t).minute == 0 and local(zone, t).second == 0:
            cands.add(t)
        o = offset(zone, t)
        if o != prev_off:  # a transition in (t - STEP, t]: find its second
            lo, hi = t - STEP, t
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(zone, mid) == prev_off:
                    lo = mid
                else:
                    hi = mid
            cands.add(hi)
            prev_off = o
        t += STEP
    bounds = []
    for t in sorted(cands):
        now, before = local(zone, t), local(zone, t - 1)
        hour_now = now.replace(minute=0, second=0)
        hour_before = before.replace(minute=0, second=0)
        if hour_now != hour_before or now < before:
            bounds.append(t)
    out = []
    seen = set()
    for s, e in zip(bounds, bounds[1:]):
        p = local(zone, s).replace(minute=0, second=0)
        lab = label("hour", p)
        # Repeated hour: the clock showed this hour before (seen in the
        # enumeration, which starts well before any window we keep).
        if lab in seen:
            o = offset(zone, s)
            sign = "-" if o < 0 else "+"
            o = abs(o)
            lab += "%s%02d%02d" % (sign, o // 3600, o // 60 % 60)
            if o % 60:
                lab += "%02d" % (o % 60)
        seen.add(lab.split("+")[0][:13] if len(lab) > 13 else lab)
        if e > a and s < b:
            out.append((lab, s, e))
    return out


def transitions(zone, years):
    out = []
    for y in years:
        t = int(dt.datetime(y, 1, 1, tzinfo=UTC).timestamp())
        end = int(dt.datetime(y + 1, 1, 1, tzinfo=UTC).timestamp())
        prev = offset(zone, t)
        while t < end:
            o = offset(zone, t + 3600)
            if o != prev:
                lo, hi = t, t + 3600
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if offset(zone, mid) == prev:
                        lo = mid
                    else:
                        hi = mid
                out.append(hi)
                prev = o
            t += 3600
    return out


def epoch(y, m, d, zone):
    return int(dt.datetime(y, m, d, 12, tzinfo=zone).timestamp())


def main():
    rows = []
    for name in ZONES:
        zone = ZoneInfo(name)
        years = [2000, 2011, 2021, 2024, 2037, 2038, 2099, 2100]
        if name == "Asia/Beirut":
            years = [1985, 2000, 2024]
        points = []
        for t in transitions(zone, years):
            points.append(("dst", t))
        for (y, m, d) in [(2024, 2, 29), (2000, 2, 29), (2100, 2, 28),
                          (2100, 3, 1), (2020, 12, 31), (2021, 1, 4),
                          (2025, 12, 29), (2026, 1, 1), (2015, 12, 31)]:
            points.append(("date", epoch(y, m, d, zone)))
        for g in GRANS:
            ranges = []
            for kind, t in points:
                span = SPAN[g] if (kind == "dst" or g != "hour") else 2 * 3600
                ranges.append((t - span, t + span))
            ranges.sort()
            merged = []
            for a, b in ranges:
                if merged and a <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], b)
                else:
                    merged.append([a, b])
            for a, b in merged:
                ws = hours(zone, a, b) if g == "hour" else periods(zone, g, a, b)
                for lab, s, e in ws:
                    rows.append((name, g, lab, s * 1000, e * 1000))
    print("# Generated by tests/data/gen_calendar_ref.py with Python %s zoneinfo;"
          % sys.version.split()[0])
    print("# zone granularity label start_ms end_ms")
    seen = set()
    for r in rows:
        if r in seen:
            continue
        seen.add(r)
        print("%s %s %s %d %d" % r)


if __name__ == "__main__":
    main()
