"""python3 -m fakeaws --seed SEED.json [--port 0] [--ready-file F] [--tls] [--time-factor X]"""
import argparse
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading

from .server import FakeServer
from .state import World


def make_tls(tmpdir):
    """Self-signed CA + server certificate for 127.0.0.1/localhost, made with the openssl CLI."""
    ca_key, ca_crt = os.path.join(tmpdir, "ca.key"), os.path.join(tmpdir, "ca.pem")
    key, csr, crt = (os.path.join(tmpdir, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(tmpdir, "ext.cnf")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:*.localhost,DNS:*.s3.localhost\n")
    run = lambda *a: subprocess.run(["/usr/bin/openssl"] + list(a), check=True, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "2",
        "-subj", "/CN=fakeaws test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
        "-days", "2", "-extfile", ext)
    return ca_crt, crt, key


def main(argv=None):
    ap = argparse.ArgumentParser(prog="fakeaws", description=__doc__)
    ap.add_argument("--seed", required=True, help="seed JSON file")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file", help="written (URL on the first line) once listening; F.json gets details")
    ap.add_argument("--tls", action="store_true", help="HTTPS with a generated self-signed CA")
    ap.add_argument("--time-factor", type=float, help="override settings.time_factor")
    ap.add_argument("--rng-seed", type=int, help="override settings.rng_seed")
    ap.add_argument("--estimate", action="store_true", help="print serialized export time per token and exit")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    with open(a.seed) as f:
        seed = json.load(f)
    seed.setdefault("settings", {})
    if a.time_factor is not None:
        seed["settings"]["time_factor"] = a.time_factor
    if a.rng_seed is not None:
        seed["settings"]["rng_seed"] = a.rng_seed
    world = World(seed, a.seed)
    if a.estimate:
        print(json.dumps(world.estimate(), indent=2))
        return 0
    scheme = "https" if a.tls else "http"
    srv = FakeServer(("127.0.0.1", a.port), world, verbose=a.verbose, scheme=scheme)
    info = {"pid": os.getpid(), "port": srv.server_address[1], "tls": a.tls}
    tmp = None
    if a.tls:
        tmp = tempfile.mkdtemp(prefix="fakeaws-tls-")
        ca, crt, key = make_tls(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        srv.ssl_context = ctx
        info["ca_file"] = ca
    url = "%s://127.0.0.1:%d" % (scheme, info["port"])
    info["url"] = url
    done = threading.Event()

    def stop(signum, frame):
        if not done.is_set():
            done.set()
            threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(url, flush=True)
    if a.tls:
        print("ca=%s" % info["ca_file"], flush=True)
    if a.ready_file:
        for path, text in ((a.ready_file + ".json", json.dumps(info)), (a.ready_file, url + "\n")):
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.replace(path + ".tmp", path)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        world.scheduler.stop()
        if tmp:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
