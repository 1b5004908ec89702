#!/usr/bin/env python3
"""A stand-in for the remote push API, for the resource and soak scripts.

Accepts POST (gzip or plain JSON push bodies), answers 200, counts rows per
table and duplicate trace_ids. GET /stats returns the counts as JSON.
Usage: receiver.py PORTFILE  (listens on a free loopback port, writes it to PORTFILE)
"""
import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TABLES = ("llm_traces", "error_events", "system_metrics", "log_events")
lock = threading.Lock()
stats = {"bodies": 0, "bytes": 0, "rows": 0, "duplicates": 0, **{t: 0 for t in TABLES}}
seen = set()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        body = json.loads(raw)
        with lock:
            stats["bodies"] += 1
            stats["bytes"] += len(raw)
            for t in TABLES:
                for row in body.get(t) or []:
                    stats[t] += 1
                    stats["rows"] += 1
                    tid = row.get("trace_id")
                    if tid in seen:
                        stats["duplicates"] += 1
                    seen.add(tid)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        with lock:
            out = json.dumps(stats).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == "__main__":
    main()
