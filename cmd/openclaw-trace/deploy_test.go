package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	llmusage "github.com/openclaw/openclaw-trace/metrics/usage"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// The files under deploy/ (alert rules, their tests, the Grafana
// dashboard) are checked against the series the real binary exposes.

const (
	alertsPath    = "../../deploy/prometheus/alerts.yml"
	alertTests    = "../../deploy/prometheus/alerts_test.yml"
	dashboardPath = "../../deploy/grafana/openclaw-trace.json"
)

// seriesRef is a series name in PromQL: ours, the library's process_*
// and go_*, or Prometheus's own up.
var seriesRef = regexp.MustCompile(`\b(?:openclaw_trace|process|go)_[a-z0-9_]+\b|\bup\{`)

// dashboardExprs are every PromQL expression of the dashboard: its
// panels' targets and its variables' queries.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	var v any
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	var exprs []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "definition") {
					exprs = append(exprs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return exprs
}

// ruleExprs are the expressions of alerts.yml by alert name: a one-line
// expr, or the block under `expr: |`.
func ruleExprs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(string(b), "\n")
	alert := ""
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if a, ok := strings.CutPrefix(l, "- alert: "); ok {
			alert = a
			continue
		}
		e, ok := strings.CutPrefix(l, "expr: ")
		if !ok {
			continue
		}
		if e == "|" {
			indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
			var block []string
			for i+1 < len(lines) && (strings.TrimSpace(lines[i+1]) == "" ||
				len(lines[i+1])-len(strings.TrimLeft(lines[i+1], " ")) > indent) {
				i++
				block = append(block, strings.TrimSpace(lines[i]))
			}
			e = strings.Join(block, "\n")
		}
		out[alert] = e
	}
	return out
}

// liveNames are the metric names of /metrics of the real binary once it
// has stored calls of every kind and both sinks have delivered, so every
// family it can show is on the page.
func liveNames(t *testing.T) map[string]bool {
	t.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(sink.Close)
	d := startDaemon(t, "", "OCT_UDP_ADDR=127.0.0.1:0", "OCT_PUSH_ENDPOINT="+sink.URL, "OCT_PUSH_INTERVAL=200ms",
		"OTEL_EXPORTER_OTLP_ENDPOINT="+sink.URL, "OCT_OTLP_INTERVAL=200ms",
		"OCT_BUDGETS=5usd/day; agent=main:2usd/day")
	sendCalls(t, d, false,
		map[string]any{"provider": "openai", "model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 2,
			"cache_read_tokens": 1, "cache_write_tokens": 1, "reasoning_tokens": 1, "cost_usd": 0.01,
			"latency_ms": 900, "ttft_ms": 100, "agent_id": "main", "trigger": "user"},
		map[string]any{"provider": "openai", "model": "gpt-4o", "status": "error", "error_type": "rate_limit"})
	waitWritten(t, d, 2)
	var page string
	poll.Until(t, "both sinks delivered", 30*time.Second, func() bool {
		page = getPage(t, d.URL("/metrics"))
		return strings.Contains(page, `openclaw_trace_sink_last_success_timestamp_ms{sink="push"}`) &&
			strings.Contains(page, `openclaw_trace_sink_last_success_timestamp_ms{sink="otlp"}`)
	})
	names := map[string]bool{}
	for series := range samples(t, page) {
		name, _, _ := strings.Cut(series, "{")
		names[name] = true
	}
	return names
}

// TestDeployFilesNameLiveSeries: every expression of the dashboard and
// of the alert rules names series, and each is on the real binary's
// /metrics; the dashboard shows every usage family
// and picks its Prometheus with a datasource variable; every rule has a
// unit test.
func TestDeployFilesNameLiveSeries(t *testing.T) {
	live := liveNames(t)
	rules := ruleExprs(t)
	if len(rules) < 10 {
		t.Fatalf("%d rules read from %s", len(rules), alertsPath)
	}
	exprs := dashboardExprs(t)
	if len(exprs) < 30 {
		t.Fatalf("%d expressions read from %s", len(exprs), dashboardPath)
	}
	check := func(where, expr string) {
		refs := seriesRef.FindAllString(expr, -1)
		if len(refs) == 0 {
			t.Errorf("%s: %q names no series", where, expr)
		}
		for _, r := range refs {
			if r == "up{" {
				continue // Prometheus's own
			}
			if !live[r] {
				t.Errorf("%s: %s is not on /metrics (expression %q)", where, r, expr)
			}
		}
	}
	for alert, expr := range rules {
		check("alerts.yml "+alert, expr)
	}
	all := strings.Join(exprs, "\n")
	for _, e := range exprs {
		check("dashboard", e)
	}
	for _, f := range llmusage.Families {
		if f.Name != llmusage.LabelLimitName && !strings.Contains(all, f.Name) {
			t.Errorf("the dashboard does not show %s", f.Name)
		}
	}

	// The datasource is a variable, so the dashboard imports into any
	// Grafana: every Prometheus query uses it.
	b, _ := os.ReadFile(dashboardPath)
	var dash struct {
		Templating struct {
			List []struct{ Name, Type, Query any }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(dash.Templating.List, func(v struct{ Name, Type, Query any }) bool {
		return v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
	}) {
		t.Errorf("no Prometheus datasource variable named datasource: %+v", dash.Templating.List)
	}
	sources := regexp.MustCompile(`"datasource": \{\s*"type": "(\w+)",\s*"uid": "([^"]*)"`).FindAllStringSubmatch(string(b), -1)
	if len(sources) < len(exprs) {
		t.Errorf("%d datasource references for %d expressions", len(sources), len(exprs))
	}
	for _, m := range sources {
		if m[1] != "grafana" && (m[1] != "prometheus" || m[2] != "${datasource}") {
			t.Errorf("datasource %s/%s, want prometheus/${datasource}", m[1], m[2])
		}
	}

	tests, err := os.ReadFile(alertTests)
	if err != nil {
		t.Fatal(err)
	}
	for alert := range rules {
		if !strings.Contains(string(tests), "alertname: "+alert+"\n") {
			t.Errorf("rule %s has no test in %s", alert, alertTests)
		}
	}
}

// TestAlertRulesPromtool runs promtool over the rules and their unit
// tests, as .ci/run does.
func TestAlertRulesPromtool(t *testing.T) {
	promtool := findTool(t, "promtool")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = filepath.Dir(alertsPath)
		if out, err := combinedOutput(t, cmd); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestReadmeListsUsageSeries: README's table of the usage series names
// every family, and its alert table every rule.
func TestReadmeListsUsageSeries(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, f := range llmusage.Families {
		if !strings.Contains(readme, "| `"+f.Name+"` | "+f.Type+" |") {
			t.Errorf("README's usage series table has no row for %s (%s)", f.Name, f.Type)
		}
	}
	for alert := range ruleExprs(t) {
		if !strings.Contains(readme, "| `"+alert+"` |") {
			t.Errorf("README's alert table has no row for %s", alert)
		}
	}
}
