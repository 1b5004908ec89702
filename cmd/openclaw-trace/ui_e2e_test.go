package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// chromiumPath finds Debian's chromium (scripts/integration.sh installs
// it); without it the test skips, under CI=true it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	return needProgram(t, "Chromium", "Debian: apt-get install chromium", "chromium", "chromium-browser")
}

// chromium runs headless Chromium on url with extra flags and returns its
// stdout. No network but the daemon's loopback port is used.
func chromium(t *testing.T, bin, url string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=10000"}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var out, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &stderr
	// its own process group (renderers, zygotes), all of it killed on the timeout
	if err := reap.Exec(t, cmd); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return out.String()
}

// text returns the text of the first element with id (the page's own
// script holds the same ids in templates, after the body's elements).
func text(t *testing.T, dom, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no element #%s in the page", id)
	}
	return m[1]
}

// modelCells returns the cell texts of the model's row of the per-model table.
func modelCells(t *testing.T, dom, model string) []string {
	t.Helper()
	m := regexp.MustCompile(`<tr data-model="` + regexp.QuoteMeta(model) + `">(.*?)</tr>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no row for model %s", model)
	}
	var cells []string
	for _, c := range regexp.MustCompile(`<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(m[1], -1) {
		cells = append(cells, c[1])
	}
	return cells
}

// TestDashboardInChromium starts the real daemon, sends known calls, loads
// /ui in headless Chromium and checks the numbers the page shows.
func TestDashboardInChromium(t *testing.T) {
	bin := chromiumPath(t)
	d := startDaemon(t, "")
	at := time.Now().Add(-10 * time.Minute).UnixMilli()
	body := fmt.Sprintf(`[
	{"provider":"openai","model":"gpt-4o","prompt_tokens":1000,"cache_read_tokens":400,"completion_tokens":100,"latency_ms":800,"ttft_ms":120,"ts":%[1]d,"metadata":{"agent_id":"main","channel":"telegram"}},
	{"provider":"openai","model":"gpt-4o","prompt_tokens":2000,"completion_tokens":200,"latency_ms":1200,"ttft_ms":200,"ts":%[1]d},
	{"provider":"anthropic","model":"claude-3-5-sonnet-20241022","prompt_tokens":10000,"cache_read_tokens":6000,"cache_write_tokens":2000,"completion_tokens":500,"latency_ms":4000,"ttft_ms":600,"ts":%[1]d},
	{"provider":"ollama","model":"llama3.1:8b","prompt_tokens":50,"latency_ms":30,"status":"error","error_type":"connection refused","ts":%[1]d},
	{"provider":"openai","model":"gpt-4o-mini","prompt_tokens":10,"cost_usd":0.5,"latency_ms":100,"ts":%[1]d}]`, at)
	if code, out := post(t, d.URL("/v1/traces"), "application/json", []byte(body)); code != http.StatusAccepted {
		t.Fatalf("POST traces: %d %v", code, out)
	}
	if code, out := post(t, d.URL("/v1/errors"), "application/json", []byte(`{"error_type":"llm_error","message":"429 Too Many Requests","code":"rate_limit"}`)); code != http.StatusAccepted {
		t.Fatalf("POST error: %d %v", code, out)
	}
	post(t, d.URL("/v1/traces"), "application/json", []byte(`{"provider":"x","model":"y","prompt_tokens":-1}`)) // one invalid drop
	poll.Until(t, "6 events written", 30*time.Second, func() bool {
		return d.Health()["counters"].(map[string]any)["written"] == 6.0
	})

	resp, err := http.Get(d.URL("/ui"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct, csp := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(ct, "text/html") ||
		!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") ||
		!strings.Contains(csp, "script-src 'sha256-") {
		t.Errorf("/ui headers: %q %q", ct, csp)
	}
	if ext := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).Find(page); ext != nil {
		t.Errorf("page names an external address: %s", ext)
	}

	dom := chromium(t, bin, d.URL("/ui"), "--dump-dom")
	for id, want := range map[string]string{
		"kpi-calls": "5", "kpi-errors": "1", "kpi-error-rate": "20.0%",
		"kpi-cost":     "$0.5328", // 0.0030 + 0.0070 + 0.0228 (table) + 0.5 (supplied)
		"kpi-unpriced": "+ 1 unpriced calls",
		"kpi-tokens":   "13.1k / 800", "kpi-p50": "800 ms", "kpi-p95": "4.00 s", "kpi-ttft": "200 ms",
		"d-received": "7", "d-written": "6", "d-dropped": "1", "d-push": "disabled", "d-backlog": "6",
	} {
		if got := text(t, dom, id); got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	for model, want := range map[string][]string{
		// model, provider, calls, errors, rate, in, cache read, out, cost, unpriced, p50
		"gpt-4o":                     {"gpt-4o", "openai", "2", "0", "0.0%", "3,000", "400", "300", "$0.0100", "0", "800 ms"},
		"claude-3-5-sonnet-20241022": {"claude-3-5-sonnet-20241022", "anthropic", "1", "0", "0.0%", "10,000", "6,000", "500", "$0.0228", "0", "4.00 s"},
		"llama3.1:8b":                {"llama3.1:8b", "ollama", "1", "1", "100.0%", "50", "0", "0", "unpriced", "1", "30 ms"},
		"gpt-4o-mini":                {"gpt-4o-mini", "openai", "1", "0", "0.0%", "10", "0", "0", "$0.5000", "0", "100 ms"},
	} {
		if got := modelCells(t, dom, model); len(got) < len(want) || strings.Join(got[:len(want)], "|") != strings.Join(want, "|") {
			t.Errorf("row %s = %v, want %v", model, got, want)
		}
	}
	if !strings.Contains(dom, "dropped</dt><dd><span id=\"d-dropped\">1</span> (invalid 1)") {
		t.Error("drop reasons not shown")
	}
	if !strings.Contains(dom, "429 Too Many Requests") || !strings.Contains(dom, "connection refused") {
		t.Error("recent errors not shown")
	}
	if n := strings.Count(dom, "<rect "); n < 2 {
		t.Errorf("chart has %d bars", n)
	}
}

// TestSummaryEndpoint checks GET /v1/summary's answers, including bad
// parameters.
func TestSummaryEndpoint(t *testing.T) {
	d := startDaemon(t, "")
	post(t, d.URL("/v1/traces"), "application/json", []byte(`{"provider":"openai","model":"gpt-4o","prompt_tokens":1000000}`))
	poll.Until(t, "1 event written", 30*time.Second, func() bool {
		return d.Health()["counters"].(map[string]any)["written"] == 1.0
	})
	for _, tc := range []struct {
		query string
		code  int
		field string
	}{
		{"", 200, ""}, {"?since=7d&buckets=10", 200, ""},
		{"?since=soon", 400, "since"}, {"?buckets=0", 400, "buckets"}, {"?buckets=x", 400, "buckets"},
	} {
		resp, err := http.Get(d.URL("/v1/summary" + tc.query))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if resp.StatusCode != tc.code || (tc.field != "" && doc["field"] != tc.field) {
			t.Errorf("%s: %d %v", tc.query, resp.StatusCode, doc)
			continue
		}
		if tc.code == 200 {
			tot := doc["summary"].(map[string]any)["totals"].(map[string]any)
			if tot["calls"] != 1.0 || tot["cost_usd"] != 2.5 || doc["daemon"].(map[string]any)["reachable"] != true {
				t.Errorf("%s: totals %v daemon %v", tc.query, tot, doc["daemon"])
			}
		}
	}
}

// TestDashboardEscapesInChromium: names and messages come from ingest
// requests, so markup in them must show as text and never run: in the
// overview's tables, a session's calls and a call's row.
func TestDashboardEscapesInChromium(t *testing.T) {
	bin := chromiumPath(t)
	d := startDaemon(t, "")
	hostile := func(where string) string { return `<img src=x onerror="window.xss='` + where + `'">` }
	names := map[string]string{
		"model": hostile("model"), "provider": "<i>p</i>", "agent_id": `<svg onload="window.xss='agent'">`,
		"channel": `"><b onmouseover="window.xss='channel'">c`, "trigger": hostile("trigger"),
		"cron_job_id": `<script>window.xss='cron'</script>`, "session_key": `</a><a href="javascript:window.xss='session'">s/1`,
		"error_type": hostile("error"),
	}
	trace := map[string]any{"prompt_tokens": 10, "status": "error", "input_text": hostile("input")}
	for k, v := range names {
		trace[k] = v
	}
	tb, _ := json.Marshal(trace)
	bad, _ := json.Marshal(map[string]any{"error_type": "llm_error", "code": `"><img src=x onerror="window.xss='code'">`, "message": hostile("message")})
	for path, body := range map[string][]byte{"/v1/traces": tb, "/v1/errors": bad} {
		if code, out := post(t, d.URL(path), "application/json", body); code != http.StatusAccepted {
			t.Fatalf("POST %s: %d %v", path, code, out)
		}
	}
	poll.Until(t, "2 events written", 30*time.Second, func() bool {
		return d.Health()["counters"].(map[string]any)["written"] == 2.0
	})
	p := openPage(t, bin, 1280, 900)
	loadUI(t, p, d.URL("/ui"))
	// No element came from a name, no handler ran: one script (the
	// page's), no img, no on* attribute, no javascript: link.
	const clean = `document.scripts.length == 1 && !document.querySelector("img, svg[onload], a[href^=javascript]") &&
		![...document.querySelectorAll("*")].some((e) => [...e.attributes].some((a) => a.name.startsWith("on"))) &&
		window.xss === undefined && document.title == "openclaw-trace"`
	if !p.Bool(clean) {
		var diag any
		p.Eval(`({scripts: document.scripts.length, el: [...document.querySelectorAll("img, svg[onload], a[href^=javascript]")].map((e) => e.outerHTML),
			on: [...document.querySelectorAll("*")].filter((e) => [...e.attributes].some((a) => a.name.startsWith("on"))).map((e) => e.outerHTML),
			xss: window.xss ?? null, title: document.title})`, &diag)
		t.Fatalf("markup from an ingest request became an element or ran: %v", diag)
	}
	for sel, want := range map[string]string{
		"#by-agent tbody td": names["agent_id"], "#by-channel tbody td": names["channel"], "#by-trigger tbody td": names["trigger"],
		"#by-cron tbody td": names["cron_job_id"], "#sessions tbody td": names["session_key"], "#models tbody td": names["model"],
		"#models tbody td.l": names["provider"], "#errors li[data-kind=trace] b": names["model"],
	} {
		if got := p.Text(sel); got != want {
			t.Errorf("%s shows %q, want the name as text %q", sel, got, want)
		}
	}
	var errs string
	p.Eval(`document.getElementById("errors").textContent`, &errs)
	for _, want := range []string{names["error_type"], `llm_error/"><img src=x onerror="window.xss='code'"> ` + hostile("message")} {
		if !strings.Contains(errs, want) {
			t.Errorf("recent errors %q lack %q as text", errs, want)
		}
	}
	p.Click("#sessions tbody a")
	p.Wait("the hostile session's calls", `document.querySelectorAll("#session-calls tbody tr").length == 1`)
	if got := p.Text("#session-key"); got != names["session_key"] {
		t.Errorf("session key shown %q", got)
	}
	if got := p.Rows("#session-calls tbody tr"); len(got) != 1 || got[0][2] != names["model"] || got[0][9] != names["error_type"] {
		t.Errorf("session calls %q", got)
	}
	p.Click("#session-calls tbody a")
	p.Wait("the hostile call's row", `document.querySelector("#call-row dd[data-col=agent_id]")`)
	for col, want := range names {
		if got := p.Text(fmt.Sprintf(`#call-row dd[data-col=%q]`, col)); got != want {
			t.Errorf("call row %s shows %q, want %q", col, got, want)
		}
	}
	if !p.Bool(clean) {
		t.Fatal("markup from an ingest request became an element or ran in the drill-down")
	}
}

// TestDashboardRefreshes: the page loads /v1/summary again by itself
// (every 15 s, here in Chromium's virtual time), counted by a proxy in
// front of the daemon.
func TestDashboardRefreshes(t *testing.T) {
	bin := chromiumPath(t)
	d := startDaemon(t, "")
	target, _ := url.Parse(d.URL(""))
	var loads atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/summary" {
			loads.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	chromium(t, bin, srv.URL+"/ui", "--dump-dom", "--virtual-time-budget=40000")
	if n := loads.Load(); n < 3 {
		t.Errorf("%d loads of /v1/summary in 40 s of page time, want 3 (at 0, 15 and 30 s)", n)
	}
}
