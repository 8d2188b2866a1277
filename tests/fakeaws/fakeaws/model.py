"""Seed parsing and the synthetic data model (log groups, streams, events, S3 seeds)."""
import calendar
import datetime as _dt
import gzip
import hashlib
import random
import re

DAY_MS = 86400000

_REL = re.compile(r"^now(?:([+-])(\d+(?:\.\d+)?)([smhdwMy]))?$")


def now_ms():
    import time
    return int(time.time() * 1000)


def _add_months(dt, n):
    y, m = dt.year, dt.month - 1 + n
    y += m // 12
    m = m % 12 + 1
    d = min(dt.day, calendar.monthrange(y, m)[1])
    return dt.replace(year=y, month=m, day=d)


def parse_time(v, now=None):
    """Time expression -> epoch ms.

    int/float: epoch ms.  Strings: "now", "now-30d", "now+2h", "now-18M" (calendar
    months), "now-2y", units s m h d w M y; ISO dates "2024-01", "2024-01-15",
    "2024-01-15T10:00:00Z"."""
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError("bad time %r" % (v,))
    if isinstance(v, (int, float)):
        return int(v)
    now = now_ms() if now is None else now
    s = str(v).strip()
    m = _REL.match(s)
    if m:
        if not m.group(1):
            return now
        sign = -1 if m.group(1) == "-" else 1
        n = float(m.group(2))
        unit = m.group(3)
        if unit in "My":
            months = int(n) * (12 if unit == "y" else 1) * sign
            dt = _dt.datetime.fromtimestamp(now / 1000, _dt.timezone.utc)
            return int(_add_months(dt, months).timestamp() * 1000)
        mult = {"s": 1000, "m": 60000, "h": 3600000, "d": DAY_MS, "w": 7 * DAY_MS}[unit]
        return int(now + sign * n * mult)
    if re.match(r"^\d{4}-\d{2}$", s):
        y, mo = map(int, s.split("-"))
        return calendar.timegm((y, mo, 1, 0, 0, 0)) * 1000
    if re.match(r"^\d{4}-\d{2}-\d{2}$", s):
        y, mo, d = map(int, s.split("-"))
        return calendar.timegm((y, mo, d, 0, 0, 0)) * 1000
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    dt = _dt.datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_dt.timezone.utc)
    return int(dt.timestamp() * 1000)


def month_of(v, now=None):
    """(year, month) for a month expression ("2024-03", "now-5M", epoch ms)."""
    ms = parse_time(v, now)
    t = _dt.datetime.fromtimestamp(ms / 1000, _dt.timezone.utc)
    return (t.year, t.month)


def month_start_ms(y, m):
    return calendar.timegm((y, m, 1, 0, 0, 0)) * 1000


def next_month(y, m):
    return (y + 1, 1) if m == 12 else (y, m + 1)


def iso_ms(ms):
    t = _dt.datetime.fromtimestamp(ms / 1000, _dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def stable_int(*parts):
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big")


class Stream:
    __slots__ = ("name", "start", "end")

    def __init__(self, name, start=None, end=None):
        self.name, self.start, self.end = name, start, end


class LogGroup:
    """A log group with a deterministic event-density description."""

    def __init__(self, spec, now, seed_salt=""):
        self.name = spec["name"]
        self.account = str(spec["account"])
        self.region = spec["region"]
        self.creation = parse_time(spec.get("created", spec.get("creationTime", "now-730d")), now)
        self.retention = spec.get("retentionInDays", spec.get("retention_days"))
        self.bpd = float(spec.get("bytes_per_day", 0))
        self.data_start = parse_time(spec.get("data_start"), now) if spec.get("data_start") is not None else None
        self.data_end = parse_time(spec.get("data_end"), now) if spec.get("data_end") is not None else None
        self.gaps = set()
        for g in spec.get("gaps", []) or []:
            self.gaps.add(month_of(g, now))
        self.stored_override = spec.get("storedBytes", spec.get("stored_bytes"))
        # {"2024-03": bytes, ...}: the month's bytes (spread evenly over it) instead of
        # bytes_per_day; months absent hold nothing (the long-tailed fleet).
        self.month_bytes = {}
        for k, v in (spec.get("month_bytes") or {}).items():
            self.month_bytes[month_of(k, now)] = float(v)
        self.salt = seed_salt
        st = spec.get("streams", 1)
        self.streams = []
        if isinstance(st, int):
            for i in range(st):
                self.streams.append(Stream("stream-%03d" % i))
        elif isinstance(st, dict):
            pfx = st.get("prefix", "stream-")
            for i in range(int(st.get("count", 1))):
                self.streams.append(Stream("%s%03d" % (pfx, i)))
        else:
            for s in st:
                if isinstance(s, str):
                    self.streams.append(Stream(s))
                else:
                    self.streams.append(Stream(s["name"], parse_time(s.get("from"), now),
                                               parse_time(s.get("to"), now)))
        self.streams.sort(key=lambda s: s.name)

    @property
    def arn(self):
        return "arn:aws:logs:%s:%s:log-group:%s:*" % (self.region, self.account, self.name)

    @property
    def log_group_arn(self):
        return "arn:aws:logs:%s:%s:log-group:%s" % (self.region, self.account, self.name)

    def _range(self, lo, hi, now):
        """Clip [lo, hi) to where data exists."""
        lo = max(lo, self.creation, self.data_start or 0)
        hi = min(hi, now, self.data_end if self.data_end is not None else now)
        if self.retention:
            lo = max(lo, now - int(self.retention) * DAY_MS)
        return lo, hi

    def _span_ms(self, lo, hi):
        """Milliseconds of [lo, hi) outside gap months."""
        if hi <= lo:
            return 0
        if not self.gaps and not self.month_bytes:
            return hi - lo
        t = _dt.datetime.fromtimestamp(lo / 1000, _dt.timezone.utc)
        y, m = t.year, t.month
        total = 0
        while True:
            ms0 = month_start_ms(y, m)
            ny, nm = next_month(y, m)
            ms1 = month_start_ms(ny, nm)
            if ms0 >= hi:
                break
            a, b = max(lo, ms0), min(hi, ms1)
            if b > a and self._month_has_data(y, m):
                total += b - a
            y, m = ny, nm
        return total

    def bytes_in(self, frm, to_incl, now):
        lo, hi = self._range(frm, to_incl + 1, now)
        return self._bytes_between(lo, hi)

    def _bytes_between(self, lo, hi):
        if not self.month_bytes:
            return int(self.bpd * self._span_ms(lo, hi) / DAY_MS)
        total = 0.0
        for (y, m), v in self.month_bytes.items():
            ny, nm = next_month(y, m)
            m0, m1 = month_start_ms(y, m), month_start_ms(ny, nm)
            a, b = max(lo, m0), min(hi, m1)
            if b > a and (y, m) not in self.gaps:
                total += v * (b - a) / (m1 - m0)
        return int(total)

    def ingested_in(self, lo, hi, now):
        """Bytes the group took in over [lo, hi) (CloudWatch's IncomingBytes): the data
        model's bytes, whatever the retention has deleted since."""
        lo = max(lo, self.creation, self.data_start or 0)
        hi = min(hi, now, self.data_end if self.data_end is not None else now)
        return self._bytes_between(lo, hi)

    def stored_bytes(self, now):
        if self.stored_override is not None:
            return int(self.stored_override)
        return self.bytes_in(0, now, now)

    def streams_with_events(self, frm, to_incl, now, prefix=None):
        out = []
        if self.bpd <= 0 and not self.month_bytes:
            return out
        lo, hi = self._range(frm, to_incl + 1, now)
        if hi <= lo:
            return out
        for s in self.streams:
            if prefix and not s.name.startswith(prefix):
                continue
            a = max(lo, s.start) if s.start is not None else lo
            b = min(hi, s.end) if s.end is not None else hi
            if self._span_ms(a, b) > 0:
                out.append((s, a, b))
        return out

    def stream_event_range(self, stream, now):
        """(firstEventTimestamp, lastEventTimestamp) of a stream, or None when it has no
        events: its data range clipped to where the group has data, gap months cut off
        at both ends (a gap in the middle stays inside, as AWS's two timestamps would)."""
        if self.bpd <= 0 and not self.month_bytes:
            return None
        lo, hi = self._range(0, now, now)
        a = max(lo, stream.start) if stream.start is not None else lo
        b = min(hi, stream.end) if stream.end is not None else hi
        if b <= a:
            return None
        first = last = None
        t = _dt.datetime.fromtimestamp(a / 1000, _dt.timezone.utc)
        y, m = t.year, t.month
        while month_start_ms(y, m) < b:
            ny, nm = next_month(y, m)
            m0, m1 = max(a, month_start_ms(y, m)), min(b, month_start_ms(ny, nm))
            if m1 > m0 and self._month_has_data(y, m):
                if first is None:
                    first = m0
                last = m1 - 1
            y, m = ny, nm
        return None if first is None else (first, last)

    def _month_has_data(self, y, m):
        if (y, m) in self.gaps:
            return False
        if self.month_bytes:
            return self.month_bytes.get((y, m), 0) > 0
        return True

    def export_object(self, stream, a, b, frm, to_incl):
        """Deterministic small gzip object of the stream's events in [a, b)."""
        rnd = random.Random(stable_int(self.salt, self.account, self.region, self.name,
                                       stream.name, frm, to_incl))
        n = rnd.randint(3, 25)
        words = ["GET", "POST", "/api/v1/items", "200", "404", "500", "user=%d", "latency_ms=%d",
                 "INFO", "WARN", "ERROR", "request completed", "cache miss", "retrying",
                 "id=%08x", "bytes=%d"]
        ts = sorted(rnd.randrange(a, b) for _ in range(n)) if b > a else [a] * n
        lines = []
        for t in ts:
            if self.gaps and _dt.datetime.fromtimestamp(t / 1000, _dt.timezone.utc).timetuple()[:2] in self.gaps:
                continue
            parts = []
            for _ in range(rnd.randint(4, 10)):
                w = rnd.choice(words)
                if "%" in w:
                    w = w % rnd.randrange(1 << 31)
                parts.append(w)
            lines.append("%s %s" % (iso_ms(t), " ".join(parts)))
        if not lines:
            lines.append("%s %s" % (iso_ms(a), "INFO heartbeat"))
        data = ("\n".join(lines) + "\n").encode()
        return gzip.compress(data, compresslevel=6, mtime=0)


def expand_log_groups(specs, now, salt=""):
    """Expand explicit groups and {"generate": {...}} specs into LogGroup objects."""
    groups = []
    for spec in specs or []:
        if "generate" in spec:
            g = spec["generate"]
            rnd = random.Random(stable_int(salt, "generate", g.get("prefix", "/gen/g")))
            count = int(g.get("count", 1))
            width = int(g.get("width", max(4, len(str(count - 1)))))
            accounts = g.get("accounts") or [g["account"]]
            regions = g.get("regions") or [g.get("region", "us-east-1")]
            bpd = g.get("bytes_per_day", 1000000)
            created = g.get("created", "now-730d")
            rets = g.get("retention_choices", [None])
            streams = g.get("streams", 2)
            for i in range(count):
                if isinstance(bpd, (list, tuple)):
                    b = rnd.uniform(float(bpd[0]), float(bpd[1]))
                else:
                    b = float(bpd)
                gs = {
                    "name": "%s%0*d" % (g.get("prefix", "/gen/g"), width, i),
                    "account": accounts[i % len(accounts)],
                    "region": regions[(i // len(accounts)) % len(regions)],
                    "created": created if not isinstance(created, list) else created[i % len(created)],
                    "bytes_per_day": b,
                    "streams": streams,
                }
                r = rets[rnd.randrange(len(rets))] if rets else None
                if r:
                    gs["retentionInDays"] = r
                if g.get("long_tail"):
                    _long_tail(gs, g["long_tail"], rnd, now)
                for k in ("gaps", "data_start", "data_end"):
                    if k in g:
                        gs[k] = g[k]
                groups.append(LogGroup(gs, now, salt))
        else:
            groups.append(LogGroup(spec, now, salt))
    return groups


def _long_tail(gs, lt, rnd, now):
    """A long-tailed group: over the `months` complete months before now, each month is
    empty, tiny (< 1 MB), medium (20-300 MB) or large (1-3 GB) with the given shares
    (default 45/25/25/5 %); one stream per run of consecutive months with data."""
    months = int(lt.get("months", 36))
    shares = lt.get("shares", [0.45, 0.25, 0.25, 0.05])
    y, m = month_of(now, now)
    ym = []
    for _ in range(months):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        ym.append((y, m))
    ym.reverse()
    mb, streams, run = {}, [], None
    for i, (y, m) in enumerate(ym):
        x = rnd.random()
        if x < shares[0]:
            b = 0
        elif x < shares[0] + shares[1]:
            b = rnd.uniform(1e4, 1e6 - 1)
        elif x < shares[0] + shares[1] + shares[2]:
            b = rnd.uniform(20e6, 300e6)
        else:
            b = rnd.uniform(1.1e9, 3e9)
        if b > 0:
            mb["%04d-%02d" % (y, m)] = int(b)
            if run is None:
                run = [y, m, y, m]
            else:
                run[2], run[3] = y, m
        if run is not None and (b == 0 or i == len(ym) - 1):
            ny, nm = next_month(run[2], run[3])
            streams.append({"name": "run-%04d-%02d" % (run[0], run[1]),
                            "from": month_start_ms(run[0], run[1]), "to": month_start_ms(ny, nm)})
            run = None
    y0, m0 = ym[0]
    gs.update({"created": month_start_ms(y0, m0), "bytes_per_day": 0, "month_bytes": mb,
               "streams": streams or 1})


def _var_values(spec, now):
    if isinstance(spec, list):
        return spec
    if "range" in spec:
        r = spec["range"]
        return list(range(*r))
    if "months" in spec:
        a, b = spec["months"]
        y, m = month_of(a, now)
        y2, m2 = month_of(b, now)
        out = []
        while (y, m) <= (y2, m2):
            out.append("%04d-%02d" % (y, m))
            y, m = next_month(y, m)
        return out
    if "values" in spec:
        return spec["values"]
    raise ValueError("bad generator variable %r" % (spec,))


def expand_objects(specs, now):
    """Yield (key, body bytes) from literal and template object specs."""
    import itertools
    for spec in specs or []:
        if "template" in spec:
            names = list(spec.get("vars", {}).keys())
            values = [_var_values(spec["vars"][n], now) for n in names]
            body = spec.get("body", "")
            size = spec.get("size")
            for combo in itertools.product(*values):
                env = dict(zip(names, combo))
                key = spec["template"].format(**env)
                if spec.get("body_template"):
                    b = body.format(**env).encode()
                elif size is not None:
                    b = (b"x" * int(size))
                else:
                    b = body.encode() if isinstance(body, str) else body
                yield key, b
        else:
            body = spec.get("body", "")
            if "size" in spec and not body:
                body = "x" * int(spec["size"])
            yield spec["key"], body.encode() if isinstance(body, str) else body
