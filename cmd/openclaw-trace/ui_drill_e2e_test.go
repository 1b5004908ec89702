package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// TestDashboardDrillDownInChromium: a top session opens its calls in
// order, a call opens its full row, and the links lead back.
func TestDashboardDrillDownInChromium(t *testing.T) {
	bin := chromiumPath(t)
	d := startDaemon(t, "")
	now := seedSpend(t, d)
	p := openPage(t, bin, 1280, 900)
	loadUI(t, p, d.URL("/ui"))

	p.Click(fmt.Sprintf(`#sessions tr[data-key=%q] a`, spendSession))
	p.Wait("the session's calls", `document.getElementById("session-view").checkVisibility() && document.querySelectorAll("#session-calls tbody tr").length == 3`)
	if p.Bool(`document.getElementById("overview").checkVisibility()`) || p.Text("#session-key") != spendSession {
		t.Errorf("session view: overview shown %v, key %q", p.Bool(`document.getElementById("overview").checkVisibility()`), p.Text("#session-key"))
	}
	utc := func(ago time.Duration) string { return now.Add(-ago).UTC().Format("2006-01-02 15:04:05") }
	short := func(ago time.Duration) string { return now.Add(-ago).UTC().Format("Jan 2 15:04:05") }
	// #, time, model, cost, tokens in, out, latency, ttft, status, error, kind: oldest first.
	want := [][]string{
		{"1", short(10 * time.Minute), "gpt-4o", "$0.0120", "1,200", "80", "900 ms", "210 ms", "ok", "", "turn"},
		{"2", short(9 * time.Minute), "gpt-4o", "$0.0200", "5,000", "–", "2.00 s", "–", "error", "rate_limit", "turn"},
		{"3", short(8 * time.Minute), "claude-sonnet-4", "$0.0100", "3,000", "400", "3.10 s", "650 ms", "ok", "", "compaction"},
	}
	if got := p.Rows("#session-calls tbody tr"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("session calls\n got %q\nwant %q", got, want)
	}
	if got, want := p.Text("#session-sum"), "3 calls · $0.0420 · 1 error · "+utc(10*time.Minute)+" – "+utc(8*time.Minute)+" UTC · main · telegram · user"; got != want {
		t.Errorf("session summary %q, want %q", got, want)
	}

	var trace string
	p.Eval(`document.querySelectorAll("#session-calls tbody tr")[0].dataset.trace`, &trace)
	p.Click(`#session-calls tbody tr:first-child a`)
	p.Wait("the call's row", `document.getElementById("call-view").checkVisibility() && document.querySelector("#call-row dd")`)
	col := func(name string) string { return p.Text(fmt.Sprintf(`#call-row dd[data-col=%q]`, name)) }
	for name, want := range map[string]string{
		"trace_id": trace, "model": "gpt-4o", "provider": "openai", "status": "ok", "cost_usd": "$0.0120 (0.012)", "cost_source": "supplied",
		"latency_ms": "900 ms", "ttft_ms": "210 ms", "agent_id": "main", "channel": "telegram", "trigger": "user", "call_kind": "turn",
		"session_key": spendSession, "input_text": "what does the cron job cost?", "output_text": "about $0.50 a night", "error_type": "–",
		"created_at": utc(10*time.Minute) + " UTC (" + fmt.Sprint(now.Add(-10*time.Minute).UnixMilli()) + ")",
	} {
		if got := col(name); got != want {
			t.Errorf("call row %s = %q, want %q", name, got, want)
		}
	}
	var cols []string
	p.Eval(`[...document.querySelectorAll("#call-row dt")].map((e) => e.textContent)`, &cols)
	if len(cols) < 30 || cols[0] != "trace_id" || !strings.Contains(strings.Join(cols, " "), "synced") {
		t.Errorf("call row shows %d columns (%v), want every stored column, trace_id first", len(cols), cols)
	}

	p.Click("#call-back") // back to its session
	p.Wait("the session again", `document.getElementById("session-view").checkVisibility() && document.querySelectorAll("#session-calls tbody tr").length == 3`)
	p.Click(`#session-view a[href="#"]`)
	p.Wait("the overview again", `document.getElementById("overview").checkVisibility() && !document.getElementById("drill").checkVisibility()`)
	if w := p.Text("#kpi-calls"); w != "7" {
		t.Errorf("overview after the drill-down: #kpi-calls %q", w)
	}
	// A call that is no longer stored says so.
	p.Go(d.URL("/ui#call=no-such-call"))
	p.Wait("the missing call's message", `document.getElementById("call-sum").textContent.startsWith("cannot load the call: no stored call")`)
}

// TestDashboardNarrowInChromium: at 400 px the page needs no sideways
// scroll, in the overview, a session and a call with long unbroken
// names; wide tables scroll inside their box. (And a breakdown of more
// than 10 groups adds up the rest in one row.)
func TestDashboardNarrowInChromium(t *testing.T) {
	bin := chromiumPath(t)
	d := startDaemon(t, "")
	seedSpend(t, d)
	long := strings.Repeat("agent-with-a-very-long-name-", 6)
	post(t, d.URL("/v1/traces"), "application/json", []byte(fmt.Sprintf(`{"provider":"openai","model":"%s","prompt_tokens":10,"cost_usd":0.001,
		"agent_id":%q,"channel":%q,"trigger":"user","session_key":%q,"input_text":%q}`, long, long, long, long, strings.Repeat("x", 3000))))
	var more []string // 11 more agents: the agent table lists 10 and adds up the rest
	for i := 1; i <= 11; i++ {
		more = append(more, fmt.Sprintf(`{"provider":"openai","model":"gpt-4o","cost_usd":0.001,"agent_id":"a%02d"}`, i))
	}
	post(t, d.URL("/v1/traces"), "application/json", []byte("["+strings.Join(more, ",")+"]"))
	poll.Until(t, "the long calls stored", 30*time.Second, func() bool { return d.Health()["counters"].(map[string]any)["written"] == 19.0 })
	p := openPage(t, bin, 400, 800)
	loadUI(t, p, d.URL("/ui"))
	rows := p.Rows("#by-agent tbody tr")
	if want := []string{"4 more", "$0.004", "0.7%", "4", "0"}; len(rows) != 11 || fmt.Sprint(rows[10]) != fmt.Sprint(want) {
		t.Errorf("14 agents: %d rows, the last %q; want 11, the last %q", len(rows), rows[len(rows)-1], want)
	}
	const fits = `document.documentElement.scrollWidth <= 400`
	boxes := `[...document.querySelectorAll(".scroll")].filter((e) => e.offsetParent).map((e) => ({w: e.clientWidth, sw: e.scrollWidth, o: getComputedStyle(e).overflowX}))`
	check := func(view string) {
		t.Helper()
		var w int
		p.Eval("document.documentElement.scrollWidth", &w)
		if !p.Bool(fits) {
			t.Errorf("%s: page is %d px wide at a 400 px viewport", view, w)
		}
		var bs []struct {
			W, SW int
			O     string
		}
		p.Eval(boxes, &bs)
		for _, b := range bs {
			if b.W > 400 || (b.SW > b.W && b.O != "auto") {
				t.Errorf("%s: a table box %d px wide holds %d px, overflow %s", view, b.W, b.SW, b.O)
			}
		}
	}
	check("overview")
	var svgW float64
	p.Eval(`document.getElementById("spend-svg").getBoundingClientRect().right`, &svgW)
	if svgW > 400 {
		t.Errorf("spend chart ends at %.0f px", svgW)
	}
	if *uiNarrow != "" {
		p.Screenshot(absPath(t, *uiNarrow), 2600)
	}
	p.Go(d.URL("/ui#session=" + strings.ReplaceAll(long, "-", "%2D")))
	p.Wait("the long session", `document.querySelectorAll("#session-calls tbody tr").length == 1`)
	check("session")
	p.Click(`#session-calls tbody a`)
	p.Wait("the long call", `document.querySelector("#call-row dd[data-col=input_text]")`)
	check("call")
}

// TestDashboardWindowsInChromium: the window menu offers what the stored
// calls and rollups reach, and "all kept" reads back to the oldest call.
func TestDashboardWindowsInChromium(t *testing.T) {
	bin := chromiumPath(t)
	d := startDaemon(t, "")
	now := time.Now()
	send := func(ago time.Duration, written float64) {
		t.Helper()
		post(t, d.URL("/v1/traces"), "application/json", []byte(fmt.Sprintf(`{"provider":"openai","model":"gpt-4o","prompt_tokens":10,
			"cost_usd":0.25,"agent_id":"main","ts":%d}`, now.Add(-ago).UnixMilli())))
		poll.Until(t, "the call stored", 30*time.Second, func() bool { return d.Health()["counters"].(map[string]any)["written"] == written })
	}
	type option struct{ Value, Label string }
	options := func(p *page) []option {
		var o []option
		p.Eval(`[...document.getElementById("since").options].map((o) => ({value: o.value, label: o.textContent}))`, &o)
		return o
	}
	// A call of yesterday (UTC), under a day ago: its rollup day starts
	// more than a day ago, the call does not (the page offered "all kept
	// (25 hours)" for a call 10 minutes old just after midnight). From
	// 23:00 on, a call of 10 minutes ago.
	today := now.UTC().Truncate(24 * time.Hour)
	recent := now.Sub(today) + time.Minute
	if now.Sub(today) >= 23*time.Hour {
		recent = 10 * time.Minute
	}
	send(recent, 1)
	p := openPage(t, bin, 1280, 900)
	loadUI(t, p, d.URL("/ui"))
	if got, want := options(p), []option{{"1h", "1 hour"}, {"24h", "24 hours"}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("a call %v ago: windows %v, want %v", recent.Round(time.Second), got, want)
	}

	send(20*24*time.Hour, 2) // a call of 20 days ago: its day is in the rollups too
	loadUI(t, p, d.URL("/ui"))
	want := []option{{"1h", "1 hour"}, {"24h", "24 hours"}, {"7d", "7 days"}, {"all", "all kept (21 days)"}}
	if got := options(p); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("20 days of calls: windows %v, want %v", got, want)
	}
	if got := p.Text("#kpi-calls"); got != "1" {
		t.Errorf("24 h window: %s calls", got)
	}
	p.Eval(`(() => { const s = document.getElementById("since"); s.value = "all"; s.dispatchEvent(new Event("change")); })()`, nil)
	p.Wait("the whole span", `document.getElementById("kpi-calls").textContent == "2"`)
	if got := p.Text("#kpi-cost"); got != "$0.5000" {
		t.Errorf("all kept: cost %q, want $0.5000", got)
	}
	if got := p.Text("#spend-note"); got != "· cost per 1 d, UTC" {
		t.Errorf("all kept: %q, want daily bars", got)
	}
	var bars int
	p.Eval(`document.querySelectorAll("#spend-svg .bar").length`, &bars)
	if bars != 2 {
		t.Errorf("all kept: %d bars, want 2 (the recent call's day and 20 days ago)", bars)
	}

	// Restarted, the daemon deletes the call past OCT_RETENTION_DAYS: its
	// day is read from the rollups, and the page says so.
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	d = startDaemon(t, d.Dir)
	poll.Until(t, "the old call expired", 30*time.Second, func() bool {
		_, doc := fetchJSON(t, d.URL("/v1/summary?since=21d"))
		cov := doc["summary"].(map[string]any)["coverage"].(map[string]any)
		return cov["rollup_from"] != nil
	})
	loadUI(t, p, d.URL("/ui?since=21d"))
	if got := p.Text("#kpi-calls"); got != "2" {
		t.Errorf("21 days, one of them rolled up: %s calls, want 2", got)
	}
	var labels []string
	p.Eval(`[...document.querySelectorAll("#spend-svg .bar")].map((b) => b.getAttribute("aria-label"))`, &labels)
	if len(labels) != 2 || !strings.HasSuffix(labels[0], "$0.2500 · 1 call · 0 errors · from daily rollups") || strings.Contains(labels[1], "rollups") {
		t.Errorf("bars %q: want the old day's from daily rollups, today's not", labels)
	}
	if !strings.Contains(p.Text("#spend-svg"), "daily rollups") || !strings.HasPrefix(p.Text("#sessions-note"), "Sessions of the calls stored since ") {
		t.Errorf("the page does not say which days come from rollups: chart %q, sessions note %q", p.Text("#spend-svg"), p.Text("#sessions-note"))
	}
}
