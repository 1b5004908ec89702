package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// TestOpenClawAttribution runs, through the pinned gateway with the plugin
// (conversation access), a user turn, an isolated cron job run by
// `openclaw cron run`, a heartbeat woken by `openclaw system event --mode
// now`, and `openclaw sessions compact` of the user turn's session, and
// checks that each call lands in SQLite with its agent, trigger, cron job,
// session, run and call kind as columns.
func TestOpenClawAttribution(t *testing.T) {
	kit := needOpenclaw(t)
	mock := startMockProvider(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "oct.sock")
	d := startDaemon(t, "", "OCT_SOCKET_PATH="+sock)
	waitFile(t, sock)
	db := openReadOnly(t, d.DBPath)
	home := kit.guardHome(t, filepath.Join(dir, "home"), mock, filepath.Join(dir, "openclaw.log"), sock, d.Addr, nil)
	stop := kit.startGateway(t, home, nil)

	kit.turn(t, home, "at1", "OCT-PLAIN-u1 hello", nil, false, true)
	job := kit.cronRun(t, home, "OCT-PLAIN-c1 cron check")
	kit.ocRun(t, home, "system", "event", "--text", "OCT-PLAIN-h1 heartbeat check", "--mode", "now", "--json")
	waitRow(t, db, `trigger = 'heartbeat'`, 3*time.Minute)
	out := kit.ocRun(t, home, "sessions", "compact", "agent:main:explicit:at1", "--json")
	t.Logf("sessions compact: %s", strings.Join(strings.Fields(out), " "))
	waitRow(t, db, `call_kind = 'compaction'`, time.Minute)
	stop()

	rows := attribRows(t, db)
	user, cron := "agent:main:explicit:at1", "agent:main:cron:"+job+":run:"
	var kinds []string
	for i, r := range rows {
		kinds = append(kinds, r.Trigger.String+"/"+r.CallKind.String)
		if r.AgentID.String != "main" || r.RunID.String == "" || r.Channel.Valid {
			t.Errorf("row %d: agent %v run %v channel %v, want main, a run id, no channel", i, r.AgentID, r.RunID, r.Channel)
		}
		switch {
		case r.CallKind.String == "compaction":
			// `sessions compact` is no run a hook announced: no trigger
			if r.SessionKey.String != user || !strings.Contains(r.RunID.String, ":compaction:") || r.Trigger.Valid {
				t.Errorf("row %d (compaction): session %v run %v trigger %v", i, r.SessionKey, r.RunID, r.Trigger)
			}
		case r.Trigger.String == "user":
			if r.SessionKey.String != user || r.CallKind.String != "turn" || r.CronJobID.Valid {
				t.Errorf("row %d (user): %+v", i, r)
			}
		case r.Trigger.String == "cron":
			if !strings.HasPrefix(r.SessionKey.String, cron) || r.CronJobID.String != job || r.CallKind.String != "turn" {
				t.Errorf("row %d (cron): session %v job %v kind %v, want %s… job %s", i, r.SessionKey, r.CronJobID, r.CallKind, cron, job)
			}
		case r.Trigger.String == "heartbeat":
			if r.SessionKey.String != "agent:main:main" || r.CallKind.String != "turn" || r.CronJobID.Valid {
				t.Errorf("row %d (heartbeat): %+v", i, r)
			}
		default:
			t.Errorf("row %d: trigger %v kind %v", i, r.Trigger, r.CallKind)
		}
	}
	t.Logf("rows (trigger/call_kind): %s", strings.Join(kinds, " "))
	for _, w := range []string{"user/turn", "cron/turn", "heartbeat/turn", "/compaction"} {
		if !strings.Contains(" "+strings.Join(kinds, " ")+" ", " "+w+" ") {
			t.Errorf("no %s row: %v", w, kinds)
		}
	}
}

// attribRow is one llm_traces row's attribution columns.
type attribRow struct {
	AgentID, Channel, Trigger, CronJobID, SessionKey, RunID, CallKind sql.NullString
	Model                                                             string
}

func attribRows(t *testing.T, db *sql.DB) []attribRow {
	t.Helper()
	q, err := db.Query(`SELECT agent_id, channel, trigger, cron_job_id, session_key, run_id, call_kind, model FROM llm_traces ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var rows []attribRow
	for q.Next() {
		var r attribRow
		if err := q.Scan(&r.AgentID, &r.Channel, &r.Trigger, &r.CronJobID, &r.SessionKey, &r.RunID, &r.CallKind, &r.Model); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	return rows
}

// waitRow waits until llm_traces has a row where cond holds.
func waitRow(t *testing.T, db *sql.DB, cond string, within time.Duration) {
	t.Helper()
	poll.Until(t, "an llm_traces row where "+cond, within, func() bool {
		var n int
		return db.QueryRow(`SELECT count(*) FROM llm_traces WHERE `+cond).Scan(&n) == nil && n > 0
	})
}

// ocRun runs an openclaw command in home that must succeed, and returns
// its stdout.
func (k *openclawKit) ocRun(t *testing.T, home string, args ...string) string {
	t.Helper()
	start := time.Now()
	out, errOut, err := k.run(t, home, 4*time.Minute, nil, args...)
	if err != nil {
		t.Fatalf("openclaw %s: %v\n%s\n%s", strings.Join(args, " "), err, out, tail([]byte(errOut), 3000))
	}
	t.Logf("openclaw %s %s: %v", args[0], args[1], time.Since(start).Round(time.Millisecond))
	return out
}

// cronRun adds an isolated cron job with message (every hour, so it only
// runs when asked), runs it now through the gateway and waits for it; it
// returns the job id.
func (k *openclawKit) cronRun(t *testing.T, home, message string) string {
	t.Helper()
	out := k.ocRun(t, home, "cron", "add", "--name", "oct-cron", "--every", "1h", "--session", "isolated", "--message", message, "--no-deliver", "--json")
	var job struct{ ID string }
	if i := strings.Index(out, "{"); i < 0 || json.Unmarshal([]byte(out[i:]), &job) != nil || job.ID == "" {
		t.Fatalf("cron add: no job id in %s", out)
	}
	k.ocRun(t, home, "cron", "run", job.ID, "--wait", "--wait-timeout", "3m", "--poll-interval", "1s")
	return job.ID
}

// guardHome writes an OpenClaw home for a gateway with the plugin
// (conversation access; its load path written as `plugins install -l`
// writes it), the mock provider with two priced models (m1, and m2 to
// downgrade to), a README.md in the workspace for the tool calls to read,
// and plugin options extra; it checks `plugins inspect --runtime`.
func (k *openclawKit) guardHome(t *testing.T, home string, mock *mockProvider, gwLog, sock, httpAddr string, extra map[string]any) string {
	t.Helper()
	model := func(id string, in, out float64) map[string]any {
		return map[string]any{"id": id, "name": id, "reasoning": false, "input": []string{"text"},
			"cost": map[string]any{"input": in, "output": out, "cacheRead": in / 10, "cacheWrite": in * 1.25}, "contextWindow": 128000, "maxTokens": 4096}
	}
	pcfg := map[string]any{"socketPath": sock, "udpPort": 9, "httpUrl": "http://" + httpAddr, "maxPending": 500, "settleMs": 500}
	for k, v := range extra {
		pcfg[k] = v
	}
	cfg := map[string]any{
		"models": map[string]any{"mode": "merge", "providers": map[string]any{"mock": map[string]any{
			"baseUrl": mock.URL(), "apiKey": "sk-mock", "api": "openai-completions",
			"models": []any{model("m1", 3, 15), model("m2", 0.3, 1.5)}}}},
		"agents":  map[string]any{"defaults": map[string]any{"model": map[string]any{"primary": "mock/m1"}}},
		"logging": map[string]any{"file": gwLog, "level": "info"},
		"gateway": k.gatewayConfig(t),
		"plugins": map[string]any{"allow": []string{"openclaw-trace"}, "load": map[string]any{"paths": []string{k.PluginDir}},
			"entries": map[string]any{"openclaw-trace": map[string]any{"enabled": true, "hooks": map[string]any{"allowConversationAccess": true}, "config": pcfg}}},
	}
	b, _ := json.MarshalIndent(cfg, "", " ")
	ws := filepath.Join(home, ".openclaw", "workspace")
	if err := os.MkdirAll(ws, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".openclaw", "openclaw.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "README.md"), []byte("# readme\nhello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := k.ocRun(t, home, "plugins", "inspect", "openclaw-trace", "--runtime", "--json")
	var insp struct {
		Plugin struct {
			Status string `json:"status"`
		} `json:"plugin"`
		TypedHooks  []struct{ Name string } `json:"typedHooks"`
		Diagnostics []any                   `json:"diagnostics"`
	}
	if i := strings.Index(out, "{"); i < 0 || json.Unmarshal([]byte(out[i:]), &insp) != nil {
		t.Fatalf("inspect output: %s", out)
	}
	var hooks []string
	for _, h := range insp.TypedHooks {
		hooks = append(hooks, h.Name)
	}
	want := "before_message_write,before_model_resolve,gateway_stop,llm_output,message_received,message_sent,model_call_ended"
	if extra["guard"] != nil && extra["guard"] != "off" {
		want = "before_agent_run,before_message_write,before_model_resolve,before_tool_call,gateway_stop,llm_output,message_received,message_sent,model_call_ended"
	}
	sort.Strings(hooks)
	if got := strings.Join(hooks, ","); got != want || insp.Plugin.Status != "loaded" || len(insp.Diagnostics) != 0 {
		t.Fatalf("inspect: status %q hooks %s (want %s), diagnostics %v", insp.Plugin.Status, got, want, insp.Diagnostics)
	}
	return home
}
