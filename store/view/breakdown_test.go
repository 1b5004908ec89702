package view

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

// attributed is a priced call at sumNow-ago with attribution.
func attributed(ago time.Duration, agent, trigger, cron, session string, cost *float64, latency int64) codec.Event {
	ev := llmCall(ago, "openai", "gpt-4o", "ok", 100, 10, 0, cost, latency, nil)
	ev.Trace.Attribution = codec.Attribution{AgentID: agent, Trigger: trigger, CronJobID: cron, SessionKey: session, Channel: "telegram"}
	ev.Trace.CostSource = codec.CostSupplied
	if cost == nil {
		ev.Trace.CostSource = codec.CostUnpriced
	}
	return ev
}

// attributedFixture: a user, heartbeat and cron mix over three days.
func attributedFixture(t *testing.T) *store.DB {
	db := openDB(t)
	writeEvents(t, db,
		attributed(1*time.Hour, "main", "user", "", "s1", ptr(0.010), 1000),
		attributed(2*time.Hour, "main", "user", "", "s1", ptr(0.020), 2000),
		attributed(3*time.Hour, "main", "heartbeat", "", "s2", ptr(0.001), 300),
		attributed(4*time.Hour, "ops", "cron", "nightly", "s3", ptr(0.005), 500),
		attributed(5*time.Hour, "ops", "cron", "nightly", "s3", nil, 700),
		attributed(26*time.Hour, "main", "heartbeat", "", "s2", ptr(0.002), 300),
		attributed(50*time.Hour, "ops", "cron", "nightly", "s4", ptr(0.004), 400),
		attributed(51*time.Hour, "", "", "", "", ptr(0.100), 100), // an older sender: no attribution
	)
	return db
}

// rowsOf renders groups as "key: calls cost" lines.
func rowsOf(groups []Stats) []string {
	var out []string
	for _, g := range groups {
		cost := "-"
		if g.CostUSD != nil {
			cost = fmt.Sprintf("%.3f", *g.CostUSD)
		}
		out = append(out, fmt.Sprintf("%s: %d %s", g.Key, g.Calls, cost))
	}
	return out
}

func TestBreakdown(t *testing.T) {
	db := attributedFixture(t)
	v := New(db.Reader())
	week := BreakdownOptions{Since: sumNow.Add(-7 * 24 * time.Hour), Until: sumNow}
	for _, tc := range []struct {
		by   string
		top  int
		want []string
		rest string
	}{
		{"agent,trigger", 0, []string{" / : 1 0.100", "main / user: 2 0.030", "ops / cron: 3 0.009", "main / heartbeat: 2 0.003"}, ""},
		{"agent,trigger", 2, []string{" / : 1 0.100", "main / user: 2 0.030"}, "(2 more): 5 0.012"},
		{"cron", 0, []string{": 5 0.133", "nightly: 3 0.009"}, ""},
		{"model", 0, []string{"gpt-4o: 8 0.142"}, ""},
		{"day", 0, []string{"2026-03-04: 2 0.104", "2026-03-05: 1 0.002", "2026-03-06: 5 0.036"}, ""},
		{"day", 1, []string{"2026-03-06: 5 0.036"}, "(2 more): 3 0.106"},
		{"trigger,day", 0, []string{" / 2026-03-04: 1 0.100", "cron / 2026-03-04: 1 0.004", "heartbeat / 2026-03-05: 1 0.002",
			"user / 2026-03-06: 2 0.030", "cron / 2026-03-06: 2 0.005", "heartbeat / 2026-03-06: 1 0.001"}, ""},
		{"session", 0, []string{": 1 0.100", "s1: 2 0.030", "s3: 2 0.005", "s4: 1 0.004", "s2: 2 0.003"}, ""},
		{"hour", 2, []string{"2026-03-06 10:00: 1 0.020", "2026-03-06 11:00: 1 0.010"}, "(6 more): 6 0.112"},
	} {
		dims, err := ParseDims(tc.by)
		if err != nil {
			t.Fatal(err)
		}
		opts := week
		opts.By, opts.Top = dims, tc.top
		b, err := v.Breakdown(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := rowsOf(b.Groups); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("--by %s --top %d:\n%s\nwant\n%s", tc.by, tc.top, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
		rest := ""
		if b.Rest != nil {
			rest = rowsOf([]Stats{*b.Rest})[0]
		}
		if rest != tc.rest || b.Totals.Calls != 8 {
			t.Errorf("--by %s --top %d: rest %q, total %d calls; want %q, 8", tc.by, tc.top, rest, b.Totals.Calls, tc.rest)
		}
		// The whole days of the week come from the rollups, the parts of
		// days at its ends from stored calls; sessions and hours only from
		// stored calls.
		cov := b.Coverage
		wantFrom, wantTo := "2026-02-28", "2026-03-05"
		if strings.Contains(tc.by, "session") || strings.Contains(tc.by, "hour") {
			wantFrom, wantTo = "", ""
		}
		if cov.RollupFrom != wantFrom || cov.RollupTo != wantTo {
			t.Errorf("--by %s: rollup days %s..%s, want %s..%s (raw %v)", tc.by, cov.RollupFrom, cov.RollupTo, wantFrom, wantTo, cov.RawRanges)
		}
	}
}

func TestBreakdownKeys(t *testing.T) {
	db := attributedFixture(t)
	b, err := New(db.Reader()).Breakdown(context.Background(), BreakdownOptions{Since: sumNow.Add(-time.Hour - 1), Until: sumNow,
		By: []Dim{DimModel, DimAgent, DimChannel}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"provider": "openai", "model": "gpt-4o", "agent": "main", "channel": "telegram"}
	if len(b.Groups) != 1 || !reflect.DeepEqual(b.Groups[0].Keys, want) || b.Groups[0].Key != "gpt-4o / main / telegram" ||
		!reflect.DeepEqual(b.By, []string{"model", "agent", "channel"}) {
		t.Errorf("groups %+v, by %v", b.Groups, b.By)
	}
}

func TestParseDims(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Dim
		err  string
	}{
		{"agent", []Dim{DimAgent}, ""},
		{"agent, trigger,day", []Dim{DimAgent, DimTrigger, DimDay}, ""},
		{"model,session,cron,hour,channel,provider", []Dim{DimModel, DimSession, DimCron, DimHour, DimChannel, DimProvider}, ""},
		{"agents", nil, `unknown dimension "agents"`},
		{"", nil, `unknown dimension ""`},
		{"agent,agent", nil, `"agent" given twice`},
	} {
		got, err := ParseDims(tc.in)
		if !reflect.DeepEqual(got, tc.want) || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseDims(%q) = %v, %v; want %v, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestIdleBurn(t *testing.T) {
	db := attributedFixture(t)
	s, err := New(db.Reader()).Summary(context.Background(), SummaryOptions{Since: sumNow.Add(-7 * 24 * time.Hour), Until: sumNow})
	if err != nil {
		t.Fatal(err)
	}
	b := s.IdleBurn
	var got []string
	for _, tr := range b.ByTrigger {
		got = append(got, fmt.Sprintf("%s %d %.3f %d", tr.Trigger, tr.Calls, *tr.CostUSD, tr.UnpricedCalls))
	}
	if b.Calls != 5 || b.UnknownCalls != 1 || b.UnpricedCalls != 1 || b.CostUSD == nil || *b.CostUSD != 0.012 ||
		b.CostShare == nil || fmt.Sprintf("%.4f", *b.CostShare) != "0.0845" || b.CallShare != 5.0/8 ||
		!reflect.DeepEqual(got, []string{"cron 3 0.009 1", "heartbeat 2 0.003 0"}) {
		t.Errorf("idle burn %+v by trigger %q", b, got)
	}
	if got := rowsOf(s.TopSessions); !reflect.DeepEqual(got, []string{"s1: 2 0.030", "s3: 2 0.005", "s4: 1 0.004", "s2: 2 0.003"}) {
		t.Errorf("top sessions %q", got)
	}
	if got := rowsOf(s.ByCron); !reflect.DeepEqual(got, []string{": 5 0.133", "nightly: 3 0.009"}) {
		t.Errorf("by cron %q", got)
	}
}
