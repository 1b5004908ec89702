#!/usr/bin/env python3
"""Decoy sidecars: listeners that count what reaches them, for the tests that
prove a client reaches only the daemon it was told about.

Each spec is udp:HOST:PORT, http:HOST:PORT (answers every request 202, like
a sidecar that took the event) or unix:PATH (a unix datagram socket). A spec
that cannot be bound is skipped with the reason: an address another process
holds (after retrying for a few seconds), a socket path that already exists
(never replaced: it may be a running sidecar's), a directory we may not
write.

As a program (the Node tests): python3 decoys.py SPEC...; it prints one JSON
line {"bound": [...], "skipped": {spec: reason}}, then answers each line
"counts" on stdin with {"counts": {spec: n}}, and on EOF removes its sockets
and exits. From Python: Decoys(specs), .counts(), .close().
"""

import errno
import http.server
import json
import os
import socket
import sys
import threading
import time

BIND_RETRY_SECONDS = 5.0


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.server.decoy_hit()
        body = b'{"accepted":1,"trace_ids":["decoy"]}'
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET = do_PUT = _answer

    def log_message(self, *args):
        pass


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR: a port left in TIME_WAIT by an earlier run binds; one
    # another process listens on still does not (Linux)
    allow_reuse_address = True


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class Decoys:
    def __init__(self, specs):
        self._lock = threading.Lock()
        self._counts = {}
        self._closers = []
        self._paths = []
        self.bound = []
        self.skipped = {}
        for spec in specs:
            try:
                self._bind(spec)
            except OSError as e:
                self.skipped[spec] = "%s: %s" % (spec, e.strerror or e)
                continue
            self._counts[spec] = 0
            self.bound.append(spec)

    def _hit(self, spec):
        with self._lock:
            self._counts[spec] += 1

    def _bind(self, spec):
        kind, _, addr = spec.partition(":")
        if kind == "unix":
            if os.path.lexists(addr):
                raise OSError(errno.EEXIST, "exists; not ours to replace")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                s.bind(addr)
            except OSError:
                s.close()
                raise
            os.chmod(addr, 0o666)
            self._paths.append(addr)
            self._serve_dgram(spec, s)
            return
        host, _, port = addr.rpartition(":")
        host = host.strip("[]")
        deadline = time.monotonic() + BIND_RETRY_SECONDS
        while True:
            try:
                if kind == "udp":
                    s = socket.socket(_family(host), socket.SOCK_DGRAM)
                    try:
                        s.bind((host, int(port)))
                    except OSError:
                        s.close()
                        raise
                    self._serve_dgram(spec, s)
                elif kind == "http":
                    cls = type("_S", (_HTTPServer,), {"address_family": _family(host)})
                    srv = cls((host, int(port)), _Handler)
                    srv.decoy_hit = lambda spec=spec: self._hit(spec)
                    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
                    self._closers.append(lambda srv=srv: (srv.shutdown(), srv.server_close()))
                else:
                    raise OSError(errno.EINVAL, "unknown decoy kind %r" % kind)
                return
            except OSError as e:
                if e.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)  # another test's decoy or sidecar may let go

    def _serve_dgram(self, spec, s):
        s.settimeout(0.05)
        stop = threading.Event()

        def run():
            while not stop.is_set():
                try:
                    s.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                self._hit(spec)

        t = threading.Thread(target=run, daemon=True)
        t.start()

        def close():
            stop.set()
            t.join(1)
            s.close()

        self._closers.append(close)

    def counts(self):
        with self._lock:
            return dict(self._counts)

    def close(self):
        for c in self._closers:
            c()
        self._closers = []
        for p in self._paths:
            try:
                os.unlink(p)
            except OSError:
                pass
        self._paths = []


def main():
    d = Decoys(sys.argv[1:])
    try:
        print(json.dumps({"bound": d.bound, "skipped": d.skipped}), flush=True)
        for line in sys.stdin:
            if line.strip() == "counts":
                print(json.dumps({"counts": d.counts()}), flush=True)
    finally:
        d.close()


if __name__ == "__main__":
    main()
