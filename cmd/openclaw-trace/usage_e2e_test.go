package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	llmusage "github.com/openclaw/openclaw-trace/metrics/usage"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// The usage series of /metrics, checked on the real binary: the values
// of what was sent, label values from the network, the cap, and a
// restart. Prometheus itself reads them in prometheus_e2e_test.go.

// findTool is the path of a tool of the Prometheus kit on PATH (promtool,
// prometheus: Debian's prometheus package). Without it the test skips,
// and fails under CI=true (needProgram).
func findTool(t *testing.T, name string) string {
	t.Helper()
	return needProgram(t, "Prometheus", "Debian: apt-get install prometheus", name)
}

// sendCalls posts traces to the daemon as one JSON array, or msgpack.
func sendCalls(t *testing.T, d *daemon, asMsgpack bool, traces ...map[string]any) {
	t.Helper()
	body, ct := []byte(nil), "application/json"
	var err error
	if asMsgpack {
		body, err = msgpack.Marshal(traces)
		ct = "application/msgpack"
	} else {
		body, err = json.Marshal(traces)
	}
	if err != nil {
		t.Fatal(err)
	}
	if code, out := post(t, d.URL("/v1/traces"), ct, body); code != http.StatusAccepted {
		t.Fatalf("POST %d traces: %d %v", len(traces), code, out)
	}
}

// waitWritten waits until the daemon has committed n events.
func waitWritten(t *testing.T, d *daemon, n int) {
	t.Helper()
	poll.Until(t, fmt.Sprintf("%d events written", n), 30*time.Second, func() bool {
		return d.Health()["counters"].(map[string]any)["written"] == float64(n)
	})
}

// getPage fetches a page of the daemon.
func getPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// samples are a /metrics page's samples: series (name and labels, as
// written) to value.
func samples(t *testing.T, page string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for line := range strings.Lines(page) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("/metrics line without a value: %q", line)
		}
		out[line[:i]] = line[i+1:]
	}
	return out
}

// familySum sums the values of the series of one family and counts them.
func familySum(t *testing.T, s map[string]string, name string) (sum float64, n int) {
	t.Helper()
	for series, v := range s {
		if f, _, _ := strings.Cut(series, "{"); f == name {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			sum += x
			n++
		}
	}
	return sum, n
}

// TestUsageSeriesEndToEnd: calls posted to the real binary come out on
// /metrics with the values sent, under label values escaped as the text
// format wants, and promtool accepts the page.
func TestUsageSeriesEndToEnd(t *testing.T) {
	d := startDaemon(t, "")
	attr := map[string]any{"agent_id": "main", "channel": "telegram", "trigger": "user"}
	with := func(m map[string]any) map[string]any {
		for k, v := range attr {
			m[k] = v
		}
		return m
	}
	sendCalls(t, d, false,
		with(map[string]any{"provider": "openai", "model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 200,
			"cache_read_tokens": 300, "cache_write_tokens": 40, "reasoning_tokens": 50, "cost_usd": 0.1,
			"latency_ms": 1500, "ttft_ms": 300}),
		with(map[string]any{"provider": "openai", "model": "gpt-4o", "prompt_tokens": 10, "cost_usd": 0.2,
			"latency_ms": 700, "status": "error", "error_type": "rate_limit"}),
		with(map[string]any{"provider": "openai", "model": "gpt-4o", "status": "timeout", "latency_ms": 400000}),
		with(map[string]any{"provider": "openai", "model": `quote"back\slash` + "\nnewline"}),
	)
	// Raw bytes that are not UTF-8 come through msgpack as they are.
	sendCalls(t, d, true, map[string]any{"provider": "openai", "model": "bad\xffutf8", "trigger": "cron"})
	waitWritten(t, d, 5)

	page := getPage(t, d.URL("/metrics"))
	got := samples(t, page)
	lbl := `provider="openai",model="gpt-4o",agent="main",channel="telegram",trigger="user"`
	want := map[string]string{
		"openclaw_trace_llm_calls_total{" + lbl + "}":                                                                                          "3",
		"openclaw_trace_llm_tokens_total{" + lbl + `,kind="input"}`:                                                                            "1010",
		"openclaw_trace_llm_tokens_total{" + lbl + `,kind="output"}`:                                                                           "200",
		"openclaw_trace_llm_tokens_total{" + lbl + `,kind="cache_read"}`:                                                                       "300",
		"openclaw_trace_llm_tokens_total{" + lbl + `,kind="cache_write"}`:                                                                      "40",
		"openclaw_trace_llm_tokens_total{" + lbl + `,kind="reasoning"}`:                                                                        "50",
		"openclaw_trace_llm_cost_usd_total{" + lbl + "}":                                                                                       "0.3",
		"openclaw_trace_llm_unpriced_calls_total{" + lbl + "}":                                                                                 "1",
		"openclaw_trace_llm_failed_calls_total{" + lbl + `,code="rate_limit"}`:                                                                 "1",
		"openclaw_trace_llm_failed_calls_total{" + lbl + `,code="timeout"}`:                                                                    "1",
		"openclaw_trace_llm_latency_seconds_bucket{" + lbl + `,le="1"}`:                                                                        "1",
		"openclaw_trace_llm_latency_seconds_bucket{" + lbl + `,le="2"}`:                                                                        "2",
		"openclaw_trace_llm_latency_seconds_bucket{" + lbl + `,le="300"}`:                                                                      "2",
		"openclaw_trace_llm_latency_seconds_bucket{" + lbl + `,le="+Inf"}`:                                                                     "3",
		"openclaw_trace_llm_latency_seconds_sum{" + lbl + "}":                                                                                  "402.2",
		"openclaw_trace_llm_time_to_first_token_seconds_bucket{" + lbl + `,le="0.25"}`:                                                         "0",
		"openclaw_trace_llm_time_to_first_token_seconds_bucket{" + lbl + `,le="0.5"}`:                                                          "1",
		"openclaw_trace_llm_time_to_first_token_seconds_count{" + lbl + "}":                                                                    "1",
		`openclaw_trace_llm_calls_total{provider="openai",model="quote\"back\\slash\nnewline",agent="main",channel="telegram",trigger="user"}`: "1",
		`openclaw_trace_llm_calls_total{provider="openai",model="bad` + "\uFFFD" + `utf8",agent="",channel="",trigger="cron"}`:                 "1",
		`openclaw_trace_llm_label_sets{series="calls"}`:                                                                                        "3",
		`openclaw_trace_llm_calls_folded_total{series="calls"}`:                                                                                "0",
		"openclaw_trace_llm_label_sets_limit":                                                                                                  strconv.Itoa(llmusage.DefaultMaxLabelSets),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", page)
	}
	t.Run("promtool check metrics", func(t *testing.T) {
		cmd := exec.Command(findTool(t, "promtool"), "check", "metrics")
		cmd.Stdin = strings.NewReader(page)
		if out, err := combinedOutput(t, cmd); err != nil {
			t.Errorf("promtool check metrics on a live scrape: %v\n%s", err, out)
		}
	})
}

// TestUsageSeriesCap: 10,000 model names against OCT_METRICS_MAX_SERIES
// of 100: each family keeps 100 label sets (99 names and "other"), the
// fold counter says how many calls went to "other", and no call is lost.
func TestUsageSeriesCap(t *testing.T) {
	const names, limit = 10_000, 100
	d := startDaemon(t, "", "OCT_METRICS_MAX_SERIES="+strconv.Itoa(limit), "OCT_QUEUE_SIZE=20000",
		"OCT_BATCH_SIZE=500")
	for start := 0; start < names; start += 1000 {
		batch := make([]map[string]any, 0, 1000)
		for i := start; i < start+1000; i++ {
			batch = append(batch, map[string]any{"provider": "flood", "model": fmt.Sprintf("model-%05d", i),
				"prompt_tokens": 1, "latency_ms": 100, "cost_usd": 0.001, "status": "error", "error_type": "e" + strconv.Itoa(i%3)})
		}
		sendCalls(t, d, false, batch...)
	}
	waitWritten(t, d, names)
	page := getPage(t, d.URL("/metrics"))
	got := samples(t, page)
	for _, name := range []string{"openclaw_trace_llm_calls_total", "openclaw_trace_llm_tokens_total",
		"openclaw_trace_llm_cost_usd_total", "openclaw_trace_llm_latency_seconds_count", "openclaw_trace_llm_failed_calls_total"} {
		if _, n := familySum(t, got, name); n != limit {
			t.Errorf("%s: %d label sets, want %d", name, n, limit)
		}
	}
	if calls, _ := familySum(t, got, "openclaw_trace_llm_calls_total"); calls != names {
		t.Errorf("calls over every label set = %v, want %d", calls, names)
	}
	folded := strconv.Itoa(names - (limit - 1))
	if v := got[`openclaw_trace_llm_calls_folded_total{series="calls"}`]; v != folded {
		t.Errorf("folded calls = %s, want %s", v, folded)
	}
	if v := got[`openclaw_trace_llm_calls_total{provider="other",model="other",agent="other",channel="other",trigger="other"}`]; v != folded {
		t.Errorf("calls under other = %s, want %s", v, folded)
	}
	usageLines := 0
	for line := range strings.Lines(page) {
		if strings.HasPrefix(line, "openclaw_trace_llm_") {
			usageLines++
		}
	}
	t.Logf("/metrics at the cap: %d bytes, %d usage series for %d model names", len(page), usageLines, names)
	if usageLines > limit*40 {
		t.Errorf("%d usage series for a cap of %d label sets", usageLines, limit)
	}
}

// TestUsageSeriesStartAtZero: the usage series live in memory and start
// from zero with the process (README: a restart is a counter reset, which
// rate() and increase() handle); the calls stay in the database.
func TestUsageSeriesStartAtZero(t *testing.T) {
	d := startDaemon(t, "")
	call := map[string]any{"provider": "openai", "model": "gpt-4o", "prompt_tokens": 5}
	sendCalls(t, d, false, call, call, call)
	waitWritten(t, d, 3)
	series := `openclaw_trace_llm_calls_total{provider="openai",model="gpt-4o",agent="",channel="",trigger=""}`
	if v := samples(t, getPage(t, d.URL("/metrics")))[series]; v != "3" {
		t.Fatalf("before the restart: %s = %q, want 3", series, v)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}

	d = startDaemon(t, d.Dir)
	got := samples(t, getPage(t, d.URL("/metrics")))
	if v, ok := got[series]; ok {
		t.Errorf("after the restart, before any call: %s = %s, want no series", series, v)
	}
	if v := got[`openclaw_trace_llm_label_sets{series="calls"}`]; v != "0" {
		t.Errorf("label sets after the restart = %q, want 0", v)
	}
	sendCalls(t, d, false, call, call)
	waitWritten(t, d, 2)
	if v := samples(t, getPage(t, d.URL("/metrics")))[series]; v != "2" {
		t.Errorf("after the restart: %s = %q, want 2 (the calls since)", series, v)
	}
	var doc struct {
		Summary struct {
			Totals struct {
				Calls int64 `json:"calls"`
			} `json:"totals"`
		} `json:"summary"`
	}
	body := getPage(t, d.URL("/v1/summary?since=24h"))
	if err := json.Unmarshal([]byte(body), &doc); err != nil || doc.Summary.Totals.Calls != 5 {
		t.Errorf("summary after the restart: calls %d (%v), want the 5 stored: %s", doc.Summary.Totals.Calls, err, body)
	}
}
