"""CloudWatch (Query protocol, service "monitoring"): GetMetricData and GetMetricStatistics for
AWS/Logs IncomingBytes, computed from the log groups' data model.

What AWS documents and this fake follows (API reference, GetMetricData / GetMetricStatistics):
- data points of a 1-minute period are kept 15 days, 5-minute 63 days, 1-hour (and longer)
  455 days (15 months); a request whose StartTime is older than 15 days (63 days) with a period
  that is not a multiple of 300 (3600) gets no data points in that range;
- StartTime is rounded down to the minute (< 15 days ago), 5 minutes (< 63 days) or hour;
- GetMetricData: at most 500 MetricDataQuery structures, at most MaxDatapoints (100,800 by
  default) points per answer, the rest behind NextToken; ScanBy TimestampDescending by default;
- GetMetricStatistics: at most 1,440 data points per call (InvalidParameterCombination);
- a period with no data has no data point.
"""
import re
import time

from . import model
from .proto import ApiError, query_ok, x
from .state import b64token, unb64token

ACTIONS = ("GetMetricData", "GetMetricStatistics")
DAY_MS = model.DAY_MS
MAX_QUERIES = 500
MAX_POINTS = 100800
MAX_STAT_POINTS = 1440
STATS = ("Sum", "Average", "SampleCount", "Minimum", "Maximum")
_ID = re.compile(r"[a-z][A-Za-z0-9_]*")


def _bad(msg):
    return ApiError("InvalidParameterValue", msg)


def _time(p, name):
    v = p.get(name)
    if not v:
        raise ApiError("MissingParameter", "The parameter %s is required." % name)
    try:
        if re.fullmatch(r"\d+(\.\d+)?", v):
            return int(float(v) * 1000)
        return model.parse_time(v)
    except (ValueError, OverflowError):
        raise _bad("The parameter %s must be a valid timestamp." % name)


def _period(v, where):
    try:
        period = int(v)
    except (TypeError, ValueError):
        raise _bad("The parameter %s must be a positive integer." % where)
    if period < 1:
        raise _bad("The parameter %s must be greater than 0." % where)
    if period % 60 and period not in (1, 5, 10, 30):
        raise _bad("The parameter %s must be a multiple of 60." % where)
    return period


def _round_start(start, now):
    """StartTime as CloudWatch rounds it, by how old it is."""
    age = now - start
    step = 60000 if age < 15 * DAY_MS else 300000 if age < 63 * DAY_MS else 3600000
    return start - start % step


def _kept(start, period, now):
    """Whether a period of that length has data that old (retention by resolution)."""
    age = now - start
    if age > 63 * DAY_MS:
        return period % 3600 == 0
    if age > 15 * DAY_MS:
        return period % 300 == 0
    if age > 3 * 3600000:
        return period % 60 == 0
    return True


def _points(world, account, region, metric, start, end, period, stat, now):
    """[(t_ms, value)] oldest first for one metric: AWS/Logs IncomingBytes of a log group,
    nothing for any other metric (as AWS answers a metric nobody published)."""
    ns, name, dims = metric
    if ns != "AWS/Logs" or name != "IncomingBytes" or list(dims) != ["LogGroupName"]:
        return []
    with world.lock:
        g = world.groups.get((account, region, dims["LogGroupName"]))
    if g is None:
        return []
    start = _round_start(start, now)
    if not _kept(start, period, now):
        return []
    horizon = now - 455 * DAY_MS
    step = period * 1000
    out = []
    t = start
    while t < end and t < now:
        if t >= horizon:
            b = g.ingested_in(t, min(t + step, now), now)
            if b > 0:
                # Whole minutes of ingest: a sample per minute with data.
                samples = max(1, min(step, now - t) // 60000)
                out.append((t, {"Sum": float(b), "Average": float(b) / samples,
                                "SampleCount": float(samples), "Minimum": 0.0,
                                "Maximum": float(b)}[stat]))
        t += step
    return out


def _num(v):
    s = repr(float(v))
    return s[:-2] if s.endswith(".0") else s


def _queries(p):
    out, seen, i = [], set(), 1
    while "MetricDataQueries.member.%d.Id" % i in p or "MetricDataQueries.member.%d.MetricStat.Period" % i in p:
        pre = "MetricDataQueries.member.%d." % i
        qid = p.get(pre + "Id", "")
        if not _ID.fullmatch(qid):
            raise _bad("The value %s for parameter MetricDataQueries.member.%d.Id is not valid. The first "
                       "character must be a lower-case letter and the rest letters, numbers or underscores."
                       % (qid, i))
        if qid in seen:
            raise _bad("The value %s for parameter MetricDataQueries.member.%d.Id is already used." % (qid, i))
        seen.add(qid)
        if p.get(pre + "Expression"):
            raise _bad("Metric math expressions are not supported by this fake.")
        stat = p.get(pre + "MetricStat.Stat")
        if not stat or pre + "MetricStat.Metric.MetricName" not in p:
            raise ApiError("MissingParameter", "The parameter MetricDataQueries.member.%d.MetricStat is required "
                           "(this fake answers no Expression)." % i)
        if stat not in STATS:
            raise _bad("The value %s for parameter MetricDataQueries.member.%d.MetricStat.Stat is not supported."
                       % (stat, i))
        period = _period(p.get(pre + "MetricStat.Period"), "MetricDataQueries.member.%d.MetricStat.Period" % i)
        out.append((qid, _metric(p, pre + "MetricStat.Metric."), period, stat,
                    p.get(pre + "ReturnData", "true") != "false", p.get(pre + "Label")))
        i += 1
    if not out:
        raise ApiError("ValidationError", "1 validation error detected: Value null at 'metricDataQueries' failed "
                       "to satisfy constraint: Member must not be null")
    if len(out) > MAX_QUERIES:
        raise _bad("The collection MetricDataQueries must not have a size greater than %d." % MAX_QUERIES)
    return out


def _metric(p, pre):
    dims, j = {}, 1
    while pre + "Dimensions.member.%d.Name" % j in p:
        dims[p[pre + "Dimensions.member.%d.Name" % j]] = p.get(pre + "Dimensions.member.%d.Value" % j, "")
        j += 1
    return p.get(pre + "Namespace", ""), p.get(pre + "MetricName", ""), dims


def _page(results, order_desc, offset, limit):
    """Flattens (query, point) in the answer's order, cuts one page out at offset."""
    flat = []
    for qi, (_, pts) in enumerate(results):
        seq = list(reversed(pts)) if order_desc else pts
        flat.extend((qi, k) for k in range(len(seq)))
    return flat[offset:offset + limit], offset + limit < len(flat)


def get_metric_data(world, p, caller, region, request_id):
    queries = _queries(p)
    start, end = _time(p, "StartTime"), _time(p, "EndTime")
    if start >= end:
        raise _bad("The parameter StartTime must be less than the parameter EndTime.")
    scan = p.get("ScanBy", "TimestampDescending")
    if scan not in ("TimestampDescending", "TimestampAscending"):
        raise _bad("The value %s for parameter ScanBy is not valid." % scan)
    try:
        limit = min(int(p.get("MaxDatapoints", MAX_POINTS)), MAX_POINTS)
    except ValueError:
        raise _bad("The parameter MaxDatapoints must be an integer.")
    if limit < 1:
        raise _bad("The parameter MaxDatapoints must be greater than 0.")
    offset = 0
    if p.get("NextToken"):
        try:
            tok = unb64token(p["NextToken"])
            offset = int(tok["o"])
        except Exception:
            raise ApiError("InvalidNextToken", "The service cannot process the NextToken.")
    now = model.now_ms()
    results = [(q, _points(world, caller.account, region, q[1], start, end, q[2], q[3], now))
               for q in queries if q[4]]
    page, more = _page(results, scan == "TimestampDescending", offset, limit)
    by_q = {}
    for qi, k in page:
        by_q.setdefault(qi, []).append(k)
    members = []
    for qi, (q, pts) in enumerate(results):
        ks = by_q.get(qi, [])
        if offset and not ks:
            continue
        seq = list(reversed(pts)) if scan == "TimestampDescending" else pts
        more_of_q = ks[-1] + 1 < len(seq) if ks else bool(seq)
        status = "PartialData" if more_of_q else "Complete"
        members.append("      <member>\n        <Timestamps>%s</Timestamps>\n        <Values>%s</Values>\n"
                       "        <Label>%s</Label>\n        <Id>%s</Id>\n        <StatusCode>%s</StatusCode>\n"
                       "      </member>\n"
                       % ("".join("<member>%s</member>" % _iso(seq[k][0]) for k in ks),
                          "".join("<member>%s</member>" % _num(seq[k][1]) for k in ks),
                          x(q[5] or q[1][1]), x(q[0]), status))
    token = ("\n    <NextToken>%s</NextToken>" % b64token({"o": offset + limit})) if more else ""
    return query_ok("monitoring", "GetMetricData", "    <MetricDataResults>\n%s    </MetricDataResults>%s\n"
                    "    <Messages/>" % ("".join(members), token), request_id)


def get_metric_statistics(world, p, caller, region, request_id):
    for n in ("Namespace", "MetricName", "StartTime", "EndTime", "Period"):
        if not p.get(n):
            raise ApiError("MissingParameter", "The parameter %s is required." % n)
    stats, i = [], 1
    while "Statistics.member.%d" % i in p:
        stats.append(p["Statistics.member.%d" % i])
        i += 1
    if not stats:
        raise ApiError("InvalidParameterCombination", "Must specify either Statistics or ExtendedStatistics, "
                       "but not both.")
    for s in stats:
        if s not in STATS:
            raise _bad("The parameter Statistics.member.%d must be a value in the set [ Maximum, Minimum, "
                       "SampleCount, Sum, Average ]." % (stats.index(s) + 1))
    start, end = _time(p, "StartTime"), _time(p, "EndTime")
    if start >= end:
        raise _bad("The parameter StartTime must be less than the parameter EndTime.")
    period = _period(p["Period"], "Period")
    n = -(-(end - start) // (period * 1000))
    if n > MAX_STAT_POINTS:
        raise ApiError("InvalidParameterCombination", "You have requested up to %s datapoints, which exceeds the "
                       "limit of 1,440. You may reduce the datapoints requested by increasing Period, or "
                       "decreasing the time range." % format(n, ","))
    now = model.now_ms()
    metric = _metric(p, "")
    per = {s: dict(_points(world, caller.account, region, metric, start, end, period, s, now)) for s in stats}
    members = []
    for t in sorted(per[stats[0]]):
        vals = "".join("<%s>%s</%s>" % (s, _num(per[s][t]), s) for s in stats)
        members.append("      <member>\n        <Timestamp>%s</Timestamp>\n        %s\n"
                       "        <Unit>Bytes</Unit>\n      </member>\n" % (_iso(t), vals))
    return query_ok("monitoring", "GetMetricStatistics", "    <Label>%s</Label>\n    <Datapoints>\n%s"
                    "    </Datapoints>" % (x(metric[1]), "".join(members)), request_id)


def _iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def handle(world, action, p, caller, region, request_id):
    if action == "GetMetricData":
        return get_metric_data(world, p, caller, region, request_id)
    if action == "GetMetricStatistics":
        return get_metric_statistics(world, p, caller, region, request_id)
    raise ApiError("InvalidAction", "Could not find operation %s for version 2010-08-01" % action)
