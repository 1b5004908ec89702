package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// fetchJSON fetches url and decodes its JSON body.
func fetchJSON(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", u, ct)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode, out
}

// TestViewEndpoints: attribution sent at top level and, by an older
// sender, inside metadata, lands in the breakdowns of /v1/summary and
// /v1/breakdown; a session lists its calls in order and each call opens
// its full row.
func TestViewEndpoints(t *testing.T) {
	d := startDaemon(t, "")
	now := time.Now().UnixMilli()
	const session = "agent:main:telegram:direct:1001/x"
	body, _ := json.Marshal([]map[string]any{
		{"provider": "openai", "model": "gpt-4o", "prompt_tokens": 1000, "cost_usd": 0.01, "latency_ms": 900, "ttft_ms": 200,
			"ts": now - 3000, "agent_id": "main", "channel": "telegram", "trigger": "user", "session_key": session, "run_id": "r1", "call_kind": "turn"},
		{"provider": "openai", "model": "gpt-4o", "prompt_tokens": 5000, "cost_usd": 0.04, "latency_ms": 2000, "status": "error",
			"error_type": "rate_limit", "ts": now - 2000, "agent_id": "main", "trigger": "user", "session_key": session, "call_kind": "compaction"},
		{"provider": "openai", "model": "gpt-4o-mini", "prompt_tokens": 10, "ts": now - 1000,
			"metadata": map[string]any{"agent_id": "main", "trigger": "heartbeat", "session_key": "agent:main:main"}},
		{"provider": "local", "model": "qwen", "prompt_tokens": 10, "ts": now - 500,
			"metadata": map[string]any{"agent_id": "ops", "trigger": "cron", "cron_job_id": "nightly"}},
	})
	code, accepted := post(t, d.URL("/v1/traces"), "application/json", body)
	if code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, accepted)
	}
	poll.Until(t, "4 traces written", 10*time.Second, func() bool {
		return d.Health()["counters"].(map[string]any)["written"] == 4.0
	})
	if abs, _ := filepath.Abs(d.DBPath); d.Health()["db_path"] != abs {
		t.Errorf("/health db_path %v, want %s", d.Health()["db_path"], abs)
	}

	_, doc := fetchJSON(t, d.URL("/v1/summary?since=1h"))
	s := doc["summary"].(map[string]any)
	keys := func(list string) map[string]float64 {
		m := map[string]float64{}
		for _, g := range s[list].([]any) {
			g := g.(map[string]any)
			m[g["key"].(string)] = g["calls"].(float64)
		}
		return m
	}
	for list, want := range map[string]map[string]float64{
		"by_agent":     {"main": 3, "ops": 1},
		"by_trigger":   {"user": 2, "heartbeat": 1, "cron": 1},
		"by_cron":      {"": 3, "nightly": 1},
		"by_channel":   {"telegram": 1, "": 3},
		"top_sessions": {session: 2, "agent:main:main": 1},
	} {
		if got := keys(list); !equalMaps(got, want) {
			t.Errorf("%s %v, want %v", list, got, want)
		}
	}
	idle := s["idle_burn"].(map[string]any)
	if idle["calls"] != 2.0 || idle["unpriced_calls"] != 1.0 || s["coverage"].(map[string]any)["zone"] != "UTC" {
		t.Errorf("idle burn %v, coverage %v", idle, s["coverage"])
	}

	code, bd := fetchJSON(t, d.URL("/v1/breakdown?since=1h&by=agent,trigger&top=1"))
	groups := bd["breakdown"].(map[string]any)["groups"].([]any)
	first := groups[0].(map[string]any)["keys"].(map[string]any)
	if code != 200 || len(groups) != 1 || first["agent"] != "main" || first["trigger"] != "user" ||
		bd["breakdown"].(map[string]any)["rest_groups"] != 2.0 {
		t.Errorf("breakdown %d %v", code, bd)
	}
	for _, q := range []struct{ query, field string }{{"by=agents", "by"}, {"by=agent&top=x", "top"}, {"by=agent&since=soon", "since"}} {
		if code, body := fetchJSON(t, d.URL("/v1/breakdown?"+q.query)); code != 400 || body["field"] != q.field {
			t.Errorf("%s: %d %v", q.query, code, body)
		}
	}

	code, sc := fetchJSON(t, d.URL("/v1/sessions/"+url.PathEscape(session)+"/calls"))
	calls := sc["calls"].([]any)
	if code != 200 || sc["total"] != 2.0 || len(calls) != 2 {
		t.Fatalf("session calls %d %v", code, sc)
	}
	c0, c1 := calls[0].(map[string]any), calls[1].(map[string]any)
	if c0["at"] != float64(now-3000) || c0["ttft_ms"] != 200.0 || c0["call_kind"] != "turn" || c0["run_id"] != "r1" ||
		c1["status"] != "error" || c1["error_type"] != "rate_limit" || c1["cost_usd"] != 0.04 || c1["call_kind"] != "compaction" {
		t.Errorf("calls out of order or incomplete:\n%v\n%v", c0, c1)
	}
	code, row := fetchJSON(t, d.URL("/v1/calls/"+c1["trace_id"].(string)))
	if code != 200 || row["trace_id"] != c1["trace_id"] || row["session_key"] != session || row["prompt_tokens"] != 5000.0 ||
		row["cost_source"] != "supplied" || row["synced"] != 0.0 {
		t.Errorf("call row %d %v", code, row)
	}
	if code, body := fetchJSON(t, d.URL("/v1/calls/no-such-call")); code != 404 || body["field"] != "trace_id" {
		t.Errorf("unknown call: %d %v", code, body)
	}
	if code, body := fetchJSON(t, d.URL("/v1/sessions/x/calls?limit=0")); code != 400 || body["field"] != "limit" {
		t.Errorf("limit 0: %d %v", code, body)
	}

	// report names the daemon with --url, and shows its counters for its
	// own database only.
	for _, tc := range []struct {
		db, want string
	}{
		{d.DBPath, "serves this database"},
		{reportDB(t), "serves another database"},
	} {
		out, err := output(t, exec.Command(binPath, "report", "--db", tc.db, "--url", d.Addr))
		if err != nil || !strings.Contains(string(out), "DAEMON  http://"+d.Addr+" "+tc.want) {
			t.Errorf("report --db %s: %v\n%s", tc.db, err, out)
		}
	}
}

func equalMaps(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
