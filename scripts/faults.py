#!/usr/bin/env python3
"""Client side of scripts/faults.sh: connection floods and heavy posts.

  faults.py conns URL N SECONDS [slow]   open N TCP connections to the daemon and hold them
                                          SECONDS; with "slow", each sends a POST's headers
                                          (Content-Length: 1000) and never its body
  faults.py bigmeta URL CLIENTS SECONDS KEYS
                                          CLIENTS threads post one trace with KEYS metadata
                                          keys (~777 KB at 50,000) again and again for SECONDS
  faults.py counters URL                  the daemon's accounting (/health) in one line
  faults.py receiver URL                  the mock receiver's figures (/stats) in one line
  faults.py field URL KEY...              one field of a JSON document (KEY per level)

Prints one JSON line of figures. Standard library only.
"""
import json
import selectors
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


def conns(url, n, seconds, slow):
    u = urllib.parse.urlparse(url)
    addr = (u.hostname, u.port)
    sel = selectors.DefaultSelector()
    socks, failed = [], 0
    head = (f"POST /v1/traces HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n").encode()
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect_ex(addr)
        except OSError:
            failed += 1
            s.close()
            continue
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE)
    connected, sent = 0, 0
    deadline = time.time() + min(seconds, 30)
    pending = len(socks)
    while pending and time.time() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected += 1
                if slow:
                    try:
                        s.send(head)
                        sent += 1
                    except OSError:
                        pass
            else:
                failed += 1
    time.sleep(max(0, seconds - 1))
    for s in socks:
        s.close()
    print(json.dumps({"opened": len(socks), "connected": connected, "headers_sent": sent, "failed": failed}))


def bigmeta(url, clients, seconds, keys):
    md = {f"k{i:05d}": i for i in range(keys)}
    body = json.dumps({"provider": "openai", "model": "gpt-4o", "prompt_tokens": 1, "metadata": md}).encode()
    statuses, lock = {}, threading.Lock()
    stop = time.time() + seconds

    def worker():
        while time.time() < stop:
            req = urllib.request.Request(url + "/v1/traces", data=body, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    code = r.status
            except urllib.error.HTTPError as e:
                code = e.code
            except OSError:
                code = "error"
            with lock:
                statuses[code] = statuses.get(code, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"body_bytes": len(body), "statuses": {str(k): v for k, v in statuses.items()}}))


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def counters(url):
    c = fetch(url + "/health")["counters"]
    dropped = {k: v for k, v in c["dropped_by_reason"].items() if v} or 0
    cl = c.get("cleanup") or {}
    print(f"received {c['received']}, written {c['written']}, dropped {dropped}, evicted {c['evicted']}, "
          f"relieved {cl.get('relieved')}, disk_full {c.get('disk_full')}")


def receiver(url):
    s = fetch(url + "/stats")
    print(f"delivered {s['rows']} rows in {s['bodies']} bodies, duplicates {s['duplicates']}, "
          f"refused {s['rejected_bodies']} bodies ({s['rejected_rows']} rows), answers {s['statuses']}")


def field(url, keys):
    v = fetch(url)
    for k in keys:
        v = v[k]
    print(v)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "conns":
        conns(args[0], int(args[1]), float(args[2]), len(args) > 3 and args[3] == "slow")
    elif cmd == "bigmeta":
        bigmeta(args[0], int(args[1]), float(args[2]), int(args[3]))
    elif cmd == "counters":
        counters(args[0])
    elif cmd == "receiver":
        receiver(args[0])
    elif cmd == "field":
        field(args[0], args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
