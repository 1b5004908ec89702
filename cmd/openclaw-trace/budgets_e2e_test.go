package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// hookReceiver is an incoming webhook that answers the first of its
// answers, then 200, and keeps the bodies it took.
type hookReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	answers []int
	bodies  []map[string]any
}

func newHookReceiver(t *testing.T, answers ...int) *hookReceiver {
	h := &hookReceiver{answers: answers}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.answers) > 0 {
			w.WriteHeader(h.answers[0])
			h.answers = h.answers[1:]
			return
		}
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook body %q (%v), content type %q", b, err, r.Header.Get("Content-Type"))
		}
		h.bodies = append(h.bodies, body)
	}))
	t.Cleanup(h.Close)
	return h
}

// alerts returns "budget_id@threshold" of each body taken, in order.
func (h *hookReceiver) alerts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, b := range h.bodies {
		out = append(out, fmt.Sprintf("%v@%v", b["budget_id"], b["threshold_pct"]))
	}
	return out
}

// budgetsByID is GET /v1/budgets, by budget id.
func budgetsByID(t *testing.T, d *daemon) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, b := range getJSON(t, d.URL("/v1/budgets"))["budgets"].([]any) {
		m := b.(map[string]any)
		out[m["id"].(string)] = m
	}
	return out
}

// budgetHealth reads /health's budgets section: alerts and webhook.
func budgetHealth(t *testing.T, d *daemon) (alerts, webhook map[string]any) {
	t.Helper()
	b := d.Health()["budgets"].(map[string]any)
	return b["alerts"].(map[string]any), b["webhook"].(map[string]any)
}

const e2eBudgets = "agent=main:1usd/day; 10usd/month; session=agent:main:main:0.5usd/day"

// TestBudgetsEndToEnd runs the real binary: spend follows the calls it
// stores; each threshold alerts once (log, event, webhook), the webhook
// down and then up gets each alert once and its attempts are counted;
// /v1/budgets, /health and /metrics tell the state; a restart restores the
// spend and alerts nothing again; the webhook's secret URL shows nowhere.
func TestBudgetsEndToEnd(t *testing.T) {
	hook := newHookReceiver(t, http.StatusServiceUnavailable, http.StatusBadGateway)
	env := []string{"OCT_BUDGETS=" + e2eBudgets, "OCT_BUDGET_WARN=50%,80%", "OCT_BUDGET_TZ=Europe/Berlin",
		"OCT_ALERT_WEBHOOK_URL=" + hook.URL + "/services/T0/B0/SECRETTOKEN"}
	d := startDaemon(t, "", env...)
	total := 0.0
	for _, cost := range []float64{0.3, 0.3, 0.3, 0.2} {
		code, _ := post(t, d.URL("/v1/traces"), "application/json", []byte(fmt.Sprintf(
			`{"provider":"anthropic","model":"claude-opus-4","cost_usd":%v,"agent_id":"main","session_key":"agent:main:main"}`, cost)))
		if code != http.StatusAccepted {
			t.Fatalf("POST /v1/traces: %d", code)
		}
		total += cost
		want := fmt.Sprintf("%.9f", total)
		poll.Until(t, "spend "+want, 10*time.Second, func() bool {
			return fmt.Sprintf("%.9f", budgetsByID(t, d)["agent=main/day"]["spent_usd"]) == want
		})
	}
	b := budgetsByID(t, d)
	for id, state := range map[string]string{"agent=main/day": "over", "session=agent:main:main/day": "over", "all/month": "ok"} {
		s := b[id]
		for _, k := range []string{"id", "scope", "window", "window_start", "window_end", "limit_usd", "spent_usd", "unpriced_calls",
			"state", "scope_kind", "scope_value", "resets_at", "lower_bound", "calls", "used_pct", "alerted_pct"} {
			if _, ok := s[k]; !ok {
				t.Errorf("%s has no %s: %v", id, k, s)
			}
		}
		if s["state"] != state || s["spent_usd"] != 1.1 || s["calls"] != 4.0 || s["unpriced_calls"] != 0.0 {
			t.Errorf("%s = %v, want state %s and 1.1 spent", id, s, state)
		}
	}
	wantAlerts := []string{"agent=main/day@50", "agent=main/day@80", "agent=main/day@100",
		"session=agent:main:main/day@50", "session=agent:main:main/day@80", "session=agent:main:main/day@100"}
	poll.Until(t, "6 alerts delivered", 30*time.Second, func() bool {
		_, wh := budgetHealth(t, d)
		return wh["sent"] == 6.0
	})
	got := hook.alerts()
	slices.Sort(got)
	slices.Sort(wantAlerts)
	if !slices.Equal(got, wantAlerts) {
		t.Errorf("webhook got %v, want each threshold once: %v", got, wantAlerts)
	}
	alerts, wh := budgetHealth(t, d)
	if alerts["raised"] != 6.0 || wh["attempts"] != 8.0 || wh["retries"] != 2.0 || wh["status"] != "ok" ||
		wh["failures"].(map[string]any)["http_5xx"] != 2.0 || wh["gave_up"] != 0.0 || wh["dropped"] != 0.0 {
		t.Errorf("alerts %v, webhook %v: want 6 raised, 8 attempts (two 5xx)", alerts, wh)
	}
	if tr := d.Health()["counters"].(map[string]any)["transports"].(map[string]any)["budget"].(map[string]any); tr["written"] != 6.0 {
		t.Errorf("budget transport %v: want 6 events written", tr)
	}
	metrics := fetchText(t, d.URL("/metrics"))
	for _, line := range []string{`openclaw_trace_budget_spent_usd{budget="agent=main/day"} 1.1`,
		`openclaw_trace_budget_limit_usd{budget="session=agent:main:main/day"} 0.5`,
		`openclaw_trace_budget_state{budget="all/month"} 0`, `openclaw_trace_alert_webhook_sent_total 6`} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(logLines(d.Logs(), "budget alert")); n != 6 {
		t.Errorf("%d budget alert log lines, want 6", n)
	}

	// Restart: the spend is back, nothing alerts again.
	d2 := startDaemon(t, d.Dir, env...)
	if b2 := budgetsByID(t, d2); b2["agent=main/day"]["spent_usd"] != 1.1 || b2["session=agent:main:main/day"]["spent_usd"] != 1.1 ||
		b2["all/month"]["spent_usd"] != 1.1 || fmt.Sprint(b2["agent=main/day"]["alerted_pct"]) != "[50 80 100]" {
		t.Errorf("after restart: %v", b2)
	}
	post(t, d2.URL("/v1/traces"), "application/json", []byte(`{"provider":"p","model":"m","cost_usd":0.1,"agent_id":"main"}`))
	poll.Until(t, "spend 1.2", 10*time.Second, func() bool { return budgetsByID(t, d2)["agent=main/day"]["spent_usd"] == 1.2 })
	alerts, wh = budgetHealth(t, d2)
	if alerts["raised"] != 0.0 || alerts["pending"] != 0.0 || alerts["repeated"] != 0.0 || wh["queued"] != 0.0 {
		t.Errorf("after restart: alerts %v, webhook %v; want none", alerts, wh)
	}
	if err := d2.Stop(); err != nil {
		t.Fatal(err)
	}
	if len(hook.alerts()) != 6 {
		t.Errorf("webhook got %d alerts in all, want 6", len(hook.alerts()))
	}
	for _, logs := range []string{d.Logs(), d2.Logs()} {
		if strings.Contains(logs, "SECRETTOKEN") {
			t.Error("the webhook URL is in the log")
		}
	}
	checkBudgetEvents(t, d.DBPath)
}

// checkBudgetEvents: the alerts are error_events rows (push and OTLP
// deliver them), error_type budget, code warn or over.
func checkBudgetEvents(t *testing.T, path string) {
	t.Helper()
	db, err := store.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Reader().QueryContext(context.Background(),
		`SELECT code || '/' || severity || '/' || json_extract(metadata, '$.threshold_pct') FROM error_events WHERE error_type = 'budget' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	want := []string{"over/error/100", "over/error/100", "warn/warning/50", "warn/warning/50", "warn/warning/80", "warn/warning/80"}
	if !slices.Equal(got, want) {
		t.Errorf("budget events %v, want %v", got, want)
	}
}

func fetchText(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A bad budget stops start-up: exit 2, one line that names the budget.
func TestBudgetsBadSpec(t *testing.T) {
	dir := t.TempDir()
	base := []string{"PATH=" + os.Getenv("PATH"), "OCT_DB_PATH=" + filepath.Join(dir, "t.db"), "OCT_PORT=0"}
	for _, tt := range []struct {
		env  string
		want []string
	}{
		{"OCT_BUDGETS=5usd/day; agent=main:2usd/dya", []string{"OCT_BUDGETS", `budget 2 "agent=main:2usd/dya"`, `unknown window "dya"`}},
		{"OCT_BUDGETS=model=opus:1usd/day", []string{`budget 1 "model=opus:1usd/day"`, "provider/model"}},
		{"OCT_BUDGET_WARN=80%,100%", []string{"OCT_BUDGET_WARN", `"100%"`}},
		{"OCT_ALERT_WEBHOOK_URL=hooks.slack.com/services/T0/SECRETTOKEN", []string{"OCT_ALERT_WEBHOOK_URL", "http:// or https://"}},
	} {
		code, stdout, stderr := runBinary(t, append(base, tt.env))
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d", tt.env, code, exitUsage)
		}
		checkOnePlainLine(t, stdout, stderr, tt.want...)
		if strings.Contains(stderr+stdout, "SECRETTOKEN") {
			t.Errorf("%s: the webhook URL is printed: %s", tt.env, stderr)
		}
	}
}
