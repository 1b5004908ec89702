#!/usr/bin/env python3
"""A stand-in for the remote push API, for the resource, soak and fault scripts.

Accepts POST (gzip or plain JSON push bodies), counts rows per table and
duplicate trace_ids. GET /stats returns the counts as JSON.

Faults, for scripts/faults.sh:
  --reject-model NAME   answer 400 to a body holding an llm_traces row whose model
                        is NAME (its good rows are refused with it), as a receiver
                        that validates rows would
  POST /control {"status": 503}   answer that status to every body from now on;
                        {"status": 200} returns to normal
Usage: receiver.py PORTFILE [--reject-model NAME]
  (listens on a free loopback port, writes it to PORTFILE)
"""
import gzip
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TABLES = ("llm_traces", "error_events", "system_metrics", "log_events")
lock = threading.Lock()
stats = {"bodies": 0, "bytes": 0, "rows": 0, "duplicates": 0, **{t: 0 for t in TABLES},
         "rejected_bodies": 0, "rejected_rows": 0, "failed_bodies": 0, "statuses": {},
         "first_ok_after_control_ms": None}
seen = set()
reject_model = None
forced = {"status": 200, "since": None}


class Handler(BaseHTTPRequestHandler):
    def answer(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)
        with lock:
            stats["statuses"][str(code)] = stats["statuses"].get(str(code), 0) + 1

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/control":
            with lock:
                forced["status"], forced["since"] = json.loads(raw)["status"], time.time()
                stats["first_ok_after_control_ms"] = None
            return self.answer(200)
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        body = json.loads(raw)
        with lock:
            status = forced["status"]
        if status != 200:
            with lock:
                stats["failed_bodies"] += 1
            return self.answer(status, b'{"error":"unavailable"}')
        rows = sum(len(body.get(t) or []) for t in TABLES)
        if reject_model and any(r.get("model") == reject_model for r in body.get("llm_traces") or []):
            with lock:
                stats["rejected_bodies"] += 1
                stats["rejected_rows"] += rows
            return self.answer(400, json.dumps({"error": f"row with model {reject_model} is invalid"}).encode())
        with lock:
            stats["bodies"] += 1
            stats["bytes"] += len(raw)
            if forced["since"] is not None and stats["first_ok_after_control_ms"] is None:
                stats["first_ok_after_control_ms"] = int((time.time() - forced["since"]) * 1000)
            for t in TABLES:
                for row in body.get(t) or []:
                    stats[t] += 1
                    stats["rows"] += 1
                    tid = row.get("trace_id")
                    if tid in seen:
                        stats["duplicates"] += 1
                    seen.add(tid)
        self.answer(200)

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
    global reject_model
    args = sys.argv[1:]
    if "--reject-model" in args:
        reject_model = args[args.index("--reject-model") + 1]
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args[0], "w") as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == "__main__":
    main()
