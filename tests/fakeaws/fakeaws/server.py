"""HTTP front: routing by SigV4 credential scope, auth, faults, timeline."""
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import control, logs, model, monitoring, query, s3, sigv4, sso
from .proto import (AUTH_ERRORS, JSON_CT, PROTOCOL, SIG_MSG, XML_CT, ApiError, Resp, host_id, json_error,
                    query_error, s3_error)


class Abort(Exception):
    """The connection was dropped on purpose (fault injection)."""


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr, world, verbose=False, scheme="http"):
        self.world = world
        self.verbose = verbose
        self.scheme = scheme
        self.active_conns = 0
        self.conn_lock = threading.Lock()
        super().__init__(addr, Handler)

    ssl_context = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def process_request(self, request, client_address):
        with self.world.lock:
            self.world.stats["connections"] += 1
        super().process_request(request, client_address)


class Ctx:
    def __init__(self):
        self.service = None
        self.op = "Unknown"
        self.account = None
        self.region = None
        self.access_key = None
        self.cred = None
        self.fault = None
        self.request_id = None
        self.bucket = None
        self.key = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 300
    server_version = "Server"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fakeaws: %s\n" % (fmt % args))

    def version_string(self):
        return self._server_header if hasattr(self, "_server_header") else "Server"

    def setup(self):
        try:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if hasattr(self.request, "do_handshake"):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()
        with self.server.conn_lock:
            self.server.active_conns += 1

    def finish(self):
        try:
            super().finish()
        finally:
            with self.server.conn_lock:
                self.server.active_conns -= 1

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = lambda self: self.handle_any()

    # ------------------------------------------------------------------ io
    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline(65537)
            return bytes(out)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def reset_connection(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True
        raise Abort()

    def send(self, r, ctx, head=False, malformed=None):
        self._server_header = "AmazonS3" if ctx.service == "s3" else "Server"
        status, body, headers = r.status, r.body, list(r.headers)
        if malformed:
            status, body, headers = self.malform(malformed, ctx, status, body, headers)
            mode = malformed.get("mode")
            if mode == "endless":
                return self.send_endless(status, headers, ctx, malformed)
            if mode == "short_body":
                self.close_connection = True
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                return self.reset_connection()
        self.send_response(status)
        if ctx.service == "s3":
            self.send_header("x-amz-request-id", ctx.request_id[:16].replace("-", "").upper())
            self.send_header("x-amz-id-2", host_id(ctx.request_id))
        elif ctx.request_id:
            self.send_header("x-amzn-RequestId", ctx.request_id)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        drip = malformed and malformed.get("mode") == "slow_drip"
        if head or self.command == "HEAD" or drip:
            self.end_headers()
        else:  # headers and body in one write
            self._headers_buffer.append(b"\r\n")
            self._headers_buffer.append(body)
            self.flush_headers()
            return
        if head or self.command == "HEAD":
            return
        if drip:
            interval = float(malformed.get("drip_ms", 50)) / 1000.0
            chunk = int(malformed.get("drip_bytes", 1))
            deadline = time.monotonic() + float(malformed.get("max_s", 60))
            for i in range(0, len(body), chunk):
                self.wfile.write(body[i:i + chunk])
                self.wfile.flush()
                if time.monotonic() > deadline:
                    self.close_connection = True
                    return
                time.sleep(interval)
            return
        self.wfile.write(body)

    def send_endless(self, status, headers, ctx, m):
        self.close_connection = True
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(1 << 40))
        self.end_headers()
        deadline = time.monotonic() + float(m.get("max_s", 30))
        chunk = (b"{\"exportTasks\": [" if ctx.service == "logs" else b"<Contents>") + b" " * 16000
        try:
            while time.monotonic() < deadline:
                self.wfile.write(chunk)
                time.sleep(float(m.get("interval_ms", 10)) / 1000.0)
        except OSError:
            pass

    def malform(self, m, ctx, status, body, headers):
        mode = m.get("mode")
        proto = PROTOCOL.get(ctx.service, "json")
        ct = [h for h in headers if h[0].lower() != "content-type"]
        if mode in ("truncated", "truncated_json"):
            return status, body[: max(1, len(body) // 2)], headers
        if mode == "invalid_xml":
            return 200, b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Result><Broken attr=></Result', \
                ct + [("Content-Type", XML_CT if proto != "json" else JSON_CT)]
        if mode == "invalid_json":
            return 200, b'{"exportTasks": [{"taskId": "x", }', ct + [("Content-Type", JSON_CT)]
        if mode == "error_200":
            e = ApiError("InternalError" if proto == "rest-xml" else "InternalFailure",
                         "We encountered an internal error. Please try again.", 200, sender=False)
            if proto == "json":
                r = json_error(e)
            elif proto == "rest-xml":
                r = s3_error(e, ctx.request_id, host_id(ctx.request_id))
            else:
                r = query_error(ctx.service, e, ctx.request_id)
            return 200, r.body, ct + [h for h in r.headers if h[0].lower() == "content-type"]
        if mode == "wrong_content_type":
            return 200, b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>", \
                ct + [("Content-Type", "text/html; charset=utf-8")]
        if mode == "empty_200":
            return 200, b"", ct
        return status, body, headers

    # ------------------------------------------------------------- dispatch
    def handle_any(self):
        world = self.server.world
        t0 = time.monotonic()
        body = self.read_body()
        parts = urlsplit(self.path)
        raw_path, raw_query = parts.path or "/", parts.query
        if raw_path.startswith("/_fake/") or raw_path == "/_fake":
            return control.handle(self, world, raw_path, raw_query, body)
        ctx = Ctx()
        ctx.request_id = world.request_id()
        qpairs = sigv4.parse_query_pairs(raw_query)
        sso_route = sso.route(raw_path, self.headers, qpairs)
        if sso_route:
            return self.handle_sso(world, ctx, sso_route, qpairs, body, t0)
        q = dict(qpairs)
        auth_err = None
        try:
            info = sigv4.parse_auth(self.headers, qpairs)
        except sigv4.AuthError as e:
            info, auth_err = None, e
        form = {}
        ctype = (self.headers.get("Content-Type") or "").lower()
        if info is not None and info.service:
            ctx.service = info.service
        else:
            target = self.headers.get("X-Amz-Target", "")
            if target.startswith("Logs_"):
                ctx.service = "logs"
            elif self.command == "POST" and "x-www-form-urlencoded" in ctype or "Action" in q:
                form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                act = form.get("Action") or q.get("Action")
                ctx.service = ("sns" if act in query.SNS_ACTIONS else
                               "monitoring" if act in monitoring.ACTIONS else "sts")
            else:
                ctx.service = "s3"
        if info is not None:
            ctx.region, ctx.access_key = info.region, info.access_key
            with world.lock:
                c = world.creds.get(info.access_key)
            if c is not None:
                ctx.account = c.account
        proto = PROTOCOL.get(ctx.service)
        head = self.command == "HEAD"
        # operation
        try:
            if proto == "json":
                target = self.headers.get("X-Amz-Target", "")
                ctx.op = target.split(".", 1)[1] if target.startswith("Logs_20140328.") else target or "Unknown"
            elif proto == "query":
                if not form:
                    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                for k, v in qpairs:
                    if k not in form and not k.startswith("X-Amz-"):
                        form[k] = v
                ctx.op = form.get("Action", "Unknown")
            elif proto == "rest-xml":
                ctx.bucket, ctx.key = s3.split(self.headers.get("Host", ""), raw_path)
                ctx.op = s3.operation(self.command, ctx.bucket, ctx.key, q)
        except Exception:
            ctx.op = "Unknown"
        resp = None
        malformed = None
        after = []
        try:
            if proto is None:
                raise ApiError("UnknownService", "The service %r is not provided by this fake" % ctx.service, 400)
            rules = world.matching_faults(ctx.service, ctx.op, ctx.account, ctx.region)
            # pre-auth faults: latency, connection reset
            for r in rules:
                if r.get("latency_ms") and world.draw(r.get("latency_rate", 1.0)):
                    self._hit(world, r, ctx, "latency")
                    time.sleep(float(r["latency_ms"]) / 1000.0)
                if r.get("reset_rate") and r.get("reset_when", "before") == "before" and world.draw(r["reset_rate"]):
                    self._hit(world, r, ctx, "reset")
                    self.record(world, ctx, 0, "connection_reset", t0)
                    self.reset_connection()
            if auth_err is not None:
                raise auth_err
            self.authenticate(world, ctx, info, raw_path, qpairs, body, form)
            for r in rules:
                if r.get("throttle_rate") and world.draw(r["throttle_rate"]):
                    self._hit(world, r, ctx, "throttle")
                    raise self.throttle_error(ctx, r)
                if r.get("error_rate") and not r.get("error_after") and world.draw(r["error_rate"]):
                    self._hit(world, r, ctx, "error")
                    raise self.server_error(ctx, r)
                if r.get("error_rate") and r.get("error_after") and world.draw(r["error_rate"]):
                    after.append(("error", r))
                if r.get("reset_rate") and r.get("reset_when") == "after" and world.draw(r["reset_rate"]):
                    after.append(("reset", r))
                if r.get("malformed") and world.draw(r.get("malformed_rate", 1.0)):
                    self._hit(world, r, ctx, "malformed:" + str(r["malformed"]))
                    malformed = dict(r, mode=r["malformed"])
            resp = self.dispatch(world, ctx, proto, raw_path, q, body, form)
            for kind, r in after:
                self._hit(world, r, ctx, kind + "_after")
                if kind == "reset":
                    self.record(world, ctx, 0, "connection_reset_after", t0, resp.task_id)
                    self.reset_connection()
                if kind == "error":
                    tid = resp.task_id
                    resp = self.error_resp(ctx, proto, self.server_error(ctx, r), head)
                    resp.task_id = tid
        except Abort:
            raise
        except sigv4.AuthError as e:
            resp = self.auth_error_resp(ctx, proto or "json", e, head)
        except ApiError as e:
            resp = self.error_resp(ctx, proto or "json", e, head)
        except Exception as e:  # a bug in the fake: answer as AWS would for an internal error
            import traceback
            traceback.print_exc()
            resp = self.error_resp(ctx, proto or "json", ApiError(
                "InternalError" if proto == "rest-xml" else "InternalFailure",
                "fakeaws internal error: %s" % e, 500, sender=False), head)
        if malformed and malformed.get("mode") in ("endless",):
            self.record(world, ctx, resp.status, "malformed:endless", t0, resp.task_id)
        try:
            self.send(resp, ctx, head=head, malformed=malformed)
        finally:
            if not (malformed and malformed.get("mode") == "endless"):
                self.record(world, ctx, resp.status, resp.code or "ok", t0, resp.task_id)

    def handle_sso(self, world, ctx, route, qpairs, body, t0):
        """IAM Identity Center: unsigned REST-JSON; faults by service "sso" / "sso-oidc"."""
        ctx.service, ctx.op = route
        try:
            for r in world.matching_faults(ctx.service, ctx.op, None, None):
                if r.get("throttle_rate") and world.draw(r["throttle_rate"]):
                    self._hit(world, r, ctx, "throttle")
                    raise sso.SSOError("TooManyRequestsException", "Rate exceeded", 429)
                if r.get("error_rate") and world.draw(r["error_rate"]):
                    self._hit(world, r, ctx, "error")
                    raise sso.SSOError("InternalServerException", "Service error injected by fakeaws",
                                       int(r.get("error_status", 500)), "server_error")
            with world.lock:
                resp = sso.handle(world, ctx.op, self.command, dict(qpairs), self.headers, body)
        except ApiError as e:
            if not isinstance(e, sso.SSOError):
                e = sso.SSOError(e.code, e.message, e.status)
            resp = sso.error_resp(e)
        try:
            self.send(resp, ctx)
        finally:
            self.record(world, ctx, resp.status, resp.code or "ok", t0)

    def _hit(self, world, r, ctx, kind):
        with world.lock:
            r["hits"] = r.get("hits", 0) + 1
        ctx.fault = kind

    def record(self, world, ctx, status, outcome, t0, task_id=None):
        world.count(ctx.op, outcome)
        if not world.settings.get("timeline_requests", True):
            return
        world.event("request", service=ctx.service, op=ctx.op, account=ctx.account, region=ctx.region,
                    access_key=ctx.access_key, status=status, outcome=outcome, task_id=task_id,
                    fault=ctx.fault, bucket=ctx.bucket, key=ctx.key,
                    duration_ms=round((time.monotonic() - t0) * 1000, 3), request_id=ctx.request_id)

    def throttle_error(self, ctx, r):
        proto = PROTOCOL[ctx.service]
        if r.get("throttle_code"):
            return ApiError(r["throttle_code"], "Rate exceeded", int(r.get("throttle_status", 400)))
        if proto == "json":
            return ApiError("ThrottlingException", "Rate exceeded", 400)
        if proto == "rest-xml":
            return ApiError("SlowDown", "Please reduce your request rate.", 503, sender=False)
        return ApiError("Throttling", "Rate exceeded", 400)

    def server_error(self, ctx, r):
        proto = PROTOCOL[ctx.service]
        status = int(r.get("error_status", 500 if proto != "rest-xml" else 500))
        if r.get("error_code"):
            return ApiError(r["error_code"], "Service error injected by fakeaws", status, sender=False)
        if proto == "json":
            return ApiError("ServiceUnavailableException", "The service cannot complete the request.", status,
                            sender=False)
        if proto == "rest-xml":
            return ApiError("InternalError" if status == 500 else "ServiceUnavailable",
                            "We encountered an internal error. Please try again.", status, sender=False)
        return ApiError("InternalFailure" if status == 500 else "ServiceUnavailable",
                        "The request processing has failed because of an unknown error, exception or failure.",
                        status, sender=False)

    def error_resp(self, ctx, proto, e, head=False):
        if proto == "json":
            return json_error(e)
        if proto == "rest-xml":
            return s3_error(e, ctx.request_id, host_id(ctx.request_id), head=head)
        return query_error(ctx.service, e, ctx.request_id)

    def auth_error_resp(self, ctx, proto, e, head):
        code, status, msg = AUTH_ERRORS[proto][e.kind]
        extra = {}
        if msg is None:
            msg = e.message
        if e.kind == "signature":
            if proto == "rest-xml":
                extra = {"AWSAccessKeyId": ctx.access_key or "", "StringToSign": e.extra.get("string_to_sign", ""),
                         "CanonicalRequest": e.extra.get("canonical", "")}
            else:
                msg = "%s\n\nThe Canonical String for this request should have been\n'%s'\n\nThe String-to-Sign " \
                      "should have been\n'%s'\n" % (SIG_MSG, e.extra.get("canonical", ""),
                                                     e.extra.get("string_to_sign", ""))
        elif e.kind in ("skew", "presign_expired") and proto != "rest-xml":
            rt = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(e.extra["request_time"]))
            st = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(e.extra["server_time"]))
            lim = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(e.extra["server_time"] - 900))
            if e.extra["request_time"] > e.extra["server_time"]:
                lim = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(e.extra["server_time"] + 900))
                msg = "Signature not yet current: %s is still later than %s (%s + 15 min.)" % (rt, lim, st)
            else:
                msg = "Signature expired: %s is now earlier than %s (%s - 15 min.)" % (rt, lim, st)
        elif e.kind == "skew":
            extra = {"RequestTime": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(e.extra["request_time"])),
                     "ServerTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e.extra["server_time"])),
                     "MaxAllowedSkewMilliseconds": "900000"}
        elif e.kind == "unknown_key" and proto == "rest-xml":
            extra = {"AWSAccessKeyId": ctx.access_key or ""}
        elif e.kind == "content_sha256":
            extra = {"ClientComputedContentSHA256": e.extra.get("client", ""),
                     "S3ComputedContentSHA256": e.extra.get("server", "")}
        err = ApiError(code, msg, status, extra, coral=(proto == "json"))
        return self.error_resp(ctx, proto, err, head)

    def authenticate(self, world, ctx, info, raw_path, qpairs, body, form):
        if info is None or info.form is None:
            if ctx.service == "sts" and ctx.op in query.UNSIGNED_ACTIONS:
                return
            raise sigv4.AuthError("missing", "")
        with world.lock:
            c = world.creds.get(info.access_key)
        if c is None:
            raise sigv4.AuthError("unknown_key", "")
        if (c.token or None) != (info.token or None):
            raise sigv4.AuthError("invalid_token", "")
        now = time.time()
        sigv4.verify(info, c.secret, info.token, self.command, self.server.scheme, raw_path, qpairs, self.headers,
                     body, now=now, max_skew=float(world.settings.get("max_skew_s", 900)))
        if c.expires is not None and model.now_ms() >= c.expires:
            raise sigv4.AuthError("expired_token", "")
        ctx.cred = c
        ctx.account = c.account

    def dispatch(self, world, ctx, proto, raw_path, q, body, form):
        if proto == "json":
            if self.command != "POST" or raw_path != "/":
                raise ApiError("UnknownOperationException", "", 400, coral=True)
            try:
                return logs.handle(world, ctx.op, body, ctx.account, ctx.region)
            except ApiError as e:
                if e.code == "UnknownOperationException":
                    e.coral = True
                raise
        if proto == "query":
            if ctx.service == "sts":
                return query.handle_sts(world, ctx.op, form, ctx.cred, ctx.region, ctx.request_id)
            if ctx.service == "monitoring":
                return monitoring.handle(world, ctx.op, form, ctx.cred, ctx.region, ctx.request_id)
            return query.handle_sns(world, ctx.op, form, ctx.cred, ctx.region, ctx.request_id)
        return s3.handle(world, ctx.op, self.command, ctx.bucket, ctx.key, q, self.headers, body, ctx.account,
                         ctx.region)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except Abort:
            self.close_connection = True
        except (ConnectionError, BrokenPipeError, socket.timeout):
            self.close_connection = True

    def send_json(self, obj, status=200):
        body = json.dumps(obj, indent=None, default=str).encode()
        self._server_header = "fakeaws"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()

    def send_raw(self, data, ctype="application/octet-stream", status=200):
        self._server_header = "fakeaws"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(data)
        self.flush_headers()
