package main

import (
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/store/budget"
)

const benchBudgets = "50usd/day; 300usd/week; 900usd/month; agent=agent-1:20usd/day; agent=agent-2:100usd/month;" +
	"channel=telegram:100usd/week; trigger=heartbeat:100usd/month; model=anthropic/claude-opus-4:100usd/month;" +
	"model=openai/gpt-4o:9usd/day; cron=job-1:100usd/month; session=session-7:100usd/week; session=session-700:100usd/month"

// BenchmarkBudgetsHandler is the cost of answering GET /v1/budgets in the
// daemon, 12 budgets, without the network: from memory, JSON encoded.
//
//	go test -run '^$' -bench BudgetsHandler -benchmem ./cmd/openclaw-trace/
func BenchmarkBudgetsHandler(b *testing.B) {
	specs, err := budget.Parse(benchBudgets)
	if err != nil {
		b.Fatal(err)
	}
	m := &Main{Config: &Config{}, Budgets: &budgets{Tracker: budget.NewTracker(specs, []int{80}, time.UTC)}}
	h := m.budgetsHandler()
	req := httptest.NewRequest(http.MethodGet, "/v1/budgets", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

var visibleWindow = flag.Duration("budget.batch-window", 500*time.Millisecond, "OCT_BATCH_WINDOW of BenchmarkBudgetVisible's daemon")

// BenchmarkBudgetVisible times, in the real daemon, a call's way from its
// POST to GET /v1/budgets counting it: the writer's batch window, the
// commit, the Committed hook. It polls /v1/budgets without pause.
//
//	go test -run '^$' -bench BudgetVisible -benchtime 50x ./cmd/openclaw-trace/ [-args -budget.batch-window=50ms]
func BenchmarkBudgetVisible(b *testing.B) {
	d := startDaemon(b, "", "OCT_BUDGETS=1000usd/day", "OCT_BATCH_WINDOW="+visibleWindow.String())
	client := &http.Client{Timeout: 5 * time.Second}
	spent := func() float64 {
		resp, err := client.Get(d.URL("/v1/budgets"))
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var doc budget.Doc
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			b.Fatal(err)
		}
		return doc.Budgets[0].SpentUSD
	}
	var worst time.Duration
	n := 0
	for b.Loop() {
		n++
		start := time.Now()
		post(b, d.URL("/v1/traces"), "application/json", []byte(`{"provider":"p","model":"m","cost_usd":1}`))
		for spent() < float64(n) {
		}
		worst = max(worst, time.Since(start))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
	if err := d.Stop(); err != nil {
		b.Fatal(err)
	}
}
