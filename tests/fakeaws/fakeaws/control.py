"""Control API under /_fake/ (unsigned JSON): faults, timeline, task injection, S3 and SNS
inspection, settings, reset."""
import base64
import json
import time
from urllib.parse import parse_qsl

from . import model
from .state import ACTIVE, S3Object, Bucket, fail_rate


def _body(raw):
    if not raw:
        return {}
    return json.loads(raw.decode("utf-8"))


def handle(h, world, path, raw_query, raw):
    q = dict(parse_qsl(raw_query, keep_blank_values=True))
    m = h.command
    route = path[len("/_fake/"):].strip("/") if path.startswith("/_fake/") else ""
    try:
        b = _body(raw) if m in ("POST", "PUT") else {}
        out = _route(h, world, m, route, q, b)
        if out is None:
            return
        if isinstance(out, tuple):
            return h.send_json(out[1], out[0])
        return h.send_json(out)
    except (ValueError, KeyError, TypeError) as e:
        return h.send_json({"error": "%s: %s" % (type(e).__name__, e)}, 400)


def _task_dict(t):
    d = t.to_api()
    d.update({"account": t.account, "region": t.region, "foreign": t.foreign, "token": t.token,
              "bytes": t.bytes, "planned_s": [round(x, 6) for x in getattr(t, "planned", (0, 0))]})
    return d


def _route(h, world, m, route, q, b):
    if route == "health":
        return {"ok": True}
    if route == "timeline":
        if m == "DELETE":
            with world.lock:
                world.timeline = []
            return {"ok": True}
        since = int(q.get("since", 0))
        kind = q.get("kind")
        with world.lock:
            evs = [e for e in world.timeline if e["seq"] > since and (kind is None or e["kind"] == kind)]
            last = world.timeline[-1]["seq"] if world.timeline else since
        return {"events": evs, "last_seq": last}
    if route == "sso/login" and m == "POST":
        # The token cache document `aws sso login` writes (tests write it to
        # ~/.aws/sso/cache/<sha1>.json themselves).
        with world.lock:
            doc = world.sso.login(b.get("start_url", "https://fake.awsapps.com/start"),
                                  b.get("region", "us-east-1"), b.get("session_name"), b.get("ttl_s"),
                                  float(b.get("registration_ttl_s", 90 * 86400)), bool(b.get("refresh", True)))
        world.event("control", action="sso-login", session_name=b.get("session_name"))
        return doc
    if route == "sso" and m == "GET":
        with world.lock:
            return {"tokens": len(world.sso.tokens), "clients": len(world.sso.clients),
                    "refresh_tokens": len(world.sso.refresh), "assignments": world.sso.assignments}
    if route == "sso/revoke" and m == "POST":
        with world.lock:
            n = len(world.sso.tokens)
            world.sso.tokens.clear()
            world.sso.refresh.clear()
        return {"revoked": n}
    if route == "stats":
        with world.lock:
            s = json.loads(json.dumps(world.stats))
        s["active_connections"] = h.server.active_conns
        return s
    if route == "faults":
        if m == "GET":
            with world.lock:
                return {"rules": list(world.faults)}
        if m == "DELETE":
            world.set_faults({})
            return {"rules": []}
        return {"rules": world.set_faults(b)}
    if route in ("foreign-task", "tasks") and m == "POST":
        foreign = route == "foreign-task" or bool(b.get("foreign", False))
        account = str(b["account"])
        region = b.get("region", "us-east-1")
        with world.lock:
            group = b.get("log_group")
            if group is None:
                names = world.group_index.get((account, region), [])
                group = names[0] if names else "/foreign/export-source"
            now = model.now_ms()
            frm = model.parse_time(b.get("from", "now-1d"), now)
            to = model.parse_time(b.get("to", "now"), now)
            dest = b.get("destination")
            if dest is None:
                dest = next((bk.name for bk in world.buckets.values()
                             if bk.region == region and bk.account == account), "foreign-bucket")
            status = b.get("status", "RUNNING" if foreign else "PENDING")
            duration = b.get("duration_s")
            if duration is None and foreign:
                duration = 30.0
            if duration is not None and b.get("scaled"):
                duration = float(duration) * float(world.settings["time_factor"])
            if b.get("check_slot") and world.active_in_token(world.token_of(account, region)) is not None:
                return 409, {"error": "LimitExceededException"}
            t = world.create_task(account, region, group, frm, to, dest, b.get("prefix", "exportedlogs"),
                                  name=b.get("name", b.get("task_name", "foreign-export" if foreign else None)),
                                  stream_prefix=b.get("log_stream_prefix"), foreign=foreign, status=status,
                                  duration_s=duration,
                                  creation=model.parse_time(b["creation"], now) if b.get("creation") else None,
                                  fail=({"message": b.get("fail_message", "Export task failed"),
                                         "phase": "running"} if b.get("fail") else None),
                                  write_objects=b.get("write_objects", not foreign or "destination" in b))
            return _task_dict(t)
    if route == "tasks" and m == "GET":
        with world.lock:
            ts = [world.tasks[tid] for tid in world.task_order]
            if q.get("account"):
                ts = [t for t in ts if t.account == q["account"]]
            if q.get("active"):
                ts = [t for t in ts if t.status in ACTIVE]
            return {"tasks": [_task_dict(t) for t in ts]}
    if route == "fail-next":
        with world.lock:
            spec = {"count": int(b.get("count", 1))}
            for k in ("account", "region", "message", "phase"):
                if b.get(k) is not None:
                    spec[k] = str(b[k])
            world.fail_next.append(spec)
            world.event("control", action="fail-next", spec=dict(spec))
            return {"fail_next": world.fail_next}
    if route == "expire-credentials":
        return {"expired": world.expire(b)}
    if route in ("time-factor", "settings"):
        with world.lock:
            if m == "POST":
                if "task_fail_rate" in b:
                    b["task_fail_rate"] = fail_rate(b["task_fail_rate"])  # ValueError -> 400, nothing changed
                if "factor" in b:
                    world.settings["time_factor"] = float(b["factor"])
                for k, v in b.items():
                    if k in world.settings:
                        world.settings[k] = v
                world.event("control", action="settings", settings=b)
            return {"settings": world.settings}
    if route == "reset":
        world.reset()
        return {"ok": True}
    if route == "estimate":
        with world.lock:
            return world.estimate()
    if route == "credentials":
        with world.lock:
            return {"credentials": [{"access_key": c.access_key, "secret": c.secret, "session_token": c.token,
                                     "account": c.account, "expires": c.expires, "arn": c.arn,
                                     "temporary": c.temporary, "role_arn": c.role_arn}
                                    for c in world.creds.values()]}
    if route == "sns":
        with world.lock:
            if m == "DELETE":
                world.sns_messages = []
            return {"messages": list(world.sns_messages)}
    if route == "log-groups":
        with world.lock:
            if m == "POST":
                for g in model.expand_log_groups(b.get("log_groups", [b]), model.now_ms(), world.salt):
                    world.groups[(g.account, g.region, g.name)] = g
                    lst = world.group_index.setdefault((g.account, g.region), [])
                    if g.name not in lst:
                        lst.append(g.name)
                        lst.sort()
            now = model.now_ms()
            return {"log_groups": [{"name": g.name, "account": g.account, "region": g.region,
                                    "creationTime": g.creation, "retentionInDays": g.retention,
                                    "storedBytes": g.stored_bytes(now),
                                    "streams": [s.name for s in g.streams]}
                                   for g in world.groups.values()
                                   if (not q.get("account") or g.account == q["account"])]}
    if route == "bytes":
        with world.lock:
            g = world.groups[(q["account"], q["region"], q["log_group"])]
            now = model.now_ms()
            frm, to = int(q["from"]), int(q["to"])
            return {"bytes": g.bytes_in(frm, to, now),
                    "streams": [s.name for s, a, e in g.streams_with_events(frm, to, now)]}
    if route == "s3/buckets":
        with world.lock:
            if m == "POST":
                bk = Bucket(b)
                world.buckets[bk.name] = bk
            return {"buckets": [{"name": bk.name, "region": bk.region, "account": bk.account,
                                 "objects": len(bk.keys), "read_only": bk.read_only, "deny_write": bk.deny_write}
                                for bk in world.buckets.values()]}
    if route == "s3/objects":
        with world.lock:
            bk = world.buckets.get(q.get("bucket") or b.get("bucket"))
            if bk is None:
                return 404, {"error": "NoSuchBucket"}
            if m == "POST":
                if "body_b64" in b:
                    data = base64.b64decode(b["body_b64"])
                else:
                    data = b.get("body", "").encode()
                bk.put(b["key"], S3Object(data, time.time(), b.get("content_type", "binary/octet-stream"),
                                          writer="control"))
                return {"ok": True}
            if m == "DELETE":
                return {"deleted": bk.delete(q["key"])}
            prefix = q.get("prefix", "")
            return {"objects": [{"key": k, "size": len(bk.objects[k].body), "etag": bk.objects[k].etag,
                                 "writer": bk.objects[k].writer, "last_modified": bk.objects[k].mtime}
                                for k in bk.keys if k.startswith(prefix)]}
    if route == "s3/object":
        with world.lock:
            bk = world.buckets.get(q.get("bucket"))
            o = bk.objects.get(q.get("key")) if bk else None
        if o is None:
            return 404, {"error": "NoSuchKey"}
        h.send_raw(o.body)
        return None
    return 404, {"error": "unknown control route %s %s" % (m, route)}
