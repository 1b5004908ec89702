package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// budgetsServer serves the embedded page and GET /v1/budgets from body
// (nil: 404, as a daemon without budgets answers); no summary.
func budgetsServer(t *testing.T, body *atomic.Pointer[string]) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /ui", uiHandler())
	mux.HandleFunc("GET /v1/budgets", func(w http.ResponseWriter, r *http.Request) {
		b := body.Load()
		if b == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(*b))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestDashboardBudgetsInChromium: the budgets panel shows each budget's
// spend, limit, state, reset and whether its spend is a lower bound, with
// names as text; no budget, or a daemon without the route, hides it.
func TestDashboardBudgetsInChromium(t *testing.T) {
	bin := chromiumPath(t)
	var body atomic.Pointer[string]
	srv := budgetsServer(t, &body)
	p := openPage(t, bin, 1280, 900)

	loadUI(t, p, srv.URL+"/ui") // 404
	if p.Bool(`document.getElementById("budgets").checkVisibility()`) {
		t.Error("budgets panel shown though /v1/budgets is 404")
	}
	if s := p.Text("#status"); s != "cannot load summary: HTTP 404" {
		t.Errorf("status %q", s)
	}

	now := time.Now()
	dayEnd := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	const hostile = `agent=<img src=x onerror="window.xss=1">`
	budgets := []map[string]any{
		{"id": "all:5usd/day", "scope": "all", "window": "day", "window_start": dayEnd.Add(-24 * time.Hour).UnixMilli(), "window_end": dayEnd.UnixMilli(),
			"limit_usd": 5, "spent_usd": 1.25, "unpriced_calls": 0, "state": "ok"},
		{"id": "agent=main:2usd/day", "scope": "agent=main", "window": "day", "window_start": dayEnd.Add(-24 * time.Hour).UnixMilli(),
			"window_end": dayEnd.UnixMilli(), "limit_usd": 2, "spent_usd": 1.7, "unpriced_calls": 3, "state": "warn"},
		{"id": "trigger=heartbeat:0.5usd/day", "scope": "trigger=heartbeat", "window": "day", "window_end": dayEnd.Format(time.RFC3339),
			"limit_usd": 0.5, "spent_usd": 0.00004, "unpriced_calls": 0, "state": "ok", "lower_bound": true},
		{"id": hostile, "scope": hostile, "window": "month", "window_end": now.Add(90 * time.Minute).UnixMilli(),
			"limit_usd": 0.01, "spent_usd": 0.0125, "unpriced_calls": 0, "state": "over", "scope_kind": "agent", "resets_at": now.Add(3 * time.Hour).UnixMilli()},
	}
	b, _ := json.Marshal(map[string]any{"budgets": budgets})
	s := string(b)
	body.Store(&s)
	loadUI(t, p, srv.URL+"/ui")
	if !p.Bool(`document.getElementById("budgets").checkVisibility()`) {
		t.Fatal("budgets panel hidden")
	}
	var items []struct{ ID, Scope, Pill, Spent, Limit, Lower, Reset, Meter, Class string }
	p.Eval(`[...document.querySelectorAll("#budget-list li")].map((li) => ({id: li.dataset.id, scope: li.querySelector(".scope").textContent,
		pill: li.querySelector(".pill").textContent, spent: li.querySelector(".spent").textContent, limit: li.querySelector(".limit").textContent,
		lower: li.querySelector(".lower")?.textContent ?? "", reset: li.querySelector(".reset")?.textContent ?? "",
		meter: li.querySelector(".meter i").style.width, class: li.className}))`, &items)
	resets := func(in string, at time.Time) string {
		return fmt.Sprintf("resets in %s (%s UTC)", in, at.UTC().Format("Jan 2 15:04"))
	}
	// The first three reset at the end of the UTC day: the text depends on
	// the time now, checked for the one reset set a known time ahead.
	want := []struct{ ID, Scope, Pill, Spent, Limit, Lower, Meter, Class string }{
		{"all:5usd/day", "all calls", "ok", "$1.2500", "$5.0000", "", "25%", "ok"},
		{"agent=main:2usd/day", "agent=main", "warn", "$1.7000", "$2.0000", "lower bound: 3 unpriced calls are not counted", "85%", "warn"},
		{"trigger=heartbeat:0.5usd/day", "trigger=heartbeat", "ok", "$0.00004", "$0.5000", "lower bound: unpriced calls are not counted", "0%", "ok"},
		{hostile, hostile, "over", "$0.0125", "$0.0100", "", "100%", "over"},
	}
	if len(items) != len(want) {
		t.Fatalf("%d budgets shown, want %d: %+v", len(items), len(want), items)
	}
	for i, w := range want {
		g := items[i]
		if got := (struct{ ID, Scope, Pill, Spent, Limit, Lower, Meter, Class string }{g.ID, g.Scope, g.Pill, g.Spent, g.Limit, g.Lower, g.Meter, g.Class}); got != w {
			t.Errorf("budget %d\n got %+v\nwant %+v", i, got, w)
		}
		if i < 3 && (g.Reset == "" || g.Reset[len(g.Reset)-16:] != dayEnd.Format("Jan 2 15:04")+" UTC)") {
			t.Errorf("budget %d reset %q, want the end of the day, %v", i, g.Reset, dayEnd)
		}
	}
	if r := items[3].Reset; r != resets("3 h 0 min", now.Add(3*time.Hour)) && r != resets("2 h 59 min", now.Add(3*time.Hour)) {
		t.Errorf("budget 3 reset %q, want resets_at, 3 h ahead", r)
	}
	if p.Bool(`document.querySelector("#budgets img, [onerror]") || window.xss`) {
		t.Error("markup in a budget's scope became an element or ran")
	}

	none := `{"budgets":[]}`
	body.Store(&none)
	loadUI(t, p, srv.URL+"/ui")
	if p.Bool(`document.getElementById("budgets").checkVisibility()`) {
		t.Error("budgets panel shown with no budget")
	}
}

// TestDashboardBudgetsFromDaemon: the page reads the real daemon's
// GET /v1/budgets: a budget spent past its limit shows over, another
// within its limit ok, each with the spend the daemon counted from the
// stored calls; an unpriced call makes the all-calls spend a lower bound.
func TestDashboardBudgetsFromDaemon(t *testing.T) {
	bin := chromiumPath(t)
	d := startDaemon(t, "", "OCT_BUDGETS=5usd/day; agent=main:0.5usd/day")
	sendCalls(t, d, false,
		map[string]any{"provider": "openai", "model": "gpt-4o", "agent_id": "main", "prompt_tokens": 1000, "cost_usd": 0.5},
		map[string]any{"provider": "openai", "model": "gpt-4o", "agent_id": "main", "prompt_tokens": 1000, "cost_usd": 0.25},
		map[string]any{"provider": "openai", "model": "gpt-4o", "agent_id": "ops", "prompt_tokens": 1000, "cost_usd": 0.1},
		map[string]any{"provider": "acme", "model": "unknown-1", "agent_id": "ops", "prompt_tokens": 1000})
	waitWritten(t, d, 4)
	p := openPage(t, bin, 1280, 900)
	loadUI(t, p, d.URL("/ui"))
	if !p.Bool(`document.getElementById("budgets").checkVisibility()`) {
		t.Fatal("budgets panel hidden with two budgets configured")
	}
	var items []struct{ ID, Pill, Spent, Limit, Lower string }
	p.Eval(`[...document.querySelectorAll("#budget-list li")].map((li) => ({id: li.dataset.id,
		pill: li.querySelector(".pill").textContent, spent: li.querySelector(".spent").textContent,
		limit: li.querySelector(".limit").textContent, lower: li.querySelector(".lower")?.textContent ?? ""}))`, &items)
	want := []struct{ ID, Pill, Spent, Limit, Lower string }{
		{"all/day", "ok", "$0.8500", "$5.0000", "lower bound: 1 unpriced call is not counted"},
		{"agent=main/day", "over", "$0.7500", "$0.5000", ""},
	}
	if len(items) != len(want) {
		t.Fatalf("%d budgets shown, want %d: %+v", len(items), len(want), items)
	}
	for i, w := range want {
		if items[i] != w {
			t.Errorf("budget %d\n got %+v\nwant %+v", i, items[i], w)
		}
	}
}
