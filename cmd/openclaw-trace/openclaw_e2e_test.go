package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestOpenClawPlugin runs real agent turns in a real OpenClaw (pinned, on
// Node 24, installed by npm into a cache dir) with the repository's plugin
// installed the way users install it, against a mock provider and the real
// sidecar on its unix socket (UDP is off, so a fallback would lose rows), and
// checks SQLite row by row against what the mock served. Then it feeds the
// gateway log those runs wrote to the sidecar's log follower.
func TestOpenClawPlugin(t *testing.T) {
	kit := needOpenclaw(t)
	mock := startMockProvider(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "oct.sock")
	d := startDaemon(t, "", "OCT_SOCKET_PATH="+sock)
	waitFile(t, sock)
	gwLog := filepath.Join(dir, "openclaw.log")
	stats := filepath.Join(dir, "plugin-stats.jsonl")
	env := []string{"OCT_PLUGIN_STATS_FILE=" + stats}

	// With conversation access, one --local turn of four model calls (each
	// process start costs 10-40 s here): a 429 and a 500 that OpenClaw
	// retries, then a tool call and the answer after it. Without access, a
	// plain turn through the real gateway, then a Telegram DM to the same
	// gateway from a mock Bot API (stopped after it: gateway_stop flushes),
	// and a --local turn whose provider is down (nothing listens on its
	// port), its retries bounded to one (a failed call is otherwise retried
	// 8 times over ~90 s).
	db := openReadOnly(t, d.DBPath)
	arrivals := watchRows(t, db)
	withAccess := kit.setupHome(t, filepath.Join(dir, "home-access"), mock, gwLog, sock, d.Addr, true, nil)
	kit.turn(t, withAccess, "s1", "OCT-MIX-a1 read the readme", env, true, true)
	tg := startMockTelegram(t)
	noAccess := kit.setupHome(t, filepath.Join(dir, "home-noaccess"), mock, gwLog, sock, d.Addr, false, tg)
	stopGateway := kit.startGateway(t, noAccess, env)
	kit.turn(t, noAccess, "s2", "OCT-PLAIN-b2 hello", env, false, true)
	// a Telegram DM: message_received, one model call, the reply's message_sent
	tg.Deliver("OCT-PLAIN-t4 hello from telegram")
	tg.WaitSent(t, 1, 2*time.Minute)
	stopGateway()
	boundRetries(t, noAccess, 1)
	providerDown(t, noAccess)
	kit.turn(t, noAccess, "s3", "OCT-PLAIN-c3 hello", env, true, false)

	served := mock.Served()
	rows := waitTraces(t, db, len(served)+downRows)
	checkRows(t, rows, served)
	checkArrivals(t, arrivals(), served)
	checkErrors(t, db)
	checkNoPricedFailure(t, db)
	checkChannelEvents(t, db, rows[telegramRow], tg.Sent())
	checkPluginStats(t, stats)
	checkAccessWarning(t, gwLog)
	checkLogFollower(t, gwLog)
}

// setupHome writes an OpenClaw config (mock provider with prices, the
// sidecar's socket, log file) and checks `plugins inspect --runtime`. With
// access it installs the plugin with `openclaw plugins install -l` and
// checks `config validate`; without, it writes plugins.load.paths itself
// (what install -l writes), to spare two slow process starts. With tg it
// enables the bundled telegram channel against that mock Bot API.
func (k *openclawKit) setupHome(t *testing.T, home string, mock *mockProvider, gwLog, sock, httpAddr string, access bool, tg *mockTelegram) string {
	t.Helper()
	cfg := map[string]any{
		"models": map[string]any{"mode": "merge", "providers": map[string]any{"mock": map[string]any{
			"baseUrl": mock.URL(), "apiKey": "sk-mock", "api": "openai-completions",
			"models": []any{map[string]any{"id": "m1", "name": "M1", "reasoning": false, "input": []string{"text"},
				"cost":          map[string]any{"input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75},
				"contextWindow": 128000, "maxTokens": 4096}}}}},
		"agents":  map[string]any{"defaults": map[string]any{"model": map[string]any{"primary": "mock/m1"}}},
		"logging": map[string]any{"file": gwLog, "level": "info"},
		"plugins": map[string]any{"allow": []string{"openclaw-trace"}, "entries": map[string]any{"openclaw-trace": map[string]any{
			"enabled": true,
			"hooks":   map[string]any{"allowConversationAccess": access},
			// udpPort has no listener: only the unix socket delivers
			"config": map[string]any{"socketPath": sock, "udpPort": 9, "httpUrl": "http://" + httpAddr, "maxPending": 500, "settleMs": 500},
		}}},
	}
	if !access {
		cfg["plugins"].(map[string]any)["load"] = map[string]any{"paths": []string{k.PluginDir}}
		cfg["gateway"] = k.gatewayConfig(t)
	}
	if tg != nil {
		cfg["channels"] = map[string]any{"telegram": tg.Channel()}
		// a DM gets its own session (agent:main:telegram:direct:<chat>), apart from the CLI turn's
		cfg["session"] = map[string]any{"dmScope": "per-channel-peer"}
	}
	b, _ := json.MarshalIndent(cfg, "", " ")
	if err := os.MkdirAll(filepath.Join(home, ".openclaw"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".openclaw", "openclaw.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if access {
		if out, errOut, err := k.run(t, home, 2*time.Minute, nil, "plugins", "install", "-l", k.PluginDir, "--force", "--accept-capabilities"); err != nil {
			t.Fatalf("openclaw plugins install: %v\n%s\n%s", err, out, errOut)
		}
		// every option set above (maxPending, settleMs, …) passes the manifest's configSchema
		if out, errOut, err := k.run(t, home, 3*time.Minute, nil, "config", "validate"); err != nil || !strings.Contains(out+errOut, "Config valid") {
			t.Fatalf("openclaw config validate: %v\n%s\n%s", err, out, errOut)
		}
	}
	out, errOut, err := k.run(t, home, 3*time.Minute, nil, "plugins", "inspect", "openclaw-trace", "--runtime", "--json")
	if err != nil {
		t.Fatalf("openclaw plugins inspect: %v\n%s", err, errOut)
	}
	var insp struct {
		Plugin struct {
			Status string `json:"status"`
		} `json:"plugin"`
		TypedHooks  []struct{ Name string } `json:"typedHooks"`
		Diagnostics []any                   `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &insp); err != nil {
		t.Fatalf("inspect output: %v\n%s", err, out)
	}
	var hooks []string
	for _, h := range insp.TypedHooks {
		hooks = append(hooks, h.Name)
	}
	want := "before_message_write,gateway_stop,message_received,message_sent,model_call_ended"
	if access {
		want = "before_message_write,before_model_resolve,gateway_stop,llm_output,message_received,message_sent,model_call_ended"
	}
	if got := strings.Join(hooks, ","); got != want || insp.Plugin.Status != "loaded" || len(insp.Diagnostics) != 0 {
		t.Fatalf("inspect (access %v): status %q hooks %s (want %s), diagnostics %v", access, insp.Plugin.Status, got, want, insp.Diagnostics)
	}
	return home
}

// turn runs one `openclaw agent` turn in a new session, embedded (local)
// or through the running gateway; ok says whether it should succeed.
func (k *openclawKit) turn(t *testing.T, home, session, msg string, env []string, local, ok bool) {
	t.Helper()
	start := time.Now()
	args := []string{"agent", "--session-id", session, "-m", msg, "--json", "--timeout", "300"}
	if local {
		args = append(args, "--local")
	}
	out, errOut, err := k.run(t, home, 6*time.Minute, env, args...)
	if (err == nil) != ok {
		t.Fatalf("openclaw agent %q: error %v, want success %v\n%s\n%s", msg, err, ok, out, tail([]byte(errOut), 4000))
	}
	t.Logf("turn %q: %v", msg, time.Since(start).Round(time.Millisecond))
}

// traceRow is one llm_traces row with the attribution columns and the
// metadata the plugin sets.
type traceRow struct {
	Prompt, Completion, CacheRead, Latency, TTFT sql.NullInt64
	Cost                                         sql.NullFloat64
	Status, ErrorType, CostSource                sql.NullString
	Provider, Model                              string
	AgentID, Channel, Trigger, SessionKey, RunID sql.NullString
	CallKind                                     sql.NullString
	Meta                                         struct {
		CallID     string `json:"call_id"`
		SessionID  string `json:"session_id"`
		Attempt    int    `json:"attempt"`
		HTTPStatus int    `json:"http_status"`
		Finish     string `json:"finish_reason"`
		Harness    string `json:"harness"`
		Matched    string `json:"matched"`
	}
}

// openReadOnly reads the running daemon's database beside it (WAL).
func openReadOnly(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitTraces waits until n rows are in llm_traces (and no more come within
// a short grace period) and returns them in arrival order.
func waitTraces(t *testing.T, db *sql.DB, n int) []traceRow {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got int
	for time.Now().Before(deadline) {
		if err := db.QueryRow(`SELECT count(*) FROM llm_traces`).Scan(&got); err == nil && got >= n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond) // past settleMs + batch window: a duplicate would show
	q, err := db.Query(`SELECT provider, model, prompt_tokens, completion_tokens, cache_read_tokens, cost_usd,
		latency_ms, ttft_ms, status, error_type, cost_source, agent_id, channel, trigger, session_key, run_id, call_kind,
		metadata FROM llm_traces ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var rows []traceRow
	for q.Next() {
		var r traceRow
		var meta string
		if err := q.Scan(&r.Provider, &r.Model, &r.Prompt, &r.Completion, &r.CacheRead, &r.Cost, &r.Latency, &r.TTFT, &r.Status, &r.ErrorType, &r.CostSource,
			&r.AgentID, &r.Channel, &r.Trigger, &r.SessionKey, &r.RunID, &r.CallKind, &meta); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(meta), &r.Meta); err != nil {
			t.Fatalf("metadata %q: %v", meta, err)
		}
		rows = append(rows, r)
	}
	if len(rows) != n {
		t.Fatalf("llm_traces has %d rows, want %d (one per model call the mock served)", len(rows), n)
	}
	return rows
}

// providerDown points the mock provider of home at a loopback port nothing
// listens on: every call is refused ("Connection error." in OpenClaw).
func providerDown(t *testing.T, home string) {
	t.Helper()
	p := filepath.Join(home, ".openclaw", "openclaw.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	mock := cfg["models"].(map[string]any)["providers"].(map[string]any)["mock"].(map[string]any)
	mock["baseUrl"] = fmt.Sprintf("http://127.0.0.1:%d/v1", freePort(t))
	if b, err = json.MarshalIndent(cfg, "", " "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// boundRetries sets the embedded runtime's retry.provider.maxRetries, a
// setting of the agent's settings.json (not an openclaw.json key; see
// docs/concepts/retry.md).
func boundRetries(t *testing.T, home string, n int) {
	t.Helper()
	p := filepath.Join(home, ".openclaw", "agents", "main", "agent", "settings.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(fmt.Sprintf(`{"retry":{"provider":{"maxRetries":%d}}}`, n)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// wantRows are the rows of the turns, in order: the mixed turn's call 1
// three times (429, 500, then the tool call: retries share the call id),
// its call 2, the plain turn's call, the Telegram DM's call (run by the
// same gateway), and the down turn's call twice (one retry; status 0: the
// mock never saw them, the connection was refused). harness comes from
// llm_output, seen after the first failed attempt, and only with access.
// run numbers the turns.
var wantRows = []struct {
	run, status        int
	code               string
	attempt            int
	call, finish, harn string
}{
	{0, 429, "rate_limit", 1, ":model:1", "error", ""},
	{0, 500, "api_error", 2, ":model:1", "error", "openclaw"},
	{0, 200, "", 3, ":model:1", "toolUse", "openclaw"},
	{0, 200, "", 1, ":model:2", "stop", "openclaw"},
	{1, 200, "", 1, ":model:1", "stop", ""},
	{2, 200, "", 1, ":model:1", "stop", ""},
	{3, 0, "network", 1, ":model:1", "error", ""},
	{3, 0, "network", 2, ":model:1", "error", ""},
}

// downRows are the rows of calls to the provider that is down.
const downRows = 2

// telegramRow is the Telegram DM's call in wantRows.
const telegramRow = 5

// checkRows compares row i with the mock's call i: tokens, cost at the
// configured price (input 3, output 15, cache read 0.3 $/M), latency at least
// the mock's think time, status, error code, call id and attempt.
func checkRows(t *testing.T, rows []traceRow, served []mockCall) {
	t.Helper()
	if len(served) != len(wantRows)-downRows {
		t.Fatalf("mock served %d calls, want %d: %+v", len(served), len(wantRows)-downRows, served)
	}
	for i, w := range wantRows {
		r := rows[i]
		var c mockCall
		if i < len(served) {
			c = served[i]
		}
		if c.Status != w.status {
			t.Fatalf("mock call %d: HTTP %d, want %d", i, c.Status, w.status)
		}
		first := i
		for first > 0 && wantRows[first-1].run == w.run {
			first--
		}
		wantRun := rows[first].RunID.String
		if first == i && i > 0 && r.RunID.String == rows[i-1].RunID.String {
			t.Errorf("row %d: run %s, the same as the turn before", i, r.RunID.String)
		}
		if r.RunID.String == "" || r.RunID.String != wantRun || r.Meta.CallID != r.RunID.String+w.call || r.Meta.Attempt != w.attempt {
			t.Errorf("row %d: run %s call %s attempt %d, want run %s call <run>%s attempt %d", i, r.RunID.String, r.Meta.CallID, r.Meta.Attempt, wantRun, w.call, w.attempt)
		}
		// attribution columns: the trigger only with conversation access
		// (before_model_resolve); the channel of the Telegram DM from its
		// message hooks; the agent everywhere
		wantTrigger, wantChannel := "", ""
		if w.run == 0 {
			wantTrigger = "user"
		}
		if i == telegramRow {
			wantChannel = "telegram"
		}
		if r.AgentID.String != "main" || r.Trigger.String != wantTrigger || r.Channel.String != wantChannel || r.CallKind.String != "turn" || !strings.HasPrefix(r.SessionKey.String, "agent:main:") {
			t.Errorf("row %d: agent %v trigger %v channel %v kind %v session %v, want main %q %q turn agent:main:…", i, r.AgentID, r.Trigger, r.Channel, r.CallKind, r.SessionKey, wantTrigger, wantChannel)
		}
		if r.Provider != "mock" || r.Model != "m1" || r.Meta.Matched != "" || r.Meta.Finish != w.finish || r.Meta.Harness != w.harn {
			t.Errorf("row %d: %s/%s matched %q finish %q harness %q, want finish %q harness %q", i, r.Provider, r.Model, r.Meta.Matched, r.Meta.Finish, r.Meta.Harness, w.finish, w.harn)
		}
		if w.status != 0 && (r.Latency.Int64 < c.FirstByteMs() || r.Latency.Int64 > c.Took.Milliseconds()+2000 || r.TTFT.Int64 < c.FirstByteMs() || r.TTFT.Int64 > r.Latency.Int64) {
			t.Errorf("row %d: latency %v ttft %v, mock took %v with %d ms to first byte", i, r.Latency, r.TTFT, c.Took, c.FirstByteMs())
		}
		if w.status != 200 {
			if r.Status.String != "error" || r.ErrorType.String != w.code || r.Meta.HTTPStatus != w.status {
				t.Errorf("row %d (HTTP %d): status %v error_type %v http_status %d, want error %s", i, w.status, r.Status, r.ErrorType, r.Meta.HTTPStatus, w.code)
			}
			// OpenClaw writes a zero usage for a failed call: unknown, not 0
			if r.Prompt.Valid || r.Completion.Valid || r.CacheRead.Valid || r.Cost.Valid || r.CostSource.String != "no_usage" {
				t.Errorf("row %d (HTTP %d): prompt %v completion %v cached %v cost %v source %v, want NULL tokens and cost, no_usage",
					i, w.status, r.Prompt, r.Completion, r.CacheRead, r.Cost, r.CostSource)
			}
			continue
		}
		wantCost := (float64(c.Prompt-c.Cached)*3 + float64(c.Cached)*0.3 + float64(c.Completion)*15) / 1e6
		got := fmt.Sprint(r.Prompt.Int64, r.Completion.Int64, r.CacheRead.Int64, r.Status.String)
		want := fmt.Sprint(c.Prompt, c.Completion, c.Cached, "ok")
		if got != want || math.Abs(r.Cost.Float64-wantCost) > 1e-9 {
			t.Errorf("row %d: prompt completion cached status %s cost %v, want %s cost %v", i, got, r.Cost.Float64, want, wantCost)
		}
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !exists(path) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// watchRows polls llm_traces every 10 ms and records when each row
// appeared; the returned func stops it and returns the times.
func watchRows(t *testing.T, db *sql.DB) func() []time.Time {
	stop, done := make(chan struct{}), make(chan []time.Time)
	go func() {
		var seen []time.Time
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				done <- seen
				return
			case <-tick.C:
				var n int
				if db.QueryRow(`SELECT count(*) FROM llm_traces`).Scan(&n) == nil {
					for len(seen) < n {
						seen = append(seen, time.Now())
					}
				}
			}
		}
	}()
	var once []time.Time
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			close(stop)
			<-done
		}
	})
	return func() []time.Time {
		if !stopped {
			stopped = true
			close(stop)
			once = <-done
		}
		return once
	}
}

// checkArrivals: each row is in SQLite within about a second of the mock
// writing the call's answer (OpenClaw's own work after the response, the
// plugin, the datagram, the sidecar's 50 ms batch window), not after a
// match timeout. Bounded at 3 s for a loaded machine; the figures are logged.
func checkArrivals(t *testing.T, at []time.Time, served []mockCall) {
	t.Helper()
	var figs []string
	for i, c := range served {
		if i >= len(at) {
			t.Errorf("row %d: not seen while the turns ran", i)
			continue
		}
		d := at[i].Sub(c.End)
		figs = append(figs, d.Round(time.Millisecond).String())
		if d > 3*time.Second {
			t.Errorf("row %d: in SQLite %v after the call's answer", i, d)
		}
	}
	t.Logf("call answered -> row in SQLite: %s", strings.Join(figs, " "))
}
