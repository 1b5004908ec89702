package logtail

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

// The real log: lines of a real OpenClaw 2026.9.6 run (testdata/real/README.md).
var (
	realLog    = filepath.Join("testdata", "real", "openclaw-2026.9.6.log")
	realGolden = filepath.Join("testdata", "real", "openclaw-2026.9.6.golden.jsonl")
	update     = flag.Bool("update", false, "rewrite the golden file of the real log from the parser's output")
)

// golden is what one line of the real log parses to.
type golden struct {
	Line      int            `json:"line"`
	Kind      string         `json:"kind"`
	Level     string         `json:"level"`
	Subsystem string         `json:"subsystem"`
	Channel   string         `json:"channel"`
	Message   string         `json:"message"`
	Metadata  map[string]any `json:"metadata"`
}

func realLines(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile(realLog)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

// asGolden puts a parsed line in the golden file's form: metadata through
// JSON, as the store keeps it (ints become float64).
func asGolden(t *testing.T, n int, l *codec.Log) golden {
	t.Helper()
	g := golden{Line: n, Kind: l.Kind, Level: l.Level, Subsystem: l.Subsystem, Channel: l.Channel, Message: l.Message}
	if l.Metadata != nil {
		b, err := json.Marshal(l.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &g.Metadata); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// TestParseRealLog checks every line of the real log against the golden
// file: kind, level, subsystem, channel, message and metadata. After a
// deliberate change, rewrite it with -update and review the diff.
func TestParseRealLog(t *testing.T) {
	var got []golden
	for i, line := range realLines(t) {
		l, isJSON := Parse(line, testNow)
		if !isJSON {
			t.Errorf("line %d: not JSON", i+1)
		}
		got = append(got, asGolden(t, i+1, l))
	}
	if *update {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		for _, g := range got {
			if err := enc.Encode(g); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(realGolden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readGolden(t)
	if len(got) != len(want) {
		t.Fatalf("%d lines parsed, golden has %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			g, _ := json.Marshal(got[i])
			w, _ := json.Marshal(want[i])
			t.Errorf("line %d:\ngot  %s\nwant %s", i+1, g, w)
		}
	}
}

func readGolden(t *testing.T) []golden {
	t.Helper()
	fh, err := os.Open(realGolden)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []golden
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var g golden
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// kindTable is the README's kind table: a message pattern of the real log
// and the kind and rule every line matching it must get. It is checked
// against the real lines, not against the golden file, so a change of the
// rules shows here even when the golden file is rewritten.
var kindTable = []struct {
	pattern, kind, rule string
	level               string // "" for any
}{
	{"[model-fetch] response * status=500 *", codec.KindGatewayError, RuleModelHTTPError, "info"},
	{"[model-fetch] response * status=429 *", codec.KindGatewayError, RuleModelHTTPError, "info"},
	{"[model-fetch] response * status=200 *", codec.KindOther, RuleModelResponse, "debug"},
	{"transient same-model retry *", codec.KindOther, RuleModelRetry, "warn"},
	{"transient retry window elapsed * stopping same-model retries", codec.KindOther, RuleModelRetryStop, "warn"},
	{"embedded run failover decision", codec.KindOther, RuleFailover, ""},
	{"model fallback decision", codec.KindOther, RuleModelFallback, "warn"},
	{"[agent] run * ended with stopReason=stop", codec.KindOther, RuleRunEnd, "info"},
	{"[openclaw] The CLI command failed.", codec.KindGatewayError, RuleCLIFailure, "error"},
	{"lane task error: *", codec.KindGatewayError, "", "error"},
	{"lane task done: *", codec.KindOther, "", "debug"},
	{"http server listening (*)", codec.KindLifecycle, "", "info"},
	{"gateway ready", codec.KindLifecycle, "", "info"},
	{"received SIGTERM; shutting down", codec.KindLifecycle, "", "info"},
	{"received SIGUSR2; restarting", codec.KindLifecycle, "", "info"},
	{"config change detected; evaluating reload (*)", codec.KindConfigChange, "", "info"},
	{"config hot reload applied (*)", codec.KindConfigChange, "", "info"},
	{"config change requires gateway restart (*) — preparing", codec.KindConfigChange, "", "warn"},
	{"Gateway not reachable at *", codec.KindGatewayError, "", "error"},
	{"[tools] read failed: *", codec.KindGatewayError, "", "error"},
	{"embedded run agent end", codec.KindOther, "", "warn"},
	{"slow SQLite session write", codec.KindOther, "", "warn"},
}

func TestRealLogKinds(t *testing.T) {
	lines := realLines(t)
	for _, tt := range kindTable {
		t.Run(tt.pattern, func(t *testing.T) {
			n := 0
			for i, line := range lines {
				l, _ := Parse(line, testNow)
				if !matches(tt.pattern, l.Message) {
					continue
				}
				n++
				rule, _ := l.Metadata["rule"].(string)
				if l.Kind != tt.kind || rule != tt.rule || tt.level != "" && l.Level != tt.level {
					t.Errorf("line %d %q: kind %q rule %q level %q, want %q %q %q",
						i+1, l.Message, l.Kind, rule, l.Level, tt.kind, tt.rule, tt.level)
				}
			}
			if n == 0 {
				t.Errorf("no line of the real log matches %q", tt.pattern)
			}
		})
	}
}

// TestRealLogFields checks the structured fields of the lines that carry a
// metadata object or key=value text.
func TestRealLogFields(t *testing.T) {
	lines := realLines(t)
	first := func(t *testing.T, pattern string) *codec.Log {
		t.Helper()
		for _, line := range lines {
			if l, _ := Parse(line, testNow); matches(pattern, l.Message) {
				return l
			}
		}
		t.Fatalf("no line matches %q", pattern)
		return nil
	}
	tests := []struct {
		pattern string
		want    map[string]any // a subset of the metadata
	}{
		{"[model-fetch] response * status=500 *", map[string]any{
			"provider": "mock", "api": "openai-completions", "model": "err500", "status": 500.0, "elapsedMs": 27.0}},
		{"transient same-model retry 1/8 *", map[string]any{
			"retry": 1.0, "retryBudget": 8.0, "provider": "mock", "model": "err500", "reason": "server_error", "delayMs": 539.0}},
		{"* stopping same-model retries", map[string]any{"retryCount": 7.0, "retryBudget": 8.0, "provider": "mock", "model": "err500"}},
		{"[agent] run * ended with stopReason=stop", map[string]any{"runId": "ccc72df4-89bc-48c9-a452-73ad65e2c72e", "stopReason": "stop"}},
		// "1" is the object, "2" the message: the object's fields are the metadata.
		{"embedded run failover decision", map[string]any{
			"event": "embedded_run_failover_decision", "decision": "fallback_model", "status": 500.0, "retryCount": 7.0}},
		{"model fallback decision", map[string]any{"decision": "candidate_failed", "candidateModel": "err500", "nextCandidateModel": "ok"}},
		// "1" is the message, "2" the object.
		{"slow SQLite session write", map[string]any{"operation": "session.reclamation.worker-commit", "elapsedMs": 1018.0}},
		{"lane task error: *", map[string]any{"errorName": "FailoverError"}},
		// Bindings naming a module instead of a subsystem.
		{"cron: job added", map[string]any{"storeKey": "/home/oc/.openclaw/cron/jobs.json", "jobName": "Memory Dreaming Promotion"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			l := first(t, tt.pattern)
			for k, v := range tt.want {
				if !reflect.DeepEqual(l.Metadata[k], v) {
					t.Errorf("metadata[%q] = %#v, want %#v", k, l.Metadata[k], v)
				}
			}
			for _, k := range []string{"1", "2", "message"} {
				if v, ok := l.Metadata[k]; ok {
					t.Errorf("metadata[%q] = %v: the argument should be merged or be the message", k, v)
				}
			}
		})
	}
	if l := first(t, "cron: job added"); l.Subsystem != "cron" {
		t.Errorf("module binding: subsystem %q, want cron", l.Subsystem)
	}
}

// matches reports whether s matches pattern, where * stands for any text.
func matches(pattern, s string) bool {
	re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$"
	return regexp.MustCompile(re).MatchString(s)
}

// TestFollowRealLog follows the real log: its two CLI failure blocks (one
// with a stack) become one gateway_error each, every other line one event.
func TestFollowRealLog(t *testing.T) {
	lines := realLines(t)
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, string(bytes.Join(lines, []byte("\n")))+"\n")
	ts := newTester(t, path)
	ts.f.MinLevel = LevelTrace
	var evs []*codec.Log
	if err := ts.f.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	for len(ts.ch) > 0 {
		ev := <-ts.ch
		ts.checkEvent(ev)
		evs = append(evs, ev.Log)
	}
	st := statsOf(ts.f)
	if st.LinesRead != int64(len(lines)) || st.Emitted+st.Folded != st.LinesRead || int(st.Emitted) != len(evs) {
		t.Fatalf("stats %+v for %d lines and %d events", st, len(lines), len(evs))
	}
	var cli []*codec.Log
	for _, l := range evs {
		if strings.HasPrefix(l.Message, "[openclaw] ") && l.Metadata["rule"] != RuleCLIFailure {
			t.Errorf("CLI block line not folded: %q", l.Message)
		}
		if l.Metadata["rule"] == RuleCLIFailure {
			cli = append(cli, l)
		}
	}
	if len(cli) != 2 {
		t.Fatalf("%d CLI failure events, want 2", len(cli))
	}
	reason := "ENOTDIR: not a directory, stat '/home/oc/statefile/state/openclaw.sqlite'"
	want := []map[string]any{
		{"rule": RuleCLIFailure, "hostname": "vm", "reason": reason, "debug": "set OPENCLAW_DEBUG=1 to include the stack trace.",
			"try": "openclaw doctor", "help": "openclaw --help", "folded_lines": 4},
		{"rule": RuleCLIFailure, "hostname": "vm", "reason": reason, "try": "openclaw doctor", "help": "openclaw --help", "folded_lines": 15},
	}
	for i, l := range cli {
		if l.Kind != codec.KindGatewayError || l.Message != "[openclaw] The CLI command failed." {
			t.Errorf("CLI event %d: kind %q message %q", i, l.Kind, l.Message)
		}
		stack, _ := l.Metadata["stack"].(string)
		delete(l.Metadata, "stack")
		if i == 1 && (!strings.HasPrefix(stack, "Error: ENOTDIR") || strings.Count(stack, "\n") != 10) {
			t.Errorf("stack of 11 lines expected, got %q", stack)
		}
		if !reflect.DeepEqual(l.Metadata, want[i]) {
			t.Errorf("CLI event %d metadata %v, want %v", i, l.Metadata, want[i])
		}
	}
}

// BenchmarkParseReal parses the lines of the real log in turn (about 700
// bytes each, most with a metadata object), in lines/s.
func BenchmarkParseReal(b *testing.B) {
	lines := realLines(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Parse(lines[i%len(lines)], testNow)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
