"""A small HTTP/1.1 server for the transport's unit tests (tests/unit/test_http.c).

    /usr/bin/python3 http_echo_server.py --ready-file F [--tls]

Listens on 127.0.0.1 (a free port; with --tls a second, HTTPS listener with a
self-signed CA made by tests/fakeaws) and writes F.json once ready:
{"url": ..., "tls_url": ..., "ca_file": ..., "pid": ...}.

Routes (any method):
  /echo            200, JSON {method, path, headers, body, conn}; AWS-like headers
  /status/CODE     that status; ?body=TEXT as the body; ?ctype=...
  /big/N           N bytes of 'x' (Content-Length set)
  /chunked/N       N chunks of 1000 bytes, chunked transfer encoding
  /slow/MS         waits MS ms, then 200 "slow"
  /reset           closes the connection with a TCP RST, no answer
  /stats           {"connections": accepted connections so far}
Every answer carries X-Conn: the serial number of its TCP connection.
"""
import argparse
import json
import os
import signal
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
STATE = {"connections": 0, "requests": 0}
CONN_IDS = {}  # id(socket) -> serial number of the connection
LOCK = threading.RLock()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    ssl_context = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def process_request(self, request, client_address):
        with LOCK:
            STATE["connections"] += 1
            CONN_IDS[id(request)] = STATE["connections"]
        super().process_request(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        if hasattr(self.request, "do_handshake"):
            self.request.settimeout(self.timeout)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.close_connection = True
                raise
        super().setup()

    def finish(self):
        try:
            super().finish()
        finally:
            with LOCK:
                CONN_IDS.pop(id(self.request), None)

    def _conn(self):
        with LOCK:
            return CONN_IDS.get(id(self.request), 0)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body=b"", ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Conn", str(self._conn()))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        with LOCK:
            STATE["requests"] += 1
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        parts = [p for p in u.path.split("/") if p]
        body = self._body()
        route = parts[0] if parts else ""
        if route == "echo":
            doc = {"method": self.command, "path": self.path,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": body.decode("utf-8", "replace"), "conn": self._conn()}
            return self._send(200, json.dumps(doc).encode(), extra=(
                ("x-amzn-RequestId", "req-%d" % STATE["requests"]),
                ("Date", formatdate(usegmt=True)),
                ("ETag", '"etag-1"'),
                ("x-amz-bucket-region", "eu-west-1")))
        if route == "status":
            code = int(parts[1])
            text = q.get("body", "").encode()
            return self._send(code, text, ctype=q.get("ctype", "application/xml"),
                              extra=(("x-amz-request-id", "s3req-%d" % code),))
        if route == "big":
            return self._send(200, b"x" * int(parts[1]), ctype="application/octet-stream")
        if route == "chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("X-Conn", str(self._conn()))
            self.end_headers()
            for _ in range(int(parts[1])):
                self.wfile.write(b"3e8\r\n" + b"y" * 1000 + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        if route == "slow":
            time.sleep(int(parts[1]) / 1000.0)
            return self._send(200, b"slow", ctype="text/plain")
        if route == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if route == "stats":
            with LOCK:
                return self._send(200, json.dumps(STATE).encode())
        return self._send(404, b'{"error": "no route"}')

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--tls", action="store_true")
    a = ap.parse_args()
    servers = [Server(("127.0.0.1", 0), Handler)]
    info = {"pid": os.getpid(), "url": "http://127.0.0.1:%d" % servers[0].server_address[1]}
    if a.tls:
        sys.path.insert(0, os.path.join(HERE, "..", "fakeaws"))
        from fakeaws.__main__ import make_tls  # noqa: E402
        tmp = tempfile.mkdtemp(prefix="cwx-echo-tls-")
        ca, crt, key = make_tls(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        s = Server(("127.0.0.1", 0), Handler)
        s.ssl_context = ctx
        servers.append(s)
        info["tls_url"] = "https://127.0.0.1:%d" % s.server_address[1]
        info["ca_file"] = ca
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    tmp_ready = a.ready_file + ".json.tmp"
    with open(tmp_ready, "w") as f:
        json.dump(info, f)
    os.rename(tmp_ready, a.ready_file + ".json")
    while not done.wait(0.1):
        pass
    for s in servers:
        s.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
