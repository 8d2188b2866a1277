"""The fake's world: accounts, credentials, log groups, export tasks, S3, SNS,
faults, timeline, a seeded RNG and a scheduler thread for task timers."""
import base64
import bisect
import hashlib
import heapq
import itertools
import json
import random
import string
import threading
import time
import uuid

from . import model
from .sso import SSOState

ACTIVE = ("PENDING", "RUNNING")
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
STATUS_MESSAGES = {
    "PENDING": "Pending",
    "RUNNING": "Started successfully",
    "COMPLETED": "Completed successfully",
    "CANCELLED": "Cancelled by user",
    "FAILED": "Export task failed",
    "PENDING_CANCEL": "Pending cancellation",
}

DEFAULT_SETTINGS = {
    "token_scope": "account",        # account | region
    "time_factor": 1.0,              # multiplies every export-task duration
    "pending_delay_s": 20.0,         # AWS-seconds a task stays PENDING
    "throughput_bps": 20e6,          # AWS export throughput, bytes/s
    "min_running_s": 5.0,            # AWS-seconds a task runs at least
    "jitter": 0.2,                   # +- fraction, drawn from the seeded RNG
    "credential_ttl_s": None,        # explicit TTL of STS credentials (real seconds)
    "credential_time_factor": 1.0,   # else DurationSeconds x this
    "rng_seed": 1,
    "max_skew_s": 900,
    "s3_wrong_region": "redirect",   # redirect (301) | malformed (400) | ignore
    "s3_conditional_writes": True,   # False: 501 NotImplemented to If-Match / If-None-Match
    "s3_conflict_rate": 0.0,         # share of conditional writes answered 409 ConditionalRequestConflict
    "write_test_at": "create",       # create | complete: when aws-logs-write-test is written
    "timeline_requests": True,       # record every request in the timeline (tasks are always recorded)
    "task_fail_rate": 0.0,           # fraction of new non-foreign tasks that end FAILED (own RNG from rng_seed)
    "describe_log_streams_tps": 5,   # DescribeLogStreams quota per account and region (ThrottlingException past it)
}


def fail_rate(v):
    """task_fail_rate as a float in [0, 1]; ValueError otherwise."""
    r = float(v if v is not None else 0.0)
    if not 0.0 <= r <= 1.0:
        raise ValueError("task_fail_rate must be between 0 and 1, not %r" % (v,))
    return r


class Scheduler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True, name="fakeaws-scheduler")
        self.cv = threading.Condition()
        self.heap = []
        self.seq = itertools.count()
        self.stopped = False

    def at(self, delay_s, fn):
        with self.cv:
            heapq.heappush(self.heap, (time.monotonic() + max(0.0, delay_s), next(self.seq), fn))
            self.cv.notify()

    def clear(self):
        with self.cv:
            self.heap = []
            self.cv.notify()

    def stop(self):
        with self.cv:
            self.stopped = True
            self.cv.notify()

    def run(self):
        while True:
            with self.cv:
                while not self.stopped and (not self.heap or self.heap[0][0] > time.monotonic()):
                    timeout = None if not self.heap else self.heap[0][0] - time.monotonic()
                    self.cv.wait(timeout)
                if self.stopped:
                    return
                _, _, fn = heapq.heappop(self.heap)
            try:
                fn()
            except Exception:  # pragma: no cover - keep the scheduler alive
                import traceback
                traceback.print_exc()


class Cred:
    __slots__ = ("access_key", "secret", "account", "token", "expires", "arn", "user_id", "temporary",
                 "role_arn")

    def __init__(self, access_key, secret, account, token=None, expires=None, arn=None, user_id=None,
                 temporary=False, role_arn=None):
        self.access_key, self.secret, self.account = access_key, secret, account
        self.token, self.expires, self.arn, self.user_id = token, expires, arn, user_id
        self.temporary, self.role_arn = temporary, role_arn


class S3Object:
    __slots__ = ("body", "etag", "mtime", "ctype", "meta", "writer")

    def __init__(self, body, mtime, ctype="binary/octet-stream", meta=None, writer="client"):
        self.body = body
        self.etag = '"%s"' % hashlib.md5(body).hexdigest()
        self.mtime = mtime
        self.ctype = ctype
        self.meta = meta or {}
        self.writer = writer


class Bucket:
    def __init__(self, spec):
        self.name = spec["name"]
        self.region = spec.get("region", "us-east-1")
        self.account = str(spec.get("account", ""))
        self.read_only = bool(spec.get("read_only", False))
        self.deny_write = bool(spec.get("deny_write", False))
        self.deny_read = bool(spec.get("deny_read", False))
        self.allow_accounts = [str(a) for a in spec["allow_accounts"]] if "allow_accounts" in spec else None
        self.objects = {}
        self.keys = []  # sorted
        self.creation = spec.get("created", "2020-01-01")

    def put(self, key, obj):
        if key not in self.objects:
            bisect.insort(self.keys, key)
        self.objects[key] = obj

    def delete(self, key):
        if key in self.objects:
            del self.objects[key]
            i = bisect.bisect_left(self.keys, key)
            if i < len(self.keys) and self.keys[i] == key:
                del self.keys[i]
            return True
        return False

    def allowed(self, account):
        if self.allow_accounts is None:
            return True
        return account == self.account or account in self.allow_accounts


class Task:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def to_api(self):
        d = {
            "taskId": self.task_id,
            "taskName": self.name,
            "logGroupName": self.group,
            "from": self.frm,
            "to": self.to,
            "destination": self.dest,
            "destinationPrefix": self.prefix,
            "status": {"code": self.status, "message": self.message},
            "executionInfo": {"creationTime": self.creation},
        }
        if self.name is None:
            del d["taskName"]
        if self.completion is not None:
            d["executionInfo"]["completionTime"] = self.completion
        return d


def _gen_id(rnd, prefix, n, alphabet=string.ascii_uppercase + string.digits):
    return prefix + "".join(rnd.choice(alphabet) for _ in range(n))


class World:
    def __init__(self, seed, seed_path=None):
        self.lock = threading.RLock()
        self.seed = seed
        self.seed_path = seed_path
        self.scheduler = Scheduler()
        self.scheduler.start()
        self.start_mono = time.monotonic()
        self.reqseq = itertools.count(1)
        self.load(seed)

    # ------------------------------------------------------------------ seed
    def load(self, seed):
        with self.lock:
            self.now0 = model.now_ms()
            self.settings = dict(DEFAULT_SETTINGS)
            self.settings.update(seed.get("settings", {}))
            self.settings["task_fail_rate"] = fail_rate(self.settings["task_fail_rate"])
            self.rng = random.Random(self.settings["rng_seed"])
            # task_fail_rate draws: their own stream, so the outcomes do not shift with other draws
            self.fail_rng = random.Random("task_fail_rate/%s" % (self.settings["rng_seed"],))
            self.salt = str(self.settings["rng_seed"])
            self.accounts = {}
            self.creds = getattr(self, "creds", {}) if getattr(self, "_keep_creds", False) else {}
            for a in seed.get("accounts", []):
                acct = str(a["id"])
                self.accounts[acct] = a
                for k in a.get("keys", []):
                    exp = model.parse_time(k.get("expires"), self.now0) if k.get("expires") else None
                    user = k.get("user", "cwexport")
                    self.creds[k["access_key"]] = Cred(
                        k["access_key"], k["secret"], acct, k.get("session_token"), exp,
                        arn="arn:aws:iam::%s:user/%s" % (acct, user),
                        user_id="AIDA" + hashlib.sha1(k["access_key"].encode()).hexdigest()[:17].upper())
            self.roles = {r["arn"]: r for r in seed.get("roles", [])}
            self.web_tokens = list(seed.get("web_identity_tokens", []))
            self.sso = SSOState(seed.get("sso"))
            self.groups = {}
            self.group_index = {}
            for g in model.expand_log_groups(seed.get("log_groups", []), self.now0, self.salt):
                self.groups[(g.account, g.region, g.name)] = g
            for (a, r, n) in self.groups:
                self.group_index.setdefault((a, r), []).append(n)
            for v in self.group_index.values():
                v.sort()
            self.buckets = {}
            for b in seed.get("buckets", []):
                bk = Bucket(b)
                mt = self.now0 / 1000.0
                for key, body in model.expand_objects(b.get("objects", []), self.now0):
                    bk.put(key, S3Object(body, mt, writer="seed"))
                self.buckets[bk.name] = bk
            self.topics = set(seed.get("sns_topics", []))
            self.sns_auto = bool(seed.get("sns_auto_create", False))
            self.sns_messages = []
            self.tasks = {}
            self.task_order = []
            self.taskseq = itertools.count(1)
            self.timeline = []
            self.evseq = itertools.count(1)
            self.faults = []
            self.fail_next = []  # list of dicts {count, account, region, message, phase}
            self.stats = {"connections": 0, "requests": 0, "by_operation": {}, "by_outcome": {}}
            self.rates = {}
            self.scheduler.clear()

    def reset(self):
        with self.lock:
            creds = {k: c for k, c in self.creds.items() if c.temporary}
            conns = self.stats.get("connections", 0) if hasattr(self, "stats") else 0
            self.load(self.seed)
            self.creds.update(creds)
            self.stats["connections"] = conns

    # ----------------------------------------------------------------- utils
    def mono(self):
        return time.monotonic() - self.start_mono

    def event(self, kind, **kw):
        with self.lock:
            ev = {"seq": next(self.evseq), "kind": kind, "t": round(self.mono(), 6),
                  "wall": round(time.time(), 6)}
            ev.update(kw)
            self.timeline.append(ev)
            return ev

    def token_of(self, account, region):
        a = self.accounts.get(account, {})
        scope = a.get("token_scope", self.settings["token_scope"])
        return account if scope == "account" else "%s/%s" % (account, region)

    def request_id(self):
        n = next(self.reqseq)
        h = hashlib.sha256(("%s-%d" % (self.salt, n)).encode()).hexdigest()
        return str(uuid.UUID(h[:32]))

    # ------------------------------------------------------------ credentials
    def issue_credentials(self, account, arn, user_id, duration_s, role_arn):
        with self.lock:
            ttl = self.settings.get("credential_ttl_s")
            if ttl is None:
                ttl = duration_s * float(self.settings.get("credential_time_factor", 1.0))
            ak = _gen_id(self.rng, "ASIA", 16)
            secret = "".join(self.rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(40))
            token = "FwoGZXIvYXdzE" + base64.b64encode(bytes(self.rng.getrandbits(8) for _ in range(96))).decode()
            exp = model.now_ms() + int(float(ttl) * 1000)
            c = Cred(ak, secret, account, token, exp, arn, user_id, temporary=True, role_arn=role_arn)
            self.creds[ak] = c
            return c

    def expire(self, spec):
        with self.lock:
            n = 0
            now = model.now_ms()
            for c in self.creds.values():
                hit = False
                if spec.get("access_key") and c.access_key == spec["access_key"]:
                    hit = True
                if spec.get("session_token") and c.token == spec["session_token"]:
                    hit = True
                if spec.get("role_arn") and c.role_arn == spec["role_arn"]:
                    hit = True
                if spec.get("account") and c.account == str(spec["account"]) and (c.temporary or spec.get("include_base")):
                    hit = True
                if spec.get("all_temporary") and c.temporary:
                    hit = True
                if hit:
                    c.expires = now - 1
                    n += 1
            self.event("control", action="expire-credentials", spec=spec, count=n)
            return n

    # ----------------------------------------------------------------- tasks
    def _duration(self, bytes_):
        s = self.settings
        j = float(s["jitter"])
        f = 1.0 + (self.rng.uniform(-j, j) if j > 0 else 0.0)
        pending = float(s["pending_delay_s"]) * f
        running = max(float(s["min_running_s"]), bytes_ / float(s["throughput_bps"])) * f
        tf = float(s["time_factor"])
        return pending * tf, running * tf

    def active_in_token(self, token):
        for tid in reversed(self.task_order):
            t = self.tasks[tid]
            if t.token == token and t.status in ACTIVE:
                return t
        return None

    def new_task_id(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def task_event(self, t, **extra):
        self.event("task", task_id=t.task_id, state=t.status, account=t.account, region=t.region,
                   token=t.token, log_group=t.group, **{"from": t.frm, "to": t.to},
                   task_name=t.name, destination=t.dest, prefix=t.prefix, foreign=t.foreign, **extra)

    def create_task(self, account, region, group, frm, to, dest, prefix, name=None, stream_prefix=None,
                    foreign=False, status="PENDING", duration_s=None, creation=None, fail=None,
                    write_objects=True):
        """Create and schedule a task.  Caller checks the slot."""
        with self.lock:
            tid = self.new_task_id()
            token = self.token_of(account, region)
            g = self.groups.get((account, region, group))
            if fail is None and not foreign:
                fail = self._take_fail(account, region)
                if self._draw_fail_rate(status) and fail is None:
                    fail = {"message": STATUS_MESSAGES["FAILED"], "phase": "running"}
            t = Task(task_id=tid, name=name, account=account, region=region, group=group, frm=frm, to=to,
                     dest=dest, prefix=prefix, stream_prefix=stream_prefix, status=status,
                     message=STATUS_MESSAGES.get(status, status), creation=creation or model.now_ms(),
                     completion=None, seq=next(self.taskseq), foreign=foreign, token=token, fail=fail,
                     gen=0, write_objects=write_objects, bytes=0)
            if status in TERMINAL:
                t.completion = model.now_ms()
            self.tasks[tid] = t
            self.task_order.append(tid)
            bytes_ = g.bytes_in(frm, to, model.now_ms()) if g else 0
            t.bytes = bytes_
            if duration_s is not None:
                pend, run = 0.0, float(duration_s)
                if status == "PENDING":
                    pend, run = float(duration_s) * 0.1, float(duration_s) * 0.9
            else:
                pend, run = self._duration(bytes_)
            t.planned = (pend, run)
            self.task_event(t, bytes=bytes_, planned_s=round(pend + run, 6))
            if status in ACTIVE and write_objects and self.settings["write_test_at"] == "create":
                self._write_test(t)
            if status == "PENDING":
                self.scheduler.at(pend, lambda: self._advance(tid, 0, "RUNNING", run))
            elif status == "RUNNING":
                self.scheduler.at(pend + run, lambda: self._advance(tid, 0, "END", 0))
            elif status == "COMPLETED" and write_objects:
                self._write_exports(t)
            return t

    def _take_fail(self, account, region):
        for f in self.fail_next:
            if f.get("account") and str(f["account"]) != account:
                continue
            if f.get("region") and f["region"] != region:
                continue
            f["count"] -= 1
            if f["count"] <= 0:
                self.fail_next.remove(f)
            return {"message": f.get("message", "Export task failed"), "phase": f.get("phase", "running")}
        return None

    def _draw_fail_rate(self, status):
        """One draw from fail_rng per new active task while task_fail_rate > 0 (also when a
        fail-next spec already decided this task, so the n-th task's draw stays the same)."""
        p = float(self.settings.get("task_fail_rate") or 0.0)
        if p <= 0 or status not in ACTIVE:
            return False
        return self.fail_rng.random() < p

    def _advance(self, tid, gen, what, run_s):
        with self.lock:
            t = self.tasks.get(tid)
            if t is None or t.gen != gen or t.status not in ACTIVE:
                return
            if what == "RUNNING":
                if t.fail and t.fail.get("phase") == "pending":
                    return self._finish(t, "FAILED", t.fail["message"])
                t.status, t.message = "RUNNING", STATUS_MESSAGES["RUNNING"]
                self.task_event(t)
                self.scheduler.at(run_s, lambda: self._advance(tid, gen, "END", 0))
            else:
                if t.fail:
                    return self._finish(t, "FAILED", t.fail["message"])
                if t.write_objects:
                    if self.settings["write_test_at"] != "create":
                        self._write_test(t)
                    self._write_exports(t)
                self._finish(t, "COMPLETED", STATUS_MESSAGES["COMPLETED"])

    def _finish(self, t, status, message):
        t.status, t.message = status, message
        t.completion = model.now_ms()
        t.gen += 1
        self.task_event(t)

    def cancel_task(self, t):
        with self.lock:
            self._finish(t, "CANCELLED", STATUS_MESSAGES["CANCELLED"])

    def _key(self, t, rest):
        return (t.prefix.rstrip("/") + "/" + rest) if t.prefix else rest

    def _write_test(self, t):
        b = self.buckets.get(t.dest)
        if b is None:
            return
        b.put(self._key(t, "aws-logs-write-test"),
              S3Object(b"Permission Check Successful", time.time(), "application/octet-stream",
                       writer="logs"))

    def _write_exports(self, t):
        b = self.buckets.get(t.dest)
        g = self.groups.get((t.account, t.region, t.group))
        if b is None or g is None:
            return
        now = model.now_ms()
        for s, a, e in g.streams_with_events(t.frm, t.to, now, t.stream_prefix):
            body = g.export_object(s, a, e, t.frm, t.to)
            b.put(self._key(t, "%s/%s/000000.gz" % (t.task_id, s.name)),
                  S3Object(body, time.time(), "application/octet-stream", writer="logs"))

    # ---------------------------------------------------------------- faults
    def set_faults(self, body):
        with self.lock:
            rules = body.get("rules")
            if rules is None:
                rules = [body] if body else []
            if not body.get("append"):
                self.faults = []
            for r in rules:
                r = dict(r)
                r.setdefault("hits", 0)
                self.faults.append(r)
            self.event("control", action="faults", rules=rules)
            return self.faults

    def matching_faults(self, service, op, account, region):
        out = []
        for r in self.faults:
            if r.get("services") and service not in r["services"]:
                continue
            if r.get("operations") and op not in r["operations"]:
                continue
            if r.get("accounts") and account not in [str(a) for a in r["accounts"]]:
                continue
            if r.get("regions") and region not in r["regions"]:
                continue
            if r.get("max_hits") is not None and r["hits"] >= int(r["max_hits"]):
                continue
            out.append(r)
        return out

    def draw(self, p):
        with self.lock:
            p = float(p or 0)
            if p <= 0:
                return False
            if p >= 1:
                return True
            return self.rng.random() < p

    def rate_ok(self, op, account, region, tps):
        """A per-(op, account, region) quota of tps calls a second: a token bucket of
        tps tokens refilled at tps a second (a burst of tps calls passes)."""
        with self.lock:
            if tps <= 0:
                return True
            now = time.monotonic()
            tokens, last = self.rates.get((op, account, region), (tps, now))
            tokens = min(tps, tokens + (now - last) * tps)
            if tokens < 1.0:
                self.rates[(op, account, region)] = (tokens, now)
                return False
            self.rates[(op, account, region)] = (tokens - 1.0, now)
            return True

    def count(self, op, outcome):
        with self.lock:
            self.stats["requests"] += 1
            self.stats["by_operation"][op] = self.stats["by_operation"].get(op, 0) + 1
            self.stats["by_outcome"][outcome] = self.stats["by_outcome"].get(outcome, 0) + 1

    def estimate(self):
        """Serialized export time per token for exporting every month of every group."""
        now = model.now_ms()
        out = {}
        for (a, r, n), g in self.groups.items():
            tok = self.token_of(a, r)
            lo = max(g.creation, now - int(g.retention) * model.DAY_MS if g.retention else 0)
            d = __import__("datetime").datetime.fromtimestamp(lo / 1000, __import__("datetime").timezone.utc)
            y, m = d.year, d.month
            tot = out.setdefault(tok, {"tasks": 0, "seconds": 0.0, "bytes": 0})
            while model.month_start_ms(y, m) < now:
                ny, nm = model.next_month(y, m)
                frm, to = model.month_start_ms(y, m), model.month_start_ms(ny, nm) - 1
                b = g.bytes_in(frm, to, now)
                s = self.settings
                tot["tasks"] += 1
                tot["bytes"] += b
                tot["seconds"] += (float(s["pending_delay_s"]) + max(float(s["min_running_s"]),
                                   b / float(s["throughput_bps"]))) * float(s["time_factor"])
                y, m = ny, nm
        return out


def b64token(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def unb64token(s):
    pad = "=" * (-len(s) % 4)
    return json.loads(base64.urlsafe_b64decode(s + pad).decode())
