package main

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

// TestReportGoldenBy: --by tables, text and JSON.
func TestReportGoldenBy(t *testing.T) {
	db := reportDB(t)
	for _, tc := range []struct {
		file string
		args []string
	}{
		{"report_by_agent_trigger.txt", []string{"--by", "agent,trigger"}},
		{"report_by_model_day_wide.txt", []string{"--by", "model,day", "--wide"}},
		{"report_by_session_top1.txt", []string{"--by", "session", "--top", "1"}},
		{"report_by_agent_trigger.json", []string{"--by", "agent,trigger", "--json"}},
		{"report_by_cron_hour.json", []string{"--by", "cron,hour", "--top", "2", "--json"}},
		// whole days from the rollups, the ends of the week from stored calls
		{"report_by_trigger_day_7d.txt", []string{"--by", "trigger,day", "--since", "7d"}},
	} {
		code, out, errOut := runReportTest(t, nil, append([]string{"--db", db}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errOut)
		}
		golden(t, tc.file, out)
	}
}

// TestReportFitsWidth: without --wide every line fits 100 columns, long
// names from the network included; --wide shows them whole.
func TestReportFitsWidth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.db")
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("very-long-name-", 8)
	evs := reportEvents()
	for _, ev := range evs[:3] {
		if tr := ev.Trace; tr != nil {
			tr.Model, tr.Provider, tr.AgentID, tr.Trigger, tr.SessionKey = long+"model", long+"provider", long+"agent", long+"trigger", long+"session"
			tr.CronJobID, tr.Channel = long+"cron", long+"channel"
		}
	}
	evs[2].Trace.CostUSD = p(123456.789)
	in := make(chan codec.Event, len(evs))
	for _, ev := range evs {
		in <- ev
	}
	close(in)
	if err := store.NewWriter(db, in).Run(); err != nil {
		t.Fatal(err)
	}
	if err := db.LogPush(t.Context(), codec.PushAttempt{At: reportNow.UnixMilli(), Status: "error", Error: strings.Repeat("upstream said no ", 20)}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, tc := range []struct {
		args []string
		name string // shown whole with --wide
	}{
		{nil, long + "agent"}, {[]string{"--by", "model,agent,channel,trigger"}, long + "model"},
		{[]string{"--by", "session,cron,hour"}, long + "session"}, {[]string{"--by", "day"}, "2026-03-06"},
	} {
		_, out, _ := runReportTest(t, nil, append([]string{"--db", path, "--url", "127.0.0.1:" + closedPort(t)}, tc.args...)...)
		for _, line := range strings.Split(out, "\n") {
			if utf8.RuneCountInString(line) > reportWidth {
				t.Errorf("%v: %d columns: %q", tc.args, utf8.RuneCountInString(line), line)
			}
		}
		_, wide, _ := runReportTest(t, nil, append([]string{"--db", path, "--url", "127.0.0.1:" + closedPort(t), "--wide"}, tc.args...)...)
		if !strings.Contains(wide, tc.name) {
			t.Errorf("%v --wide lacks %q:\n%s", tc.args, tc.name, wide)
		}
	}
}

func TestUSD(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "$0"}, {0.00004, "$0.00004"}, {0.000123456, "$0.00012"}, {0.0045, "$0.0045"}, {0.009999, "$0.01"},
		{1e-9, "$0.000000001"}, {0.01, "$0.0100"}, {0.1225, "$0.1225"}, {12.5, "$12.5000"}, {100, "$100.00"},
		{123456.789, "$123,456.79"}, {99.99999, "$100.0000"},
	} {
		if got := usd(tc.v); got != tc.want {
			t.Errorf("usd(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0"}, {99999, "99,999"}, {100000, "100k"}, {123456, "123k"}, {999499, "999k"}, {999500, "1.00M"},
		{1234567, "1.23M"}, {12345678, "12.3M"}, {3_500_000_000, "3.50B"}} {
		if got := compact(tc.n); got != tc.want {
			t.Errorf("compact(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
