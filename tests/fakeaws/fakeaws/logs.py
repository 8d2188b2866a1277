"""CloudWatch Logs (JSON 1.1): export tasks and log groups."""
import json
import re

import botocore.session
from botocore.validate import ParamValidator

from . import model
from .proto import ApiError, json_ok
from .state import ACTIVE, b64token, unb64token

_SESSION = botocore.session.get_session()
_MODEL = _SESSION.get_service_model("logs")
_VALIDATOR = ParamValidator()
OPERATIONS = ("CreateExportTask", "DescribeExportTasks", "CancelExportTask", "DescribeLogGroups",
              "DescribeLogStreams")
# Members newer than this botocore's model that real AWS accepts.
EXTRA_MEMBERS = {"DescribeLogGroups": {"logGroupIdentifiers", "logGroupClass"},
                 "DescribeLogStreams": {"logGroupIdentifier"}}
STATUS_CODES = ("CANCELLED", "COMPLETED", "FAILED", "PENDING", "PENDING_CANCEL", "RUNNING")


def _member_name(name):
    return name.lstrip(".") or "input"


def validate(op, params):
    """Validate against botocore's model: required, types, min/max length and
    range, enum and pattern; errors shaped as AWS reports them."""
    shape = _MODEL.operation_model(op).input_shape
    if not isinstance(params, dict):
        raise ApiError("SerializationException", "Start of structure or map found where not expected.")
    report = _VALIDATOR.validate(params, shape)
    msgs = []
    for reason, name, extra in report._errors:
        if reason == "unknown field":
            continue
        if reason == "invalid type":
            raise ApiError("SerializationException",
                           "Unexpected value type in payload for member '%s'" % _member_name(name),
                           coral=True)
        if reason == "missing required field":
            msgs.append("Value null at '%s' failed to satisfy constraint: Member must not be null"
                        % extra["required_name"])
        elif reason == "invalid length":
            msgs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater "
                        "than or equal to %s" % (extra["param"], _member_name(name), extra["min_allowed"]))
        elif reason == "invalid range":
            msgs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have value greater "
                        "than or equal to %s" % (extra["param"], _member_name(name), extra["min_allowed"]))
        else:
            msgs.append("%s at '%s'" % (reason, _member_name(name)))
    for mname, mshape in shape.members.items():
        if mname not in params or params[mname] is None:
            continue
        v = params[mname]
        md = mshape.metadata
        if mshape.type_name == "string" and isinstance(v, str):
            if "max" in md and len(v) > md["max"]:
                msgs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have length less "
                            "than or equal to %s" % (v, mname, md["max"]))
            if "pattern" in md and not re.fullmatch(md["pattern"], v):
                msgs.append("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular "
                            "expression pattern: %s" % (v, mname, md["pattern"]))
            if mshape.enum and v not in mshape.enum:
                msgs.append("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value "
                            "set: [%s]" % (v, mname, ", ".join(mshape.enum)))
        if mshape.type_name in ("integer", "long") and isinstance(v, int) and "max" in md and v > md["max"]:
            msgs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have value less than "
                        "or equal to %s" % (v, mname, md["max"]))
    if msgs:
        raise ApiError("InvalidParameterException", "%d validation error%s detected: %s"
                       % (len(msgs), "" if len(msgs) == 1 else "s", "; ".join(msgs)))


def handle(world, op, body, account, region):
    if op not in OPERATIONS:
        raise ApiError("UnknownOperationException", "", coral=True)
    try:
        params = json.loads(body.decode("utf-8") or "{}") if body else {}
    except (ValueError, UnicodeDecodeError):
        raise ApiError("SerializationException", "Unexpected character in JSON payload", coral=True)
    extra = {k: params.pop(k) for k in list(params) if k in EXTRA_MEMBERS.get(op, ())} \
        if isinstance(params, dict) else {}
    if op == "DescribeLogStreams" and "logGroupIdentifier" in extra and "logGroupName" not in params:
        # Older botocore models mark logGroupName required; AWS takes either.
        params["logGroupName"] = "placeholder"
        validate(op, params)
        del params["logGroupName"]
    else:
        validate(op, params)
    params.update(extra)
    return globals()["op_" + op](world, params, account, region)


def op_CreateExportTask(world, p, account, region):
    frm, to = p["from"], p["to"]
    with world.lock:
        g = world.groups.get((account, region, p["logGroupName"]))
        if g is None:
            raise ApiError("ResourceNotFoundException", "The specified log group does not exist.")
        if frm > to:
            raise ApiError("InvalidParameterException",
                           "Specified time range of '%d' and '%d' is not valid. Please make sure the values are "
                           "within the retention period of the log group and from value is less than the to "
                           "values" % (frm, to))
        prefix = p.get("destinationPrefix")
        if prefix is None:
            prefix = "exportedlogs"
        longest = max([len(st.name.encode()) for st in g.streams] or [0])
        if len(prefix.encode()) + len("/") + 36 + len("/") + longest + len("/000000.gz") > 1024:
            raise ApiError("InvalidParameterException",
                           "The destination prefix is too long: object keys would exceed 1024 bytes.")
        b = world.buckets.get(p["destination"])
        if b is None:
            raise ApiError("InvalidParameterException", "The specified bucket does not exist.")
        if b.region != region:
            raise ApiError("InvalidParameterException",
                           "The specified bucket is in a different region (%s). Please make sure the bucket is "
                           "in the same region as the log group (%s)." % (b.region, region))
        if not b.allowed(account):
            raise ApiError("InvalidParameterException",
                           "GetBucketAcl call on the given bucket failed. Please check if CloudWatch Logs has "
                           "been granted permission to perform this operation.")
        if b.deny_write:
            raise ApiError("InvalidParameterException",
                           "PutObject call on the given bucket failed. Please check if CloudWatch Logs has "
                           "been granted permission to perform this operation.")
        token = world.token_of(account, region)
        if world.active_in_token(token) is not None:
            raise ApiError("LimitExceededException", "Resource limit exceeded.")
        t = world.create_task(account, region, p["logGroupName"], frm, to, p["destination"], prefix,
                              name=p.get("taskName"), stream_prefix=p.get("logStreamNamePrefix"))
    r = json_ok({"taskId": t.task_id})
    r.task_id = t.task_id
    return r


def _task_sort_key(t):
    return (t.creation, t.seq)


def op_DescribeExportTasks(world, p, account, region):
    limit = p.get("limit", 50)
    with world.lock:
        tasks = [world.tasks[tid] for tid in world.task_order]
        tasks = [t for t in tasks if t.account == account and t.region == region]
        if p.get("taskId"):
            tasks = [t for t in tasks if t.task_id == p["taskId"]]
        if p.get("statusCode"):
            tasks = [t for t in tasks if t.status == p["statusCode"]]
        tasks.sort(key=_task_sort_key, reverse=True)
        if p.get("nextToken"):
            try:
                ct, seq = unb64token(p["nextToken"])
            except Exception:
                raise ApiError("InvalidParameterException", "The specified nextToken is invalid.")
            tasks = [t for t in tasks if (t.creation, t.seq) < (ct, seq)]
        page = tasks[:limit]
        out = {"exportTasks": [t.to_api() for t in page]}
        if len(tasks) > limit:
            out["nextToken"] = b64token([page[-1].creation, page[-1].seq])
    r = json_ok(out)
    if p.get("taskId"):
        r.task_id = p["taskId"]
    return r


def op_CancelExportTask(world, p, account, region):
    with world.lock:
        t = world.tasks.get(p["taskId"])
        if t is None or t.account != account or t.region != region:
            raise ApiError("ResourceNotFoundException", "The specified export task does not exist.")
        if t.status not in ACTIVE:
            raise ApiError("InvalidOperationException",
                           "The specified export task has already finished. Its status is %s." % t.status)
        world.cancel_task(t)
    r = json_ok({})
    r.body = b""
    r.task_id = t.task_id
    return r


def _group_api(g, now, pattern_mode):
    if pattern_mode:
        return {"logGroupName": g.name, "creationTime": g.creation, "arn": g.arn}
    d = {"logGroupName": g.name, "creationTime": g.creation}
    if g.retention:
        d["retentionInDays"] = int(g.retention)
    d.update({"metricFilterCount": 0, "arn": g.arn, "storedBytes": g.stored_bytes(now),
              "logGroupClass": "STANDARD", "logGroupArn": g.log_group_arn})
    return d


def op_DescribeLogGroups(world, p, account, region):
    prefix, pattern, idents = p.get("logGroupNamePrefix"), p.get("logGroupNamePattern"), p.get("logGroupIdentifiers")
    if prefix is not None and pattern is not None:
        raise ApiError("InvalidParameterException",
                       "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
    if idents is not None and (prefix is not None or pattern is not None):
        raise ApiError("InvalidParameterException",
                       "logGroupIdentifiers is mutually exclusive with logGroupNamePrefix and logGroupNamePattern.")
    if idents is not None:
        if not isinstance(idents, list) or not 1 <= len(idents) <= 50 or not all(isinstance(i, str) for i in idents):
            raise ApiError("InvalidParameterException", "1 validation error detected: Value at "
                           "'logGroupIdentifiers' failed to satisfy constraint: Member must have length less "
                           "than or equal to 50")
    limit = p.get("limit", 50)
    now = model.now_ms()
    with world.lock:
        names = world.group_index.get((account, region), [])
        if idents is not None:
            wanted = set()
            for i in idents:
                m = re.match(r"^arn:aws[\w-]*:logs:([\w-]+):(\d{12}):log-group:(.+?)(?::\*)?$", i)
                if m:
                    if m.group(1) == region and m.group(2) == account:
                        wanted.add(m.group(3))
                else:
                    wanted.add(i)
            names = [n for n in names if n in wanted]
        elif prefix is not None:
            names = [n for n in names if n.startswith(prefix)]
        elif pattern:
            names = [n for n in names if pattern in n]
        if p.get("nextToken"):
            try:
                last = unb64token(p["nextToken"])["after"]
            except Exception:
                raise ApiError("InvalidParameterException", "The specified nextToken is invalid.")
            names = [n for n in names if n > last]
        page = names[:limit]
        out = {"logGroups": [_group_api(world.groups[(account, region, n)], now, pattern is not None)
                             for n in page]}
        if len(names) > limit:
            out["nextToken"] = b64token({"after": page[-1]})
    return json_ok(out)


def _group_of(world, p, account, region):
    name, ident = p.get("logGroupName"), p.get("logGroupIdentifier")
    if (name is None) == (ident is None):
        raise ApiError("InvalidParameterException",
                       "Exactly one of logGroupName or logGroupIdentifier must be specified.")
    if ident is not None:
        m = re.match(r"^arn:aws[\w-]*:logs:([\w-]+):(\d{12}):log-group:(.+?)(?::\*)?$", ident)
        if m:
            if m.group(1) != region or m.group(2) != account:
                raise ApiError("ResourceNotFoundException", "The specified log group does not exist.")
            name = m.group(3)
        else:
            name = ident
    g = world.groups.get((account, region, name))
    if g is None:
        raise ApiError("ResourceNotFoundException", "The specified log group does not exist.")
    return g


def op_DescribeLogStreams(world, p, account, region):
    """As AWS answers it: storedBytes always 0; first/last event timestamps from
    the stream's data range; throttled at settings.describe_log_streams_tps per
    account and region (AWS's quota)."""
    order = p.get("orderBy", "LogStreamName")
    prefix = p.get("logStreamNamePrefix")
    if order == "LastEventTime" and prefix is not None:
        raise ApiError("InvalidParameterException",
                       "Cannot order by LastEventTime with a logStreamNamePrefix.")
    limit = p.get("limit", 50)
    now = model.now_ms()
    with world.lock:
        if not world.rate_ok("DescribeLogStreams", account, region,
                             float(world.settings.get("describe_log_streams_tps", 25))):
            raise ApiError("ThrottlingException", "Rate exceeded")
        g = _group_of(world, p, account, region)
        rows = []
        for st in g.streams:
            if prefix is not None and not st.name.startswith(prefix):
                continue
            d = {"logStreamName": st.name,
                 "creationTime": max(g.creation, st.start or 0),
                 "arn": "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s" % (region, account, g.name, st.name),
                 "storedBytes": 0}
            ev = g.stream_event_range(st, now)
            if ev is not None:
                d["firstEventTimestamp"], d["lastEventTimestamp"] = ev
                d["lastIngestionTime"] = ev[1] + 150
            rows.append(d)
        if order == "LastEventTime":
            rows.sort(key=lambda d: (d.get("lastEventTimestamp", 0), d["logStreamName"]))
        if p.get("descending"):
            rows.reverse()
        start = 0
        if p.get("nextToken"):
            try:
                tok = unb64token(p["nextToken"])
                start = int(tok["i"])
                if tok.get("o") != order or tok.get("g") != g.name:
                    raise ValueError()
            except Exception:
                raise ApiError("InvalidParameterException", "The specified nextToken is invalid.")
        page = rows[start:start + limit]
        out = {"logStreams": page}
        if start + limit < len(rows):
            out["nextToken"] = b64token({"i": start + limit, "o": order, "g": g.name})
    return json_ok(out)
