package main

import (
	"bytes"
	"encoding/json"
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
// providers, two agents and channels, user, heartbeat and cron triggers,
// two UTC days, failed and unpriced calls, an error event, one row outside
// the 24 h window.
func reportEvents() []codec.Event {
	type who struct{ agent, channel, trigger, cron, session string }
	tr := func(ago time.Duration, provider, model, status string, in, out, cacheR int64, cost *float64, lat int64, w who) codec.Event {
		return codec.Event{TraceID: codec.NewTraceID(), Trace: &codec.Trace{CreatedAt: reportNow.Add(-ago).UnixMilli(),
			Provider: provider, Model: model, Status: status, PromptTokens: &in, CompletionTokens: &out,
			CacheReadTokens: &cacheR, CostUSD: cost, LatencyMS: &lat, TTFTMS: p(lat / 5),
			Attribution: codec.Attribution{AgentID: w.agent, Channel: w.channel, Trigger: w.trigger, CronJobID: w.cron, SessionKey: w.session}}}
	}
	user := who{"main", "telegram", "user", "", "agent:main:telegram:direct:1001"}
	beat := who{"main", "telegram", "heartbeat", "", "agent:main:main"}
	cron := who{"ops", "slack", "cron", "nightly-digest", "agent:ops:cron:nightly-digest"}
	evs := []codec.Event{
		tr(1*time.Hour, "openai", "gpt-4o", "ok", 12000, 800, 4000, p(0.0330), 1400, user),
		tr(2*time.Hour, "openai", "gpt-4o", "ok", 3000, 500, 0, p(0.0125), 900, beat),
		tr(3*time.Hour, "openai", "gpt-4o", "error", 200, 0, 0, p(0.0005), 150, cron),
		tr(5*time.Hour, "anthropic", "claude-sonnet-4", "ok", 20000, 1500, 15000, p(0.0420), 5200, cron),
		tr(13*time.Hour, "anthropic", "claude-sonnet-4", "ok", 8000, 700, 0, p(0.0345), 3100, user),
		tr(14*time.Hour, "ollama", "llama3.1:8b", "ok", 900, 300, 0, nil, 2500, who{}),
		tr(15*time.Hour, "ollama", "llama3.1:8b", "timeout", 900, 0, 0, nil, 30000, who{}),
		tr(16*time.Hour, "openai", "gpt-4o-mini", "ok", 40, 2, 0, p(0.00004), 300, beat),
		tr(30*time.Hour, "openai", "gpt-4o", "ok", 1, 1, 0, p(9.99), 1, user), // outside the window
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

// TestReportGoldenText: no daemon answers at OCT_BIND/OCT_PORT.
func TestReportGoldenText(t *testing.T) {
	port := closedPort(t)
	code, out, errOut := runReportTest(t, map[string]string{"OCT_DB_PATH": reportDB(t), "OCT_PORT": port})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "report.txt", strings.ReplaceAll(out, "127.0.0.1:"+port, "127.0.0.1:PORT"))
}

// fakeDaemon answers /health as a daemon serving dbPath would.
func fakeDaemon(t *testing.T, dbPath string) (url string) {
	kd := int64(0)
	s := &snapshot{Written: 40, Received: 42, Dropped: 2, DroppedByReason: zeroReasons(), QueueCapacity: 4096, KernelDrops: &kd}
	s.DroppedByReason["queue_full"], s.DroppedByReason["invalid"] = 1, 1
	backlog, success := int64(5), reportNow.Add(-time.Minute).UnixMilli()
	s.Sinks = map[string]*sinkState{"push": {Status: "disabled", Rejected: map[string]int64{}},
		"otlp": {Enabled: true, Status: "ok", Backlog: &backlog, Delivered: 3, LastSuccess: &success, Rejected: map[string]int64{}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		listener.WriteJSON(w, http.StatusOK, health{Status: "ok", DBPath: dbPath, EventsReceived: 42, EventsDropped: 2,
			LastPushStatus: "error: 503 Service Unavailable", Counters: s})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestReportGoldenJSON: the daemon named by OCT_BIND/OCT_PORT serves the
// database read, so its drop counters are in the document.
func TestReportGoldenJSON(t *testing.T) {
	db := reportDB(t)
	url := fakeDaemon(t, db)
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	code, out, errOut := runReportTest(t, map[string]string{"OCT_DB_PATH": db, "OCT_BIND": host, "OCT_PORT": port}, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "report.json", strings.NewReplacer(url, "http://127.0.0.1:PORT", db, "/data/trace.db").Replace(out))
	// The human form of the same document shows the counters.
	_, text, _ := runReportTest(t, map[string]string{"OCT_DB_PATH": db}, "--url", url)
	for _, want := range []string{"DAEMON  " + url + " serves this database",
		"dropped 2 (invalid 1, queue_full 1)", "PUSH    error: 503 Service Unavailable",
		"SINK    otlp ok, delivered 3, retried 0, backlog 5, last success 2026-03-06 11:59:00"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}

// TestReportOtherDaemon: a daemon that serves another database is not
// the one whose counters the report shows (issue: "DROPS (daemon at
// 127.0.0.1:9090)" came from a daemon of a different database).
func TestReportOtherDaemon(t *testing.T) {
	db := reportDB(t)
	other := filepath.Join(t.TempDir(), "other.db")
	url := fakeDaemon(t, other)
	_, text, _ := runReportTest(t, nil, "--db", db, "--url", url)
	if !strings.Contains(text, "DAEMON  "+url+" serves another database:\n        "+other+"\n") ||
		!strings.Contains(text, "no daemon is running for this one") || strings.Contains(text, "DROPS") {
		t.Errorf("report of another daemon's database:\n%s", text)
	}
	_, js, _ := runReportTest(t, nil, "--db", db, "--url", strings.TrimPrefix(url, "http://"), "--json")
	var doc struct{ Daemon map[string]any }
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Daemon["serves_db"] != false || doc.Daemon["db_path"] != other || doc.Daemon["events_received"] != nil {
		t.Errorf("daemon %v", doc.Daemon)
	}
	// The same file under another name (a symlink) is the same database.
	link := filepath.Join(t.TempDir(), "link.db")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	_, text, _ = runReportTest(t, nil, "--db", link, "--url", fakeDaemon(t, db))
	if !strings.Contains(text, "serves this database") || !strings.Contains(text, "DROPS   received 42") {
		t.Errorf("report through a symlink:\n%s", text)
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
		{[]string{"--by", "agents"}, nil, 2, `--by: unknown dimension "agents"`},
		{[]string{"--by", "day,day"}, nil, 2, `"day" given twice`},
		{[]string{"--by", "agent", "--top", "-1"}, nil, 2, "--top"},
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
	row := view.Stats{Key: evil, Provider: evil, Calls: 1, Errors: 1}
	doc := &summaryDoc{Window: "24h", Summary: &view.Summary{Totals: row, ByModel: []view.Stats{row}, ByAgent: []view.Stats{row},
		ErrorEvents:  map[string]int64{"crash": 1},
		RecentErrors: []view.RecentError{{Kind: "trace", Model: evil, Message: evil}, {Kind: "error", Type: evil, Code: evil, Message: strings.Repeat("é", 200)}}},
		Daemon: &daemonStatus{Reachable: true, DBPath: "/x", ServesDB: true, DaemonCounters: &DaemonCounters{LastPushStatus: evil, Sinks: map[string]*sinkState{"otlp": {Enabled: true, Status: evil}}}}}
	var b strings.Builder
	writeReport(&b, doc, false)
	out := b.String()
	if !utf8.ValidString(out) {
		t.Error("report is not UTF-8")
	}
	for _, r := range out {
		if r != '\n' && !unicode.IsGraphic(r) {
			t.Fatalf("report holds %U:\n%q", r, out)
		}
	}
	// Names as they are; messages with their white space folded.
	if want := "a?[2J?]0;title??b?c?"; strings.Count(out, want) != 7 || strings.Count(out, "a?[2J?]0;title? b?c?") != 1 {
		t.Errorf("%q shown %d times, want 7:\n%s", want, strings.Count(out, want), out)
	}
}
