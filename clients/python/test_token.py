"""The Python client against the real daemon run with OCT_TOKEN: events over
8 KiB go over HTTP, which needs the token; datagrams carry none. A missing or
wrong token is a drop counted by reason, never raised, and the token shows
nowhere the client prints or returns.

Run: OCT_TEST_BIN=/path/to/openclaw-trace python3 -m unittest discover -s clients/python -v
"""

import http.server as http_server
import json
import os
import secrets
import subprocess
import sys
import threading
import unittest
import urllib.request
from unittest import mock

from test_openclaw_trace import BIG, Daemon, sidecar_env, wait_for

import openclaw_trace

NO_HTTP_DROPS = dict.fromkeys(openclaw_trace.HTTP_DROP_REASONS, 0)


def without_env_token():
    """Unsets $OCT_TOKEN inside the block, whatever the shell has."""
    env = {k: v for k, v in os.environ.items() if k != "OCT_TOKEN"}
    return mock.patch.dict(os.environ, env, clear=True)


def shown(c):
    """Everything a caller or a log line can get out of the client."""
    return "\n".join([json.dumps(c.stats()), repr(vars(c)), repr(c)])


def client_script(d, model):
    """A program that sends one event over 8 KiB to d with the token of its
    environment, prints stats() on stdout and vars(client) on stderr."""
    return (
        "import json, sys\n"
        "sys.path.insert(0, %r)\n"
        "import openclaw_trace\n"
        "c = openclaw_trace.Client(transport='udp', udp_port=%d, http_url=%r, stats_interval=0)\n"
        "c.trace(provider='p', model=%r, output_text='y' * 9000)\n"
        "c.close()\n"
        "print(json.dumps(c.stats()))\n"
        "print(repr(vars(c)), file=sys.stderr)\n"
    ) % (os.path.dirname(os.path.abspath(openclaw_trace.__file__)), d.udp_port, d.http_url, model)


class TokenTest(unittest.TestCase):
    def test_auth_header(self):
        cases = [
            ("none", None, {}, ""),
            ("env", None, {"OCT_TOKEN": "e1"}, "Bearer e1"),
            ("argument wins", "o1", {"OCT_TOKEN": "e1"}, "Bearer o1"),
            ("'' turns the env token off", "", {"OCT_TOKEN": "e1"}, ""),
            ("empty env", None, {"OCT_TOKEN": ""}, ""),
            ("newline", "a\nb", {}, None),
            ("space", "a b", {}, None),
            ("non-ASCII", "tökén", {}, None),
        ]
        for name, token, env, want in cases:
            with self.subTest(name):
                self.assertEqual(openclaw_trace.auth_header(token, env), want)

    def daemon(self, token):
        d = Daemon(unix=False, env={"OCT_TOKEN": token})
        self.addCleanup(d.stop)
        return d

    def test_large_events_need_the_token(self):
        token = secrets.token_hex(16)
        d = self.daemon(token)
        cases = [
            # name, token argument, sent over HTTP, HTTP drops, stats' token
            ("no-token", None, 0, dict(NO_HTTP_DROPS, unauthorized=2), "none"),
            ("wrong-token", token + "x", 0, dict(NO_HTTP_DROPS, unauthorized=2), "set"),
            ("bad-token", "a\r\nX-Evil: 1", 0, dict(NO_HTTP_DROPS, bad_token=2), "invalid"),
            ("right-token", token, 2, NO_HTTP_DROPS, "set"),
        ]
        for name, tok, sent, http_dropped, shows in cases:
            with self.subTest(name):
                with sidecar_env({}), without_env_token():
                    c = openclaw_trace.Client(transport="udp", udp_port=d.udp_port, http_url=d.http_url,
                                              stats_interval=0, token=tok)
                c.trace(provider="p", model=name, output_text=BIG)
                c.error(error_type="crash", message=name, stack_trace=BIG)
                c.trace(provider="p", model=name + "-small")  # a datagram: no token needed
                c.close()
                st = c.stats()
                self.assertEqual(st["sent"]["http"], sent)
                self.assertEqual(st["sent"]["udp"], 1)
                self.assertEqual(st["http_dropped"], http_dropped)
                self.assertEqual(st["dropped"]["http"], 2 - sent, "dropped.http is the sum of http_dropped")
                self.assertEqual(st["token"], shows)
                self.assertNotIn(token, shown(c))
        # every answer came before close() returned: once the small traces
        # and the right token's rows are in, nothing refused is on its way
        sql = ("SELECT 'trace' AS t, model AS k, count(*) AS n, max(length(output_text)) AS len FROM llm_traces GROUP BY model "
               "UNION ALL SELECT 'error', message, count(*), max(length(stack_trace)) FROM error_events GROUP BY message "
               "ORDER BY 1, 2")
        want = [
            ("error", "right-token", 1, len(BIG)),
            ("trace", "bad-token-small", 1, None),
            ("trace", "no-token-small", 1, None),
            ("trace", "right-token", 1, len(BIG)),
            ("trace", "right-token-small", 1, None),
            ("trace", "wrong-token-small", 1, None),
        ]
        rows = lambda: [(r["t"], r["k"], r["n"], r["len"]) for r in d.query(sql)]  # noqa: E731
        wait_for("the rows", lambda: len(rows()) == len(want), 20)
        self.assertEqual(rows(), want)
        # the daemon refused the posts without the token or with a wrong one;
        # the bad one never left the client
        req = urllib.request.Request(d.http_url + "/health", headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, timeout=5) as r:
            h = json.load(r)
        self.assertEqual(h["counters"]["http"]["refused"]["token"], 4, h["counters"]["http"])

    def test_env_token_is_sent_and_never_printed(self):
        token = secrets.token_hex(16)
        d = self.daemon(token)
        script = client_script(d, "env-token")
        cases = [("right", token, 1, 0), ("wrong", token + "-old", 0, 1)]
        for name, env_token, sent, unauthorized in cases:
            with self.subTest(name):
                r = subprocess.run([sys.executable, "-c", script], env={"PATH": os.environ.get("PATH", ""), "OCT_TOKEN": env_token},
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                st = json.loads(r.stdout)
                self.assertEqual((st["sent"]["http"], st["http_dropped"]["unauthorized"]), (sent, unauthorized))
                self.assertNotIn(token, r.stdout + r.stderr)
        wait_for("the trace sent with the env token", lambda: d.count("llm_traces") == 1, 20)
        self.assertEqual(d.query("SELECT model FROM llm_traces"), [{"model": "env-token"}])

    def test_no_proxy_sees_the_token(self):
        # http_proxy in the environment would hand every event and the token
        # to the proxy: the client talks to the sidecar directly
        got = []

        class Proxy(http_server.BaseHTTPRequestHandler):
            def do_POST(self):
                got.append(dict(self.headers))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        srv = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        token = secrets.token_hex(16)
        d = self.daemon(token)
        proxy = "http://127.0.0.1:%d" % srv.server_address[1]
        # in a process of its own: urllib reads the proxy variables once
        r = subprocess.run([sys.executable, "-c", client_script(d, "no-proxy")],
                           env={"PATH": os.environ.get("PATH", ""), "OCT_TOKEN": token,
                                "http_proxy": proxy, "HTTP_PROXY": proxy},
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["sent"]["http"], 1)
        self.assertEqual(got, [])
        wait_for("the row", lambda: d.count("llm_traces", "model='no-proxy'") == 1, 20)

if __name__ == "__main__":
    unittest.main()
