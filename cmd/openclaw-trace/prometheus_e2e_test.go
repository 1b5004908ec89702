package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// A real Prometheus server (Debian's prometheus package) scrapes the real
// binary with deploy/prometheus/alerts.yml loaded: the usage series hold
// what was sent, an error burst fires the error-rate rule, and every
// expression of the dashboard runs.

// promServer is a Prometheus server started for one test.
type promServer struct {
	t    *testing.T
	base string
}

// promLog keeps Prometheus's output for a failed test.
type promLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *promLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *promLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startPrometheus runs bin with config as its prometheus.yml and files
// beside it, storage in a temp dir, on a free loopback port, in its own
// process group, killed at cleanup (and with the test process).
func startPrometheus(t *testing.T, bin, config string, files map[string]string) *promServer {
	t.Helper()
	dir := t.TempDir()
	files["prometheus.yml"] = config
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	var out promLog
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := reap.Start(t, cmd); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		reap.KillGroup(cmd.Process.Pid)
		<-exited
		if t.Failed() {
			t.Logf("prometheus output:\n%s", out.String())
		}
	})
	p := &promServer{t: t, base: "http://" + addr}
	poll.Until(t, "prometheus ready", time.Minute, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited: %v\n%s", err, out.String())
		default:
		}
		resp, err := http.Get(p.base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// promResult is one sample of an instant query's vector.
type promResult struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"` // [unix time, "value"]
}

// api GETs path of the HTTP API and decodes its data into v; it returns
// the API's error, if any.
func (p *promServer) api(path string, v any) error {
	p.t.Helper()
	resp, err := http.Get(p.base + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		p.t.Fatalf("%s: %v", path, err)
	}
	if r.Status != "success" {
		return fmt.Errorf("%s", r.Error)
	}
	return json.Unmarshal(r.Data, v)
}

// query runs an instant query that must succeed.
func (p *promServer) query(q string) []promResult {
	p.t.Helper()
	var data struct {
		Result []promResult `json:"result"`
	}
	if err := p.api("/api/v1/query?query="+url.QueryEscape(q), &data); err != nil {
		p.t.Fatalf("query %s: %v", q, err)
	}
	return data.Result
}

// value is the one value q returns ("" for none; fails on more).
func (p *promServer) value(q string) string {
	p.t.Helper()
	r := p.query(q)
	switch len(r) {
	case 0:
		return ""
	case 1:
		return r[0].Value[1].(string)
	}
	p.t.Fatalf("%s: %d series, want 1: %v", q, len(r), r)
	return ""
}

// firing are the alerts in state firing, by alertname.
func (p *promServer) firing() map[string][]map[string]string {
	p.t.Helper()
	var data struct {
		Alerts []struct {
			Labels map[string]string `json:"labels"`
			State  string            `json:"state"`
		} `json:"alerts"`
	}
	if err := p.api("/api/v1/alerts", &data); err != nil {
		p.t.Fatal(err)
	}
	out := map[string][]map[string]string{}
	for _, a := range data.Alerts {
		if a.State == "firing" {
			out[a.Labels["alertname"]] = append(out[a.Labels["alertname"]], a.Labels)
		}
	}
	return out
}

// testRules is alerts.yml with every `for:` set to 0s, so a rule fires
// at its first true evaluation instead of minutes later; its expressions
// are the file's own.
func testRules(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	forLine := regexp.MustCompile(`(?m)^(\s+for:) \S+$`)
	if !forLine.Match(b) {
		t.Fatalf("%s has no for: to shorten", alertsPath)
	}
	return forLine.ReplaceAllString(string(b), "${1} 0s")
}

// grafanaVars stand in for the dashboard's variables and Grafana's.
var grafanaVars = strings.NewReplacer(`"$job"`, `".*"`, `"$instance"`, `".*"`, `"$model"`, `".*"`,
	`"$agent"`, `".*"`, `"$trigger"`, `".*"`, "$__rate_interval", "1m", "$__range", "10m", "$__interval", "15s")

// labelValues is Grafana's label_values(selector, label) variable query.
var labelValues = regexp.MustCompile(`^label_values\((.*), (\w+)\)$`)

// TestPrometheusUsageSeriesAndAlerts: Prometheus scrapes the real binary
// every second and evaluates deploy/prometheus/alerts.yml (its for:
// durations set to 0s) every second.
func TestPrometheusUsageSeriesAndAlerts(t *testing.T) {
	bin := findTool(t, "prometheus")
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(sink.Close)
	d := startDaemon(t, "", "OCT_UDP_ADDR=127.0.0.1:0", "OCT_PUSH_ENDPOINT="+sink.URL, "OCT_PUSH_INTERVAL=500ms",
		"OTEL_EXPORTER_OTLP_ENDPOINT="+sink.URL, "OCT_OTLP_INTERVAL=500ms",
		// The gpt calls below spend $0.75 of agent main's $0.50: over;
		// 15% of the all-calls budget: quiet.
		"OCT_BUDGETS=5usd/day; agent=main:0.5usd/day")
	p := startPrometheus(t, bin, fmt.Sprintf(`
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [alerts.yml]
scrape_configs:
  - job_name: openclaw-trace
    static_configs:
      - targets: [%q]
`, d.Addr), map[string]string{"alerts.yml": testRules(t)})

	hostile := `q"uote\back` + "\nslash"
	gpt := func(cost float64, latency, ttft int) map[string]any {
		return map[string]any{"provider": "openai", "model": "gpt-4o", "agent_id": "main", "channel": "telegram",
			"trigger": "user", "prompt_tokens": 1000, "completion_tokens": 100, "cache_read_tokens": 400,
			"cache_write_tokens": 20, "reasoning_tokens": 30, "cost_usd": cost, "latency_ms": latency, "ttft_ms": ttft}
	}
	flaky := func(status string) map[string]any {
		return map[string]any{"provider": "acme", "model": "flaky", "agent_id": "main", "trigger": "cron",
			"status": status, "error_type": "overloaded", "latency_ms": 100}
	}
	// The flaky model's failure series exists before the burst: rate()
	// counts a counter's increase from its first scrape on.
	sendCalls(t, d, false, gpt(0.25, 1200, 200), gpt(0.5, 2500, 600),
		map[string]any{"provider": "hostile", "model": hostile}, flaky("ok"), flaky("error"))
	waitWritten(t, d, 5)
	poll.Until(t, "Prometheus scraped the calls", time.Minute, func() bool {
		return p.value(`openclaw_trace_llm_failed_calls_total{model="flaky"}`) == "1" &&
			p.value(`openclaw_trace_llm_calls_total{model="flaky"}`) == "2"
	})

	gptSel := `{job="openclaw-trace",provider="openai",model="gpt-4o",agent="main",channel="telegram",trigger="user"`
	for q, want := range map[string]string{
		"openclaw_trace_llm_calls_total" + gptSel + "}":                                 "2",
		`openclaw_trace_budget_spent_usd{budget="agent=main/day"}`:                      "0.75",
		`openclaw_trace_budget_limit_usd{budget="agent=main/day"}`:                      "0.5",
		`openclaw_trace_budget_spent_usd{budget="all/day"}`:                             "0.75",
		"openclaw_trace_llm_tokens_total" + gptSel + `,kind="input"}`:                   "2000",
		"openclaw_trace_llm_tokens_total" + gptSel + `,kind="output"}`:                  "200",
		"openclaw_trace_llm_tokens_total" + gptSel + `,kind="cache_read"}`:              "800",
		"openclaw_trace_llm_tokens_total" + gptSel + `,kind="cache_write"}`:             "40",
		"openclaw_trace_llm_tokens_total" + gptSel + `,kind="reasoning"}`:               "60",
		"openclaw_trace_llm_cost_usd_total" + gptSel + "}":                              "0.75",
		"openclaw_trace_llm_latency_seconds_count" + gptSel + "}":                       "2",
		"openclaw_trace_llm_latency_seconds_sum" + gptSel + "}":                         "3.7",
		"openclaw_trace_llm_latency_seconds_bucket" + gptSel + `,le="2"}`:               "1",
		"openclaw_trace_llm_latency_seconds_bucket" + gptSel + `,le="4"}`:               "2",
		"openclaw_trace_llm_time_to_first_token_seconds_bucket" + gptSel + `,le="0.5"}`: "1",
		"openclaw_trace_llm_time_to_first_token_seconds_count" + gptSel + "}":           "2",
		`openclaw_trace_llm_unpriced_calls_total{model="flaky"}`:                        "2",
		`openclaw_trace_llm_failed_calls_total{model="flaky",code="overloaded"}`:        "1",
		`count(openclaw_trace_llm_failed_calls_total{model="gpt-4o"})`:                  "",
	} {
		if got := p.value(q); got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
	// The hostile name reached Prometheus as it was sent.
	if r := p.query(`openclaw_trace_llm_calls_total{provider="hostile"}`); len(r) != 1 || r[0].Metric["model"] != hostile {
		t.Errorf("hostile model name in Prometheus: %v, want model %q", r, hostile)
	}

	// An error burst: 10 failed calls of 12 in the window.
	burst := make([]map[string]any, 10)
	for i := range burst {
		burst[i] = flaky("error")
	}
	sendCalls(t, d, false, burst...)
	var alerts map[string][]map[string]string
	poll.Until(t, "OpenclawTraceModelErrorRate firing for the flaky model", 90*time.Second, func() bool {
		alerts = p.firing()
		for _, a := range alerts["OpenclawTraceModelErrorRate"] {
			if a["model"] == "flaky" && a["provider"] == "acme" {
				return true
			}
		}
		return false
	})
	for _, a := range alerts["OpenclawTraceModelErrorRate"] {
		if a["model"] != "flaky" {
			t.Errorf("error-rate alert for a model without failures: %v", a)
		}
	}
	poll.Until(t, "OpenclawTraceBudgetOver firing for agent main's budget", 30*time.Second, func() bool {
		alerts = p.firing()
		return len(alerts["OpenclawTraceBudgetOver"]) > 0
	})
	for _, a := range alerts["OpenclawTraceBudgetOver"] {
		if a["budget"] != "agent=main/day" {
			t.Errorf("budget alert for a budget within its limit: %v", a)
		}
	}
	for name, a := range alerts {
		if name != "OpenclawTraceModelErrorRate" && name != "OpenclawTraceBudgetOver" {
			t.Errorf("alert %s fires on a healthy sidecar: %v", name, a)
		}
	}

	// Every rule evaluates without error.
	var rules struct {
		Groups []struct {
			Rules []struct {
				Name, Health, LastError string
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := p.api("/api/v1/rules", &rules); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" {
				t.Errorf("rule %s: health %q: %s", r.Name, r.Health, r.LastError)
			}
		}
	}
	if want := len(ruleExprs(t)); n != want {
		t.Errorf("Prometheus loaded %d rules, want %d", n, want)
	}

	// Every dashboard expression runs and returns data.
	poll.Until(t, "both sinks delivered", 30*time.Second, func() bool {
		return p.value(`count(openclaw_trace_sink_last_success_timestamp_ms)`) == "2"
	})
	for _, e := range dashboardExprs(t) {
		q := grafanaVars.Replace(e)
		if m := labelValues.FindStringSubmatch(q); m != nil {
			q = "group by (" + m[2] + ") (" + m[1] + ")"
		}
		if r := p.query(q); len(r) == 0 {
			t.Errorf("dashboard expression returns nothing: %s", q)
		}
	}
}
