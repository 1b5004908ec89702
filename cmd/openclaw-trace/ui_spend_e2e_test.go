package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// spendSession is the user session of seedSpend: three calls in order.
const spendSession = "agent:main:telegram:direct:1001"

// seedSpend sends calls of two agents, three triggers, a cron job and
// three sessions, with a tiny cost ($0.00004) and an unknown one, at known
// times before now (pairs 5 minutes apart, 5 to 10 minutes past a whole
// half hour back, so each pair shares a bar of a 24 h window's 30-minute
// buckets, which end at now), and waits until they are stored.
func seedSpend(t *testing.T, d *daemon) time.Time {
	t.Helper()
	now := time.Now()
	at := func(ago time.Duration) int64 { return now.Add(-ago).UnixMilli() }
	user := map[string]any{"agent_id": "main", "channel": "telegram", "trigger": "user", "session_key": spendSession}
	with := func(base, m map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	calls := []map[string]any{
		with(user, map[string]any{"provider": "openai", "model": "gpt-4o", "prompt_tokens": 1200, "completion_tokens": 80, "cost_usd": 0.012,
			"latency_ms": 900, "ttft_ms": 210, "ts": at(10 * time.Minute), "call_kind": "turn", "input_text": "what does the cron job cost?", "output_text": "about $0.50 a night"}),
		with(user, map[string]any{"provider": "openai", "model": "gpt-4o", "prompt_tokens": 5000, "cost_usd": 0.02, "latency_ms": 2000,
			"status": "error", "error_type": "rate_limit", "ts": at(9 * time.Minute), "call_kind": "turn"}),
		with(user, map[string]any{"provider": "anthropic", "model": "claude-sonnet-4", "prompt_tokens": 3000, "completion_tokens": 400, "cost_usd": 0.01,
			"latency_ms": 3100, "ttft_ms": 650, "ts": at(8 * time.Minute), "call_kind": "compaction"}),
	}
	for _, ago := range []time.Duration{5*time.Hour + 10*time.Minute, 5*time.Hour + 5*time.Minute} {
		calls = append(calls, map[string]any{"provider": "openai", "model": "gpt-4o-mini", "prompt_tokens": 100, "completion_tokens": 5,
			"cost_usd": 0.00004, "latency_ms": 300, "ts": at(ago), "agent_id": "main", "trigger": "heartbeat", "session_key": "agent:main:main"})
	}
	cron := map[string]any{"agent_id": "ops", "trigger": "cron", "cron_job_id": "nightly", "session_key": "cron:nightly"}
	calls = append(calls,
		with(cron, map[string]any{"provider": "openai", "model": "gpt-4o", "prompt_tokens": 40000, "completion_tokens": 2000, "cost_usd": 0.5,
			"latency_ms": 12000, "ttft_ms": 900, "ts": at(20*time.Hour + 10*time.Minute)}),
		with(cron, map[string]any{"provider": "local", "model": "qwen", "prompt_tokens": 10, "latency_ms": 50, "ts": at(20*time.Hour + 5*time.Minute)}))
	body, _ := json.Marshal(calls)
	if code, out := post(t, d.URL("/v1/traces"), "application/json", body); code != http.StatusAccepted {
		t.Fatalf("POST traces: %d %v", code, out)
	}
	poll.Until(t, "the calls stored", 30*time.Second, func() bool {
		return d.Health()["counters"].(map[string]any)["written"] == float64(len(calls))
	})
	return now
}

// loadUI opens the page and waits until its first loads are drawn.
func loadUI(t *testing.T, p *page, url string) {
	t.Helper()
	p.Eval("window.stale = true", nil) // the page before, until the new one replaces it
	p.Go(url)
	p.Wait("the page's first load", `!window.stale && document.body && document.body.dataset.loads >= 1`)
}

// TestDashboardBreakdownsInChromium: the page shows spend by agent,
// channel, trigger, cron job and session, the idle burn, and small and
// unknown costs as they are.
func TestDashboardBreakdownsInChromium(t *testing.T) {
	bin := chromiumPath(t)
	d := startDaemon(t, "")
	seedSpend(t, d)
	p := openPage(t, bin, 1280, 900)
	loadUI(t, p, d.URL("/ui"))

	for _, tc := range []struct {
		table string
		want  [][]string // name, cost, share of cost, calls, errors
	}{
		{"by-agent", [][]string{{"ops", "$0.5000+1 unpriced", "92.2%", "2", "0"}, {"main", "$0.0421", "7.8%", "5", "1"}}},
		{"by-channel", [][]string{{"(none)", "$0.5001+1 unpriced", "92.3%", "4", "0"}, {"telegram", "$0.0420", "7.7%", "3", "1"}}},
		{"by-trigger", [][]string{{"cron", "$0.5000+1 unpriced", "92.2%", "2", "0"}, {"user", "$0.0420", "7.7%", "3", "1"},
			{"heartbeat", "$0.00008", "0.0%", "2", "0"}}},
		{"by-cron", [][]string{{"nightly", "$0.5000+1 unpriced", "92.2%", "2", "0"}, {"(none)", "$0.0421", "7.8%", "5", "1"}}},
		{"sessions", [][]string{{"cron:nightly", "$0.5000+1 unpriced", "2", "0", "40.0k / 2,000"},
			{spendSession, "$0.0420", "3", "1", "9,200 / 480"}, {"agent:main:main", "$0.00008", "2", "0", "200 / 10"}}},
	} {
		if got := p.Rows("#" + tc.table + " tbody tr"); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s rows\n got %q\nwant %q", tc.table, got, tc.want)
		}
	}
	for sel, want := range map[string]string{
		"#kpi-cost": "$0.5421", "#kpi-unpriced": "+ 1 unpriced calls", "#kpi-calls": "7", "#kpi-errors": "1",
		"#kpi-idle": "$0.5001", "#kpi-idle-note": "idle burn (92.3% of cost): cron $0.5000, heartbeat $0.00008",
	} {
		if got := p.Text(sel); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if *uiScreenshot != "" || *uiNarrow != "" {
		screenshotUI(t, bin, d) // after the checks: a day of traffic, so the charts have a shape
	}
}

// chartShape is what TestDashboardTimeAxisInChromium reads of a chart.
type chartShape struct {
	X []struct {
		T, Pos float64
		Label  string
	}
	Y []struct {
		V, Pos float64
		Label  string
	}
	Bars []struct {
		Start, V, X, Top float64
		Label            string
	}
}

// chartJS reads a chart's ticks and bars: call it with the svg element.
const chartJS = `((svg) => ({
	x: [...svg.querySelectorAll(".xtick")].map((g) => ({t: +g.dataset.t, pos: +g.querySelector("line").getAttribute("x1"), label: g.textContent})),
	y: [...svg.querySelectorAll(".ytick")].map((g) => ({v: +g.dataset.v, pos: +g.querySelector("line").getAttribute("y1"), label: g.textContent})),
	bars: [...svg.querySelectorAll(".bar")].map((g) => ({start: +g.dataset.start, v: +g.dataset.v, x: +g.querySelector(".hit").getAttribute("x"),
		top: +(g.querySelector(".v")?.getAttribute("y") ?? NaN), label: g.getAttribute("aria-label")})),
}))`

// TestDashboardTimeAxisInChromium: the spend chart has a time axis and a
// cost scale whose labels say where the bars are, and a bar tells its
// value on hover and on keyboard focus.
func TestDashboardTimeAxisInChromium(t *testing.T) {
	bin := chromiumPath(t)
	d := startDaemon(t, "")
	now := seedSpend(t, d)
	p := openPage(t, bin, 1280, 900)
	loadUI(t, p, d.URL("/ui"))
	var c, calls chartShape
	p.Eval(chartJS+`(document.getElementById("spend-svg"))`, &c)
	p.Eval(chartJS+`(document.getElementById("calls-svg"))`, &calls)
	if fmt.Sprint(calls.X) != fmt.Sprint(c.X) {
		t.Errorf("the calls chart's time axis %v differs from the spend chart's %v", calls.X, c.X)
	}

	// Time axis: round UTC times, labelled as they are, placed on one line.
	if len(c.X) < 4 {
		t.Fatalf("%d time ticks, want 4 or more: %+v", len(c.X), c.X)
	}
	step := c.X[1].T - c.X[0].T
	for i, x := range c.X {
		tm := time.UnixMilli(int64(x.T)).UTC()
		want := tm.Format("15:04")
		if tm.Hour() == 0 && tm.Minute() == 0 {
			want = tm.Format("Jan 2")
		}
		if x.Label != want || math.Mod(x.T, step) != 0 || (i > 0 && x.T-c.X[i-1].T != step) {
			t.Errorf("time tick %d: %q at %v, want %q every %v ms", i, x.Label, tm, want, step)
		}
	}
	first, lastTick := c.X[0], c.X[len(c.X)-1]
	xAt := func(ms float64) float64 {
		return first.Pos + (ms-first.T)*(lastTick.Pos-first.Pos)/(lastTick.T-first.T)
	}
	// Cost scale: $0 to a round top at or above the tallest bar.
	var labels []string
	for _, y := range c.Y {
		labels = append(labels, y.Label)
	}
	if got, want := strings.Join(labels, " "), "$0 $0.2 $0.4 $0.6"; got != want {
		t.Errorf("cost scale %q, want %q", got, want)
	}
	y0, yTop := c.Y[0], c.Y[len(c.Y)-1]
	yAt := func(v float64) float64 { return y0.Pos + v*(yTop.Pos-y0.Pos)/yTop.V }

	// The bars: the three half hours with calls, where the axes say.
	const bucket = 30 * time.Minute
	wants := []struct {
		ago   time.Duration
		cost  float64
		label string
	}{{20*time.Hour + 5*time.Minute, 0.5, "$0.5000 · 2 calls · 0 errors · 1 unpriced"}, {5*time.Hour + 5*time.Minute, 0.00008, "$0.00008 · 2 calls · 0 errors"},
		{9 * time.Minute, 0.042, "$0.0420 · 3 calls · 1 error"}}
	if len(c.Bars) != len(wants) {
		t.Fatalf("%d bars, want %d: %+v", len(c.Bars), len(wants), c.Bars)
	}
	for i, w := range wants {
		b := c.Bars[i]
		ts := float64(now.Add(-w.ago).UnixMilli())
		if !(b.Start <= ts && ts < b.Start+float64(bucket.Milliseconds())) || b.V != w.cost {
			t.Errorf("bar %d: starts %v, value %v; want the half hour of %v, %v", i, time.UnixMilli(int64(b.Start)).UTC(), b.V, time.UnixMilli(int64(ts)).UTC(), w.cost)
		}
		if math.Abs(b.X-xAt(b.Start)) > 0.6 {
			t.Errorf("bar %d at x=%.1f, the time axis puts %v at %.1f", i, b.X, time.UnixMilli(int64(b.Start)).UTC(), xAt(b.Start))
		}
		if top := yAt(w.cost); math.Abs(b.Top-top) > 1.1 { // a tiny cost is drawn 1 px high
			t.Errorf("bar %d top at y=%.2f, the cost scale puts %v at %.2f", i, b.Top, w.cost, top)
		}
		if !strings.HasSuffix(b.Label, w.label) || !strings.Contains(b.Label, time.UnixMilli(int64(b.Start)).UTC().Format("Jan 2 15:04")+"–") {
			t.Errorf("bar %d says %q, want %q", i, b.Label, w.label)
		}
	}

	// Keyboard: Tab reaches the chart (one stop: the newest bar), arrows move.
	for i := 0; i < 10 && !p.Bool(`document.activeElement.matches("#spend-svg .bar")`); i++ {
		p.Key("Tab")
	}
	tip := `document.querySelector("#spend .tip")`
	p.Wait("the focused bar's value", tip+`.textContent.includes("$0.0420 · 3 calls") && `+tip+`.checkVisibility()`)
	p.Key("ArrowLeft")
	p.Wait("the previous bar's value", tip+`.textContent.includes("$0.00008 · 2 calls")`)
	p.Key("Home")
	p.Wait("the first bar's value", tip+`.textContent.includes("$0.5000 · 2 calls")`)
	// Pointer: hovering a bar shows its value.
	p.Key("Tab") // focus leaves the chart: the tip hides
	p.Wait("the tip hidden", "!"+tip+".checkVisibility()")
	p.Hover(`#spend-svg .bar[data-v="0.00008"] .hit`)
	p.Wait("the hovered bar's value", tip+`.textContent.includes("$0.00008 · 2 calls") && `+tip+`.checkVisibility()`)
}

// Bool evaluates a JavaScript condition.
func (p *page) Bool(expr string) bool {
	p.t.Helper()
	var ok bool
	p.Eval("!!("+expr+")", &ok)
	return ok
}
