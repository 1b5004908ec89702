"""Fire-and-forget client for the openclaw-trace sidecar (wire protocol v1).

Copy this one file next to your code; it needs only the standard library
(the msgpack package is used when importable, and a small built-in encoder
otherwise).

    import openclaw_trace
    tracer = openclaw_trace.Client()            # the sidecar of $OCT_SOCKET_PATH etc.
    tracer.trace(provider="anthropic", model="claude-sonnet-4",
                 prompt_tokens=1200, completion_tokens=300, cost_usd=0.0081)
    tracer.error(error_type="llm_error", code="rate_limit", message="429")
    tracer.close()                              # at shutdown: flush, report drops

trace() and error() never block and never raise. A datagram the sidecar's
queue cannot take now (EAGAIN) waits in a bounded queue drained by a daemon
thread; events over 8 KiB encoded go over HTTP on another daemon thread.
Whatever cannot be delivered is counted in stats() and reported to the
sidecar in client_stats datagrams.

A sidecar run with OCT_TOKEN refuses HTTP requests without it: the token
(argument token, else $OCT_TOKEN) goes on every HTTP request as
Authorization: Bearer. Datagrams carry none; the sidecar takes them as they
come (the socket's file mode and a loopback UDP address guard them).
"""

import collections
import errno
import json
import os
import queue
import re
import select
import socket
import struct
import threading
import time
import urllib.error
import urllib.request

# Over HTTP the path gives the event type.
_PATHS = {"trace": "/v1/traces", "error": "/v1/errors", "log": "/v1/logs"}

# Why an event over HTTP was not taken: the answer was 401 (unauthorized: no
# token, or another than the sidecar's OCT_TOKEN), another status than 202
# (status: 400, 413, 429, 503 ...), the connection failed or timed out
# (network), max_http_pending posts were already waiting (busy), no HTTP
# address is known (no_address), or the token cannot go in a header
# (bad_token: control characters, spaces, non-ASCII).
HTTP_DROP_REASONS = ("unauthorized", "status", "network", "busy", "no_address", "bad_token")

# The sidecar is reached directly: no proxy from http_proxy and the like
# (it would see the events and the token), and a redirect would not carry
# the token (it is an unredirected header).
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

try:  # optional: the wire format is the same either way
    import msgpack as _msgpack
except ImportError:  # pragma: no cover - depends on the machine
    _msgpack = None

__all__ = ["Client", "resolve_targets", "auth_header", "HTTP_DROP_REASONS"]

# The sidecar's defaults for OCT_SOCKET_PATH, OCT_UDP_ADDR, OCT_PORT, OCT_BIND.
DEFAULT_SOCKET_PATH = "/run/openclaw-trace.sock"
DEFAULT_UDP_ADDR = "127.0.0.1:9090"
DEFAULT_PORT = 9090
DEFAULT_BIND = "127.0.0.1"


def _loopback_for(host):
    """A listen host to send to: a wildcard is reached on loopback."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def _port(v):
    """A port 1..65535 from an int or a decimal string, else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, str):
        if not re.fullmatch(r"[0-9]{1,5}", v):
            return None
        v = int(v)
    if isinstance(v, int) and 1 <= v <= 65535:
        return v
    return None


def _split_host_port(s):
    """(host, port) from "host:port", "[v6]:port" or ":port" (as Go's
    net.SplitHostPort reads OCT_UDP_ADDR), else None."""
    m = re.fullmatch(r"(?:\[([^\]]*)\]|([^:\[\]]*)):([^:]*)", s)
    if not m:
        return None
    port = _port(m.group(3))
    if port is None:
        return None
    host = m.group(1) if m.group(1) is not None else m.group(2)
    return _loopback_for(host), port


def _host_port(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def resolve_targets(socket_path=None, udp_host=None, udp_port=None, http_port=None, http_url=None, env=None):
    """Where a client sends, read the way the sidecar reads its own
    listeners: each address is the argument, else the sidecar's variable
    (OCT_SOCKET_PATH, OCT_UDP_ADDR, OCT_PORT with OCT_BIND), else the
    sidecar's default. Returns (socket_path, udp (host, port), http_url);
    "" or None where the sidecar does not listen (an empty variable, port 0,
    a value it would refuse): events that need it are dropped and counted,
    never sent somewhere else."""
    env = os.environ if env is None else env
    if socket_path is None:
        socket_path = env.get("OCT_SOCKET_PATH", DEFAULT_SOCKET_PATH)

    env_udp = env.get("OCT_UDP_ADDR", DEFAULT_UDP_ADDR)
    udp = _split_host_port(env_udp) if env_udp else None
    if udp_host is not None or udp_port is not None:
        port = _port(udp_port) if udp_port is not None else (udp[1] if udp else DEFAULT_PORT)
        host = udp_host if udp_host is not None else (udp[0] if udp else "127.0.0.1")
        udp = (host, port) if port is not None else None

    if http_url:
        http_url = http_url.rstrip("/")
    else:
        if http_port is not None:
            port = _port(http_port)
        elif "OCT_PORT" in env:
            port = _port(env["OCT_PORT"])  # 0 (a free port) cannot be known here
        else:
            port = DEFAULT_PORT
        host = udp_host if udp_host is not None else _loopback_for(env.get("OCT_BIND", DEFAULT_BIND))
        http_url = "http://" + _host_port(host, port) if port is not None else ""
    return socket_path, udp, http_url


class _Secret(str):
    """A header value that does not show in repr(), vars() or tracebacks."""

    def __repr__(self):
        return "<secret>"


def auth_header(token=None, env=None):
    """The Authorization value for token, else $OCT_TOKEN: "Bearer <token>",
    "" without a token, None for one no header can carry (visible ASCII
    only, as the sidecar compares it)."""
    env = os.environ if env is None else env
    t = str(token) if token is not None else env.get("OCT_TOKEN", "")
    if t == "":
        return ""
    if not re.fullmatch(r"[\x21-\x7e]+", t):
        return None
    return _Secret("Bearer " + t)


def _mp_encode(v, out):
    """A minimal msgpack encoder: what json.dumps accepts."""
    if v is None:
        out.append(b"\xc0")
    elif v is True:
        out.append(b"\xc3")
    elif v is False:
        out.append(b"\xc2")
    elif isinstance(v, int):
        if 0 <= v < 0x80:
            out.append(struct.pack("B", v))
        elif -32 <= v < 0:
            out.append(struct.pack("b", v))
        elif 0 <= v < 2**64:
            out.append(b"\xcf" + struct.pack(">Q", v))
        elif -(2**63) <= v < 0:
            out.append(b"\xd3" + struct.pack(">q", v))
        else:
            raise OverflowError("int out of msgpack range")
    elif isinstance(v, float):
        out.append(b"\xcb" + struct.pack(">d", v))
    elif isinstance(v, str):
        b = v.encode("utf-8")
        n = len(b)
        if n < 32:
            out.append(struct.pack("B", 0xA0 | n))
        elif n < 2**8:
            out.append(b"\xd9" + struct.pack("B", n))
        elif n < 2**16:
            out.append(b"\xda" + struct.pack(">H", n))
        else:
            out.append(b"\xdb" + struct.pack(">I", n))
        out.append(b)
    elif isinstance(v, (list, tuple)):
        n = len(v)
        if n < 16:
            out.append(struct.pack("B", 0x90 | n))
        elif n < 2**16:
            out.append(b"\xdc" + struct.pack(">H", n))
        else:
            out.append(b"\xdd" + struct.pack(">I", n))
        for x in v:
            _mp_encode(x, out)
    elif isinstance(v, dict):
        n = len(v)
        if n < 16:
            out.append(struct.pack("B", 0x80 | n))
        elif n < 2**16:
            out.append(b"\xde" + struct.pack(">H", n))
        else:
            out.append(b"\xdf" + struct.pack(">I", n))
        for k, x in v.items():
            if not isinstance(k, str):
                raise TypeError("msgpack map keys must be str")
            _mp_encode(k, out)
            _mp_encode(x, out)
    else:
        raise TypeError("cannot encode %r" % type(v).__name__)


def _msgpack_dumps(v):
    if _msgpack is not None:
        return _msgpack.packb(v, use_bin_type=True)
    out = []
    _mp_encode(v, out)
    return b"".join(out)


class Client:
    """One client per process is enough; it is safe to share between threads.

    Addresses: socket_path, udp_host, udp_port, http_port, http_url; each
    left out is the sidecar's OCT_* variable, else its default (see
    resolve_targets). transport: "auto" uses the unix datagram socket unless
    the socket path is empty, then UDP; "unix", "udp" force one. encoding:
    "json" (default), "msgpack", or "auto" (msgpack when the msgpack package
    is importable). token: sent as Authorization: Bearer on HTTP requests
    (events over 8 KiB), else $OCT_TOKEN; "" sends none.
    """

    def __init__(
        self,
        socket_path=None,
        udp_host=None,
        udp_port=None,
        http_url=None,
        transport="auto",
        encoding="json",
        max_queue=1000,
        max_datagram_bytes=8192,
        max_http_pending=16,
        http_timeout=5.0,
        stats_interval=10.0,
        reconnect_interval=0.2,
        stall_timeout=2.0,
        http_port=None,
        token=None,
    ):
        # Explicit arguments win over the environment.
        self.socket_path, self.udp_addr, self.http_url = resolve_targets(
            socket_path, udp_host, udp_port, http_port, http_url
        )
        self._auth = auth_header(token)
        if transport == "udp" or (transport == "auto" and not self.socket_path):
            self.transport = "udp"
        else:
            self.transport = "unix"
        if encoding == "msgpack" or (encoding == "auto" and _msgpack is not None):
            self.encoding = "msgpack"
        else:
            self.encoding = "json"
        self.max_queue = max_queue
        self.max_datagram_bytes = max_datagram_bytes
        self.http_timeout = http_timeout
        self.stats_interval = stats_interval
        self.reconnect_interval = reconnect_interval
        self.stall_timeout = stall_timeout
        if self.transport == "unix":
            self._family, self._addr = socket.AF_UNIX, self.socket_path
        elif self.udp_addr is not None:
            fam = socket.AF_INET6 if ":" in self.udp_addr[0] else socket.AF_INET
            self._family, self._addr = fam, self.udp_addr
        else:  # the sidecar listens on no UDP address: events are dropped
            self._family, self._addr = socket.AF_INET, None

        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)  # queue changes, idle
        self._sent = {"unix": 0, "udp": 0, "http": 0}
        self._dropped = {"unix": 0, "udp": 0, "http": 0}
        self._http_dropped = dict.fromkeys(HTTP_DROP_REASONS, 0)  # adds up to dropped["http"]
        self._unreported = 0
        # drops in the last datagram sent, when it was a client_stats report:
        # an ICMP error for it puts them back (UDP)
        self._udp_last_report = 0
        self._q = collections.deque()
        self._congested = False
        self._last_progress = 0.0
        self._sock = None
        self._next_connect = 0.0
        self._closed = False
        self._http_q = queue.Queue(maxsize=max_http_pending)
        self._http_pending = 0  # posts queued or in flight
        self._worker = None
        self._http_worker = None

    # -- public surface --------------------------------------------------

    def trace(self, event=None, **fields):
        """Record one LLM call: provider, model, tokens, cost_usd, latency_ms..."""
        self._emit("trace", event, fields)

    def error(self, event=None, **fields):
        """Record one error: error_type, message, code, severity..."""
        self._emit("error", event, fields)

    def log(self, event=None, **fields):
        """Record one gateway event: kind (channel_in, channel_out, ...), channel, message..."""
        self._emit("log", event, fields)

    def stats(self):
        """Sent and dropped counts by transport since the client was made, the
        HTTP drops by reason, and where each transport sends (None: nowhere;
        its events are dropped). It says whether a token is sent, never which."""
        with self._lock:
            return {
                "transport": self.transport,
                "targets": {
                    "unix": (self.socket_path or None) if self.transport == "unix" else None,
                    "udp": _host_port(*self.udp_addr) if self.udp_addr else None,
                    "http": self.http_url or None,
                },
                "encoding": self.encoding,
                "sent": dict(self._sent),
                "dropped": dict(self._dropped),
                "http_dropped": dict(self._http_dropped),
                "token": "invalid" if self._auth is None else "set" if self._auth else "none",
                "queued": len(self._q),
            }

    def flush(self, timeout=5.0):
        """Wait until queued datagrams and HTTP posts are done (delivered or
        dropped) and report the drops; True when everything finished in time."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._q or self._http_pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.05))
            done = not (self._q or self._http_pending)
        self._report_stats()
        return done

    def close(self, timeout=5.0):
        """Flush, then stop; later calls are counted as drops."""
        if self._closed:
            return
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._drop_locked(self.transport, len(self._q))
            self._q.clear()
            self._disconnect_locked()
            self._cond.notify_all()

    # -- encoding and routing --------------------------------------------

    def _emit(self, typ, event, fields):
        tr = self.transport
        try:
            if self._closed or (event is not None and not isinstance(event, dict)):
                self._drop(tr)
                return
            ev = {"type": typ}
            if event:
                ev.update(event)
            ev.update(fields)
            ev["type"] = typ
            if "ts" not in ev:
                ev["ts"] = int(time.time() * 1000)
            buf = self._encode(ev)
            if len(buf) > self.max_datagram_bytes:
                del ev["type"]  # over HTTP the path gives the type
                self._post(_PATHS[typ], self._encode(ev))
                return
            self._send(buf)
        except Exception:  # unencodable or a bug: counted, never raised
            self._drop(tr)

    def _encode(self, v):
        if self.encoding == "msgpack":
            return _msgpack_dumps(v)
        return json.dumps(v, separators=(",", ":"), allow_nan=False).encode("utf-8")

    def _drop(self, transport, n=1):
        with self._lock:
            self._drop_locked(transport, n)

    def _drop_locked(self, transport, n=1):
        self._dropped[transport] += n
        self._unreported += n

    # -- datagrams -------------------------------------------------------

    def _send(self, buf):
        with self._cond:
            if self._q or self._congested:
                self._enqueue_locked(buf)
                return
            r = self._write_locked(buf)
            if r == "again":
                self._enqueue_locked(buf)
            elif r == "ok":
                self._sent[self.transport] += 1
                self._udp_last_report = 0
            else:
                self._drop_locked(self.transport)
        self._start_worker()

    def _connect_locked(self):
        if self._sock is not None:
            return True
        now = time.monotonic()
        if now < self._next_connect or not self._addr:
            return False
        s = socket.socket(self._family, socket.SOCK_DGRAM)
        try:
            s.setblocking(False)
            s.connect(self._addr)
        except OSError:
            s.close()
            self._next_connect = now + self.reconnect_interval
            return False
        self._sock = s
        self._congested = False
        return True

    def _disconnect_locked(self):
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._congested = False

    def _write_locked(self, buf):
        """Send one datagram: "ok", "again" (EAGAIN, retry later) or "fail".
        A unix socket still connected to a sidecar that restarted answers
        ECONNREFUSED once: connect afresh and send again at once."""
        was_open = self._sock is not None
        r = self._write1_locked(buf)
        if r == "refused" and self.transport == "udp":
            # UDP: the ICMP error belongs to an earlier datagram, which was
            # lost; this one was not sent yet.
            if self._udp_last_report:  # it was a report: report those again
                self._unreported += self._udp_last_report
                self._udp_last_report = 0
            elif self._sent["udp"] > 0:
                self._sent["udp"] -= 1
                self._drop_locked("udp")
            r = self._write1_locked(buf)
        elif r == "refused" and was_open:
            self._next_connect = 0.0
            r = self._write1_locked(buf)
        return "fail" if r == "refused" else r

    def _write1_locked(self, buf):
        if not self._connect_locked():
            return "fail"
        try:
            self._sock.send(buf)
            return "ok"
        except BlockingIOError:
            self._congested = True
            return "again"
        except OSError as e:
            if e.errno == errno.ENOBUFS:
                self._congested = True
                return "again"
            if e.errno in (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTCONN):
                if self.transport == "unix":  # the sidecar went away: reconnect later
                    self._disconnect_locked()
                    self._next_connect = time.monotonic() + self.reconnect_interval
                return "refused"
            if e.errno != errno.EMSGSIZE:
                self._disconnect_locked()
            return "fail"

    def _enqueue_locked(self, buf):
        if len(self._q) >= self.max_queue:
            self._drop_locked(self.transport)
            return
        if not self._q:
            self._last_progress = time.monotonic()
        self._q.append(buf)
        self._cond.notify_all()

    def _start_worker(self):
        if self._worker is None and not self._closed:
            with self._lock:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._run, name="openclaw-trace", daemon=True)
                    self._worker.start()

    def _run(self):
        """Drains the retry queue as the socket becomes writable and reports
        drops every stats_interval."""
        next_report = time.monotonic() + self.stats_interval if self.stats_interval > 0 else None
        while not self._closed:
            with self._cond:
                if not self._q:
                    wait = 1.0 if next_report is None else max(0.0, next_report - time.monotonic())
                    self._cond.wait(min(wait, 1.0))
                waiting, sock = bool(self._q), self._sock
            if waiting:
                if sock is not None:
                    try:  # wakes when the sidecar's queue has room again
                        select.select([], [sock], [], 0.05)
                    except (OSError, ValueError):
                        pass
                else:
                    time.sleep(0.01)
                self._drain()
            if next_report is not None and time.monotonic() >= next_report:
                self._report_stats()
                next_report = time.monotonic() + self.stats_interval

    def _drain(self):
        with self._cond:
            self._congested = False
            sent = 0
            while self._q:
                r = self._write_locked(self._q[0])
                if r == "again":
                    break
                self._q.popleft()
                if r == "ok":
                    self._sent[self.transport] += 1
                    self._udp_last_report = 0
                    sent += 1
                else:
                    self._drop_locked(self.transport)
            now = time.monotonic()
            if sent:
                self._last_progress = now
            elif self._q and now - self._last_progress > self.stall_timeout:
                # the sidecar takes nothing: drop rather than hold memory
                self._drop_locked(self.transport, len(self._q))
                self._q.clear()
                self._disconnect_locked()
            if not self._q:
                self._cond.notify_all()

    def _report_stats(self):
        """Send the drops counted since the last report in a client_stats
        datagram; a report that cannot go out now is kept for the next."""
        with self._cond:
            n = self._unreported
            if n == 0 or self._closed or self._q or self._congested:
                return
            try:
                buf = self._encode({"type": "client_stats", "client": "python", "dropped": n})
            except Exception:
                return
            if self._write_locked(buf) == "ok":
                self._unreported -= n
                self._udp_last_report = n

    # -- HTTP ------------------------------------------------------------

    def _post(self, path, body):
        with self._lock:
            if not self.http_url:  # the sidecar's HTTP port is not known
                self._drop_http_locked("no_address")
                return
            if self._auth is None:
                self._drop_http_locked("bad_token")
                return
            try:
                self._http_q.put_nowait((path, body))
            except queue.Full:
                self._drop_http_locked("busy")
                return
            self._http_pending += 1
        if self._http_worker is None:
            with self._lock:
                if self._http_worker is None:
                    self._http_worker = threading.Thread(
                        target=self._run_http, name="openclaw-trace-http", daemon=True
                    )
                    self._http_worker.start()

    def _drop_http_locked(self, reason):
        self._http_dropped[reason] += 1
        self._drop_locked("http")

    def _run_http(self):
        ctype = "application/msgpack" if self.encoding == "msgpack" else "application/json"
        while True:
            path, body = self._http_q.get()
            reason = self._post1(self.http_url + path, body, ctype)
            with self._cond:
                self._http_pending -= 1
                if reason is None:
                    self._sent["http"] += 1
                else:
                    self._drop_http_locked(reason)
                self._cond.notify_all()

    def _post1(self, url, body, ctype):
        """POST one event: None when the sidecar took it (202), else why not.
        The exception is not kept: nothing of the request leaves here."""
        try:
            req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": ctype})
            if self._auth:
                req.add_unredirected_header("Authorization", self._auth)
            with _OPENER.open(req, timeout=self.http_timeout) as resp:
                return None if resp.status == 202 else "status"
        except urllib.error.HTTPError as e:
            code = e.code
            e.close()
            return "unauthorized" if code == 401 else "status"
        except Exception:
            return "network"
