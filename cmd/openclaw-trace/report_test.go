package main

import (
	"bytes"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sethvargo/go-envconfig"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/listener"
	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/store/view"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// reportNow is the fixed clock of the report goldens.
var reportNow = time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)

func p[T any](v T) *T { return &v }

// reportEvents are the known rows of the goldens: three models of three
// providers, two agents and channels, two UTC days, failed and unpriced
// calls, an error event, one row outside the 24 h window.
func reportEvents() []codec.Event {
	tr := func(ago time.Duration, provider, model, status string, in, out, cacheR int64, cost *float64, lat int64, md map[string]any) codec.Event {
		return codec.Event{TraceID: codec.NewTraceID(), Trace: &codec.Trace{CreatedAt: reportNow.Add(-ago).UnixMilli(),
			Provider: provider, Model: model, Status: status, PromptTokens: &in, CompletionTokens: &out,
			CacheReadTokens: &cacheR, CostUSD: cost, LatencyMS: &lat, TTFTMS: p(lat / 5), Metadata: md}}
	}
	main := map[string]any{"agent_id": "main", "channel": "telegram"}
	ops := map[string]any{"agent_id": "ops", "channel": "slack"}
	evs := []codec.Event{
		tr(1*time.Hour, "openai", "gpt-4o", "ok", 12000, 800, 4000, p(0.0330), 1400, main),
		tr(2*time.Hour, "openai", "gpt-4o", "ok", 3000, 500, 0, p(0.0125), 900, main),
		tr(3*time.Hour, "openai", "gpt-4o", "error", 200, 0, 0, p(0.0005), 150, ops),
		tr(5*time.Hour, "anthropic", "claude-sonnet-4", "ok", 20000, 1500, 15000, p(0.0420), 5200, ops),
		tr(13*time.Hour, "anthropic", "claude-sonnet-4", "ok", 8000, 700, 0, p(0.0345), 3100, main),
		tr(14*time.Hour, "ollama", "llama3.1:8b", "ok", 900, 300, 0, nil, 2500, nil),
		tr(15*time.Hour, "ollama", "llama3.1:8b", "timeout", 900, 0, 0, nil, 30000, nil),
		tr(30*time.Hour, "openai", "gpt-4o", "ok", 1, 1, 0, p(9.99), 1, main), // outside the window
		{TraceID: codec.NewTraceID(), Error: &codec.Error{CreatedAt: reportNow.Add(-40 * time.Minute).UnixMilli(),
			ErrorType: "llm_error", Message: "429 Too Many Requests", Code: p("rate_limit"), Severity: "error"}},
	}
	evs[0].Trace.CostSource = codec.CostTable
	return evs
}

// reportDB writes reportEvents into a new database and closes it.
func reportDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace.db")
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	evs := reportEvents()
	in := make(chan codec.Event, len(evs))
	for _, ev := range evs {
		in <- ev
	}
	close(in)
	if err := store.NewWriter(db, in).Run(); err != nil {
		t.Fatal(err)
	}
	if err := db.LogPush(t.Context(), codec.PushAttempt{At: reportNow.Add(-10 * time.Minute).UnixMilli(), BatchID: "b1",
		Status: "error", HTTPStatus: 503, Error: "503 Service Unavailable"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Advance(t.Context(), "otlp", "llm_traces", 3); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	return port
}

func runReportTest(t *testing.T, env map[string]string, args ...string) (code int, out, errOut string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code = runReport(args, &stdout, &stderr, reportEnv{lookup: envconfig.MapLookuper(env), now: func() time.Time { return reportNow }})
	return code, stdout.String(), stderr.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (go test -run %s -update rewrites it); got:\n%s", path, t.Name(), got)
	}
}

func TestReportGoldenText(t *testing.T) {
	port := closedPort(t)
	code, out, errOut := runReportTest(t, map[string]string{"OCT_DB_PATH": reportDB(t), "OCT_PORT": port})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "report.txt", strings.ReplaceAll(out, "127.0.0.1:"+port, "127.0.0.1:PORT"))
}

// TestReportGoldenJSON also answers /health as a daemon would, so the
// drop counters are in the document.
func TestReportGoldenJSON(t *testing.T) {
	kd := int64(0)
	s := &snapshot{Written: 40, Received: 42, Dropped: 2, DroppedByReason: zeroReasons(), QueueCapacity: 4096, KernelDrops: &kd}
	s.DroppedByReason["queue_full"], s.DroppedByReason["invalid"] = 1, 1
	backlog, success := int64(5), reportNow.Add(-time.Minute).UnixMilli()
	s.Sinks = map[string]*sinkState{"push": {Status: "disabled", Rejected: map[string]int64{}},
		"otlp": {Enabled: true, Status: "ok", Backlog: &backlog, Delivered: 3, LastSuccess: &success, Rejected: map[string]int64{}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		listener.WriteJSON(w, http.StatusOK, health{Status: "ok", EventsReceived: 42, EventsDropped: 2,
			LastPushStatus: "error: 503 Service Unavailable", Counters: s})
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	code, out, errOut := runReportTest(t, map[string]string{"OCT_DB_PATH": reportDB(t), "OCT_BIND": host, "OCT_PORT": port}, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "report.json", strings.ReplaceAll(out, host+":"+port, "127.0.0.1:PORT"))
	// The human form of the same document shows the counters.
	_, text, _ := runReportTest(t, map[string]string{"OCT_DB_PATH": reportDB(t), "OCT_BIND": host, "OCT_PORT": port})
	if !strings.Contains(text, "dropped 2 (invalid 1, queue_full 1)") || !strings.Contains(text, "PUSH  error: 503 Service Unavailable") ||
		!strings.Contains(text, "SINK otlp  ok, delivered 3, retried 0, backlog 5, last success 2026-03-06 11:59:00") {
		t.Errorf("report lacks the daemon's counters:\n%s", text)
	}
}

func TestReportUsageErrors(t *testing.T) {
	db := reportDB(t)
	for _, tc := range []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{[]string{"--since", "yesterday"}, nil, 2, "--since: invalid window"},
		{[]string{"--since", "-1h"}, nil, 2, "--since"},
		{[]string{"extra"}, nil, 2, `unexpected argument "extra"`},
		{[]string{"--bogus"}, nil, 2, "flag provided but not defined"},
		{nil, map[string]string{"OCT_DB_PATH": filepath.Join(t.TempDir(), "none.db")}, 1, "no such file"},
		{[]string{"--db", db, "--since", "7d"}, map[string]string{"OCT_PORT": "70000"}, 2, "OCT_PORT"},
	} {
		code, _, errOut := runReportTest(t, tc.env, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	code, out, _ := runReportTest(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "Usage: openclaw-trace report") {
		t.Errorf("--help: %d %q", code, out)
	}
}

func TestParseSince(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration // 0: refused
	}{
		{"30m", 30 * time.Minute}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"1.5d", 36 * time.Hour},
		{"0d", 0}, {"-1d", 0}, {"d", 0}, {"NaNd", 0}, {"Infd", 0}, {"1e300d", 0}, {"0s", 0}, {"1d12h", 0}, {"", 0},
		{"1ms", time.Millisecond}, {"999us", 0}, {"1ns", 0},
	} {
		got, err := parseSince(tc.in)
		if got != tc.want || (err == nil) != (tc.want != 0) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestReportTextIsPrintable: names and messages come from the network;
// none may reach the terminal as an escape sequence or break a table.
func TestReportTextIsPrintable(t *testing.T) {
	evil := "a\x1b[2J\x1b]0;title\x07\tb\u202ec\xff"
	row := view.Stats{Key: evil, Provider: evil, Calls: 1}
	doc := &summaryDoc{Window: "24h", Summary: &view.Summary{Totals: row, ByModel: []view.Stats{row}, ByAgent: []view.Stats{row},
		RecentErrors: []view.RecentError{{Kind: "trace", Model: evil, Message: evil}, {Kind: "error", Type: evil, Code: evil, Message: strings.Repeat("é", 200)}}},
		Daemon: &daemonStatus{Reachable: true, LastPushStatus: evil, Sinks: map[string]*sinkState{"otlp": {Enabled: true, Status: evil}}}}
	var b strings.Builder
	writeReport(&b, doc)
	out := b.String()
	if !utf8.ValidString(out) {
		t.Error("report is not UTF-8")
	}
	for _, r := range out {
		if r != '\n' && !unicode.IsGraphic(r) {
			t.Fatalf("report holds %U:\n%q", r, out)
		}
	}
	if want := "a?[2J?]0;title??b?c?"; strings.Count(out, want) < 8 {
		t.Errorf("%q shown %d times, want 8:\n%s", want, strings.Count(out, want), out)
	}
}
