package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
	"github.com/sethvargo/go-envconfig"
	"github.com/vmihailenco/msgpack/v5"
	"go.uber.org/goleak"
)

// inProcess is the daemon's Main run inside the test process, so that the
// wiring itself runs under -race and goleak, not only the built binary.
type inProcess struct {
	t      *testing.T
	M      *Main
	Dir    string
	client *http.Client
}

// newInProcess returns a Main with every intake on: HTTP on port (0 picks
// one), the unix socket and the database in a temp dir, UDP on a free
// port; env adds or overrides OCT_* variables.
func newInProcess(t *testing.T, port int, env map[string]string) *inProcess {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{
		"OCT_PORT":             strconv.Itoa(port),
		"OCT_DB_PATH":          filepath.Join(dir, "trace.db"),
		"OCT_SOCKET_PATH":      filepath.Join(dir, "oct.sock"),
		"OCT_UDP_ADDR":         "127.0.0.1:0",
		"OCT_METRICS_INTERVAL": "0",
		"OCT_BATCH_WINDOW":     "20ms",
		"OCT_SHUTDOWN_TIMEOUT": "10s",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := LoadConfig(context.Background(), envconfig.MapLookuper(vars))
	if err != nil {
		t.Fatal(err)
	}
	// Keep-alive connections would leave the transport's goroutines
	// behind for goleak.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	return &inProcess{t: t, M: NewMain(cfg, slog.New(stallHandler{})), Dir: dir, client: client}
}

// stallHandler discards the log, but holds Run for 200 ms at its
// "listening" line: a request the server answers then reads whatever Run
// writes after the listener opened before Run writes it, so -race reports
// it every time, not only when the scheduler happens to interleave them.
// Waiting on a condition instead would order the accesses and hide the race.
type stallHandler struct{}

func (stallHandler) Enabled(context.Context, slog.Level) bool { return true }
func (stallHandler) WithAttrs([]slog.Attr) slog.Handler       { return stallHandler{} }
func (stallHandler) WithGroup(string) slog.Handler            { return stallHandler{} }
func (stallHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "listening" {
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

func (p *inProcess) url(path string) string { return "http://" + p.M.HTTP.ListenAddr() + path }

func (p *inProcess) get(path string) []byte {
	p.t.Helper()
	resp, err := p.client.Get(p.url(path))
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		p.t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return b
}

// counters is the counters object of /health.
func (p *inProcess) counters() map[string]any {
	p.t.Helper()
	var h struct{ Counters map[string]any }
	if err := json.Unmarshal(p.get("/health"), &h); err != nil {
		p.t.Fatal(err)
	}
	return h.Counters
}

// freePort returns a TCP port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestMainInProcess starts Main itself with every intake, push and the log
// follower on, sends events over HTTP, unixgram and UDP, finds them in
// SQLite and on /health, and checks that Close leaves no goroutine behind.
// /health is polled from the moment the listener may open: run with -race,
// this catches state Run writes while the server already reads it.
func TestMainInProcess(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rcv := newReceiver(t)
	logPath := filepath.Join(t.TempDir(), "gateway.log")
	if err := os.WriteFile(logPath, []byte(gatewayLine(1)+"not json at all\n"+debugLine()), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p := newInProcess(t, port, map[string]string{"OCT_PUSH_ENDPOINT": rcv.URL, "OCT_LOG_PATH": logPath,
		"OCT_BUDGETS": "100usd/day", "OCT_ALERT_WEBHOOK_URL": rcv.URL + "/alerts"})

	var wg sync.WaitGroup
	wg.Go(func() { pollHealth(p.client, "http://127.0.0.1:"+strconv.Itoa(port)+"/health") })
	err := p.M.Run(context.Background())
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			p.M.Close()
		}
	}()

	sendAll(t, p)
	// 3 intake events, 2 log lines that became events (the debug one is
	// skipped).
	poll.Until(t, "5 events written", 10*time.Second, func() bool { return p.counters()["written"] == 5.0 })
	rows := map[string]int{}
	for _, table := range []string{"llm_traces", "error_events", "log_events"} {
		var n int
		if err := p.M.DB.Reader().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		rows[table] = n
	}
	if want := map[string]int{"llm_traces": 2, "error_events": 1, "log_events": 2}; !maps.Equal(rows, want) {
		t.Errorf("rows = %v, want %v", rows, want)
	}

	if _, err := p.M.Push.PushOnce(context.Background()); err != nil {
		t.Fatalf("push: %v", err)
	}
	checkComponentCounters(t, p)
	// The pages keep their keys and families: clients and dashboards read them.
	golden(t, "pages_shape.txt", pageShape(t, p.get("/health"), p.get("/metrics")))

	closed = true
	if err := p.M.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if unique, _ := rcv.count(); unique != 5 {
		t.Errorf("receiver has %d rows, want 5", unique)
	}
	p.client.CloseIdleConnections()
	rcv.Close()
}

// pollHealth asks for /health until it answers, for at most 10 s. It
// shares no channel or lock with Run: one would order Run's writes before
// the handler's reads and hide a race from the detector.
func pollHealth(c *http.Client, url string) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if resp, err := c.Get(url); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return
		}
	}
}

func debugLine() string {
	return strings.Replace(gatewayLine(2), `"logLevelId":3,"logLevelName":"INFO"`, `"logLevelId":2,"logLevelName":"DEBUG"`, 1)
}

// sendAll sends one event over each intake: a trace over HTTP, an error
// over the unix socket (JSON), a trace over UDP (msgpack).
func sendAll(t *testing.T, p *inProcess) {
	t.Helper()
	resp, err := p.client.Post(p.url("/v1/traces"), "application/json",
		bytes.NewReader([]byte(`{"provider":"anthropic","model":"http"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/traces: %d", resp.StatusCode)
	}
	send := func(network, addr string, b []byte) {
		c, err := net.Dial(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	send("unixgram", p.M.Unixgram.Path, []byte(`{"type":"error","error_type":"crash","message":"unixgram"}`))
	mp, err := msgpack.Marshal(map[string]any{"type": "trace", "provider": "p", "model": "udp"})
	if err != nil {
		t.Fatal(err)
	}
	send("udp", p.M.UDP.LocalAddr(), mp)
}

// checkComponentCounters: the push and log follower counters show on
// /health and /metrics with the values the events just made.
func checkComponentCounters(t *testing.T, p *inProcess) {
	t.Helper()
	c := p.counters()
	pc, _ := c["push"].(map[string]any)
	lc, _ := c["logtail"].(map[string]any)
	if pc == nil || lc == nil {
		t.Fatalf("counters.push = %v, counters.logtail = %v", c["push"], c["logtail"])
	}
	for _, tc := range []struct {
		name string
		got  any
		want float64
	}{
		{"push.cycles", pc["cycles"], 1},
		{"push.bodies_ok", pc["bodies_ok"], 1},
		{"push.rows_pushed", pc["rows_pushed"], 5},
		{"push.attempts", pc["attempts"], 1},
		{"logtail.skipped", lc["skipped"], 1},
		{"logtail.not_json", lc["not_json"], 1},
		{"logtail.read_errors", lc["read_errors"], 0},
	} {
		if tc.got != tc.want {
			t.Errorf("/health counters %s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	metrics := string(p.get("/metrics"))
	for _, line := range []string{
		"openclaw_trace_push_cycles_total 1",
		"openclaw_trace_push_bodies_ok_total 1",
		"openclaw_trace_push_rows_total 5",
		`openclaw_trace_push_failures_total{class="network"} 0`,
		"openclaw_trace_logtail_lines_skipped_total 1",
		"openclaw_trace_logtail_lines_not_json_total 1",
		"openclaw_trace_logtail_read_errors_total 0",
	} {
		if !strings.Contains(metrics, "\n"+line+"\n") {
			t.Errorf("/metrics has no line %q", line)
		}
	}
}

// TestMainSocketErrorsNameTheVariable: listener errors name no variable;
// Main adds the remedy and OCT_SOCKET_PATH.
func TestMainSocketErrorsNameTheVariable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-socket")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"regular file", file, "remove it or set OCT_SOCKET_PATH"},
		{"missing directory", filepath.Join(t.TempDir(), "no", "dir", "oct.sock"), "create the directory, fix its permissions or set OCT_SOCKET_PATH"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newInProcess(t, 0, map[string]string{"OCT_SOCKET_PATH": tc.path})
			err := p.M.Run(context.Background())
			p.M.Close()
			if err == nil || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run error = %v, want the path and %q", err, tc.want)
			}
		})
	}
}

// TestMainShowsLogReadErrors: a log path the follower cannot list (a bad
// glob) counts read errors, and both pages show the count.
func TestMainShowsLogReadErrors(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := newInProcess(t, 0, map[string]string{"OCT_LOG_PATH": filepath.Join(t.TempDir(), "gateway-[.log")})
	if err := p.M.Run(context.Background()); err != nil {
		p.M.Close()
		t.Fatal(err)
	}
	defer p.M.Close()
	poll.Until(t, "a read error", 10*time.Second, func() bool {
		lc, _ := p.counters()["logtail"].(map[string]any)
		n, _ := lc["read_errors"].(float64)
		return n >= 1
	})
	if n := metricValue(p.get("/metrics"), "openclaw_trace_logtail_read_errors_total"); n < 1 {
		t.Errorf("openclaw_trace_logtail_read_errors_total = %d, want >= 1", n)
	}
}

// metricValue is the value of the unlabelled series name on a /metrics
// page, -1 when the page has none.
func metricValue(page []byte, name string) int64 {
	for _, line := range strings.Split(string(page), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// TestMainShowsFoldedLines: a CLI failure block of five lines becomes one
// gateway_error row, and both pages count the four lines folded into it.
func TestMainShowsFoldedLines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ts := time.Now().Format("2006-01-02T15:04:05.000-07:00")
	var log strings.Builder
	for _, msg := range []string{
		"[openclaw] The CLI command failed.",
		"[openclaw] Reason: ENOTDIR: not a directory",
		"[openclaw] Debug: set OPENCLAW_DEBUG=1 to include the stack trace.",
		"[openclaw] Try: openclaw doctor",
		"[openclaw] Help: openclaw --help",
	} {
		fmt.Fprintf(&log, `{"0":%q,"_meta":{"logLevelId":5,"logLevelName":"ERROR","name":"openclaw"},"time":%q}`+"\n", msg, ts)
	}
	logPath := filepath.Join(t.TempDir(), "gateway.log")
	if err := os.WriteFile(logPath, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newInProcess(t, 0, map[string]string{"OCT_LOG_PATH": logPath})
	if err := p.M.Run(context.Background()); err != nil {
		p.M.Close()
		t.Fatal(err)
	}
	defer p.M.Close()
	poll.Until(t, "the block written", 10*time.Second, func() bool { return p.counters()["written"] == 1.0 })
	lc, _ := p.counters()["logtail"].(map[string]any)
	if got := lc["folded"]; got != 4.0 {
		t.Errorf("/health counters logtail.folded = %v, want 4", got)
	}
	if got := metricValue(p.get("/metrics"), "openclaw_trace_logtail_lines_folded_total"); got != 4 {
		t.Errorf("openclaw_trace_logtail_lines_folded_total = %d, want 4", got)
	}
	var kind string
	if err := p.M.DB.Reader().QueryRow("SELECT kind FROM log_events").Scan(&kind); err != nil {
		t.Fatal(err)
	}
	if kind != "gateway_error" {
		t.Errorf("log_events kind = %q, want gateway_error", kind)
	}
}
