package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// Checks of TestOpenClawPlugin beyond the trace rows: llm_error events, the
// plugin's transport, its access warning, and the log follower on the
// gateway log the turns wrote.

func checkErrors(t *testing.T, db *sql.DB) {
	t.Helper()
	q, err := db.Query(`SELECT code, message FROM error_events WHERE error_type = 'llm_error' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var got []string
	for q.Next() {
		var code, msg string
		q.Scan(&code, &msg)
		got = append(got, code+": "+msg)
	}
	down := "network: mock/m1 call failed: Connection error."
	want := []string{"rate_limit: mock/m1 call failed: 429 Rate limit exceeded", "api_error: mock/m1 call failed: 500 internal boom", down, down}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("llm_error events:\n got %q\nwant %q", got, want)
	}
}

// checkNoPricedFailure: no failed call reads as a priced $0 or as zero
// tokens. OpenClaw writes a zero usage for every failed call; those are
// stored with tokens and cost NULL (no_usage).
func checkNoPricedFailure(t *testing.T, db *sql.DB) {
	t.Helper()
	var failed, zero int
	err := db.QueryRow(`SELECT count(*), coalesce(sum(cost_usd = 0 OR prompt_tokens = 0 OR completion_tokens = 0 OR total_tokens = 0
		OR (cost_usd IS NULL AND cost_source IS NOT 'no_usage')), 0) FROM llm_traces WHERE status != 'ok'`).Scan(&failed, &zero)
	if err != nil {
		t.Fatal(err)
	}
	if failed == 0 || zero != 0 {
		t.Errorf("%d failed calls, %d of them with a $0 cost, 0 tokens or an unknown cost not marked no_usage", failed, zero)
	}
}

// checkPluginStats reads the plugin's own report (one line per process,
// OCT_PLUGIN_STATS_FILE): every event went over the unix socket, none fell
// back to UDP, nothing failed off the hooks. It logs each hook's calls,
// mean, median and max µs inside the gateway: figures, not asserted (the
// machine is shared).
func checkPluginStats(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("plugin stats: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var s struct {
			Hooks map[string]struct {
				N                    int
				MeanUs, P50Us, MaxUs float64
				Us                   []float64
			}
			Intake        struct{ DrainedOnHook, Failed int }
			Counts        map[string]int
			Registrations map[string]int
			Client        struct {
				Transport string
				Fallback  any
				Sent      map[string]int
				Dropped   map[string]int
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("plugin stats line %q: %v", sc.Text(), err)
		}
		n++
		c := s.Client
		if c.Transport != "unix" || c.Fallback != nil || c.Sent["unix"] == 0 || c.Sent["udp"] != 0 || c.Dropped["unix"]+c.Dropped["udp"]+c.Dropped["http"] != 0 || s.Intake.Failed != 0 {
			t.Errorf("plugin process %d: %s", n, sc.Text())
		}
		t.Logf("plugin process %d: registrations %v, counts %v, intake %+v, client %+v", n, s.Registrations, s.Counts, s.Intake, s.Client)
		names := make([]string, 0, len(s.Hooks))
		for name := range s.Hooks {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			h := s.Hooks[name]
			if h.N > 0 {
				t.Logf("plugin process %d: hook %-20s %3d calls, mean %7.1f µs, median %7.1f µs, max %7.1f µs; each: %v", n, name, h.N, h.MeanUs, h.P50Us, h.MaxUs, h.Us)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d plugin stats lines, want one per turn (3)", n)
	}
}

// checkAccessWarning: one warning line per process without conversation
// access, in the gateway log, naming the setting; none with it.
func checkAccessWarning(t *testing.T, gwLog string) {
	t.Helper()
	b, err := os.ReadFile(gwLog)
	if err != nil {
		t.Fatal(err)
	}
	// one line per process without access that runs turns (the gateway, the
	// --local turn; `plugins inspect` does not write it to the file)
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "conversation hooks not granted") && strings.Contains(l, "allowConversationAccess true") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		t.Errorf("%d access warning lines in the gateway log, want 2 (one per turn without access):\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if strings.Contains(string(b), "sending over UDP") {
		t.Errorf("the plugin fell back to UDP:\n%s", b)
	}
}

// logKinds are real lines the turns write, by a phrase in the message, and
// what main's logtail makes of them (its rules were built from a real
// OpenClaw 2026.9.6 log): kind, level, metadata.rule and one field the
// rule reads from the text.
var logKinds = []struct{ phrase, level, kind, rule, field, value string }{
	{"[tools] read failed", "error", "gateway_error", "", "", ""},
	{"status=429", "info", "gateway_error", "model_http_error", "status", "429"},
	{"status=500", "info", "gateway_error", "model_http_error", "status", "500"},
	{"transient same-model retry 1/", "warn", "other", "model_retry", "provider", "mock"},
	{"The CLI command failed.", "error", "gateway_error", "cli_failure", "", ""},
	{"http server listening", "info", "lifecycle", "", "", ""},
	{"ended with stopReason=stop", "info", "other", "run_end", "", ""},
	{"conversation hooks not granted", "warn", "other", "", "", ""},
}

// checkLogFollower starts a second sidecar on the gateway log the turns
// wrote (from its beginning, as on a first start) and checks that every
// line at info or above became a log event, and the kinds of known lines.
func checkLogFollower(t *testing.T, gwLog string) {
	t.Helper()
	b, err := os.ReadFile(gwLog)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec struct {
			Meta struct{ LogLevelName string } `json:"_meta"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Meta.LogLevelName != "DEBUG" && rec.Meta.LogLevelName != "TRACE" {
			want++
		}
	}
	d := startDaemon(t, "", "OCT_LOG_PATH="+gwLog)
	db := openReadOnly(t, d.DBPath)
	// a failed CLI command's block of lines is folded into one event
	count := func() (rows, folded int) {
		db.QueryRow(`SELECT count(*), coalesce(sum(json_extract(metadata, '$.folded_lines')), 0) FROM log_events`).Scan(&rows, &folded)
		return rows, folded
	}
	deadline := time.Now().Add(15 * time.Second)
	got, folded := count()
	for got+folded < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		got, folded = count()
	}
	if got+folded != want {
		t.Errorf("log_events: %d rows + %d folded lines, from %d lines at info or above", got, folded, want)
	}
	for _, k := range logKinds {
		var kind, level, meta string
		err := db.QueryRow(`SELECT kind, level, coalesce(metadata, '{}') FROM log_events WHERE instr(message, ?) > 0 ORDER BY id LIMIT 1`, k.phrase).Scan(&kind, &level, &meta)
		var md map[string]any
		json.Unmarshal([]byte(meta), &md)
		rule, _ := md["rule"].(string)
		value := ""
		if k.field != "" && md[k.field] != nil {
			value = fmt.Sprint(md[k.field])
		}
		if err != nil || kind != k.kind || level != k.level || rule != k.rule || value != k.value {
			t.Errorf("log line %q: kind %q level %q rule %q %s=%q (%v), want %q %q %q %q", k.phrase, kind, level, rule, k.field, value, err, k.kind, k.level, k.rule, k.value)
		}
	}
	var kinds []string
	q, err := db.Query(`SELECT kind || ' ' || count(*) FROM log_events GROUP BY kind ORDER BY kind`)
	if err == nil {
		defer q.Close()
		for q.Next() {
			var s string
			q.Scan(&s)
			kinds = append(kinds, s)
		}
	}
	t.Logf("log follower on the real gateway log (%d lines at info+): %s", want, strings.Join(kinds, ", "))
}
