package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/openclaw/openclaw-trace/store/view"
)

// writeReport prints doc as the human report: totals, idle burn, one
// table per grouping, failed calls and error events, the daemon's drops
// and the backlog. Without wide every line fits reportWidth columns.
func writeReport(w io.Writer, doc *summaryDoc, wide bool) {
	s := doc.Summary
	writeHeader(w, doc.Window, s.Since, s.Until, &s.Totals, s.Coverage)
	writeIdleBurn(w, s)
	writeBudgets(w, doc.Budgets, wide)
	groups := []struct {
		title string
		heads []string
		rows  []view.Stats
		named bool // skipped when no call has a name here
	}{
		{"BY MODEL", []string{"MODEL", "PROVIDER"}, s.ByModel, false},
		{"BY PROVIDER", []string{"PROVIDER"}, s.ByProvider, false},
		{"BY AGENT", []string{"AGENT"}, s.ByAgent, true},
		{"BY CHANNEL", []string{"CHANNEL"}, s.ByChannel, true},
		{"BY TRIGGER", []string{"TRIGGER"}, s.ByTrigger, true},
		{"BY CRON JOB", []string{"CRON JOB"}, s.ByCron, true},
		{"TOP SESSIONS BY COST", []string{"SESSION"}, s.TopSessions, false},
		{"BY DAY (" + s.Coverage.Zone + ")", []string{"DAY"}, s.ByDay, false},
	}
	for _, g := range groups {
		if len(g.rows) == 0 || g.named && len(g.rows) == 1 && g.rows[0].Key == "" {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", g.title)
		rows := make([]tableRow, len(g.rows))
		for i := range g.rows {
			rows[i] = tableRow{names: []string{orNone(g.rows[i].Key)}, st: &g.rows[i]}
			if len(g.heads) == 2 {
				rows[i].names = append(rows[i].names, clean(g.rows[i].Provider))
			}
		}
		writeTable(w, g.heads, rows, wide)
	}
	writeErrors(w, s, wide)
	writeDaemon(w, doc.Daemon)
	writeBacklog(w, s.Backlog)
}

// writeHeader prints the window and its totals; errors are failed calls.
func writeHeader(w io.Writer, window string, since, until int64, t *view.Stats, cov view.Coverage) {
	fmt.Fprintf(w, "openclaw-trace report: last %s (%s to %s UTC)\n\n", window, utc(since), utc(until))
	fmt.Fprintf(w, "calls %s   errors %s (%s)   cost %s\n", count(t.Calls), count(t.Errors), pct(t.ErrorRate), costText(*t))
	fmt.Fprintf(w, "tokens in %s (cache read %s, cache write %s)   out %s   reasoning %s\n",
		count(t.PromptTokens), count(t.CacheReadTokens), count(t.CacheWriteTokens), count(t.CompletionTokens), count(t.ReasoningTokens))
	fmt.Fprintf(w, "latency p50 %s   p95 %s   p99 %s   ttft p50 %s\n",
		ms(t.LatencyP50MS), ms(t.LatencyP95MS), ms(t.LatencyP99MS), ms(t.TTFTP50MS))
	if cov.RollupFrom != "" {
		fmt.Fprintf(w, "history   days %s to %s (%s) from daily rollups; the rest from stored calls\n",
			cov.RollupFrom, cov.RollupTo, clean(cov.Zone))
	}
}

// writeIdleBurn prints what the calls no user started cost, by trigger.
func writeIdleBurn(w io.Writer, s *view.Summary) {
	b, t := s.IdleBurn, s.Totals
	switch {
	case t.Calls == 0:
		return
	case b.UnknownCalls == t.Calls:
		fmt.Fprintln(w, "idle burn unknown: no call in the window says what triggered it")
		return
	case b.Calls == 0:
		fmt.Fprintln(w, "idle burn none: every call with a known trigger was started by a user message")
		return
	}
	cost := unknown
	if b.CostUSD != nil {
		cost = usd(*b.CostUSD)
		if b.CostShare != nil {
			cost += fmt.Sprintf(" (%s of cost)", pct(*b.CostShare))
		}
	}
	fmt.Fprintf(w, "idle burn %s in %s of %s not started by a user message\n", cost, count(b.Calls), plural(t.Calls, "call"))
	parts := make([]string, 0, len(b.ByTrigger)+2)
	for _, tr := range b.ByTrigger {
		c := unknown
		if tr.CostUSD != nil {
			c = usd(*tr.CostUSD)
		}
		parts = append(parts, fmt.Sprintf("%s %s in %s", clean(tr.Trigger), c, count(tr.Calls)))
	}
	if b.UnpricedCalls > 0 {
		parts = append(parts, fmt.Sprintf("%s of them unpriced", count(b.UnpricedCalls)))
	}
	if b.UnknownCalls > 0 {
		parts = append(parts, fmt.Sprintf("%s without a trigger", plural(b.UnknownCalls, "call")))
	}
	writeWrapped(w, "          ", parts, "; ")
}

// writeWrapped prints parts after indent, joined by sep, breaking lines
// before reportWidth.
func writeWrapped(w io.Writer, indent string, parts []string, sep string) {
	line := indent
	for i, p := range parts {
		if i > 0 {
			if width(line)+width(sep)+width(p) > reportWidth {
				fmt.Fprintln(w, line+strings.TrimRight(sep, " "))
				line = indent
			} else {
				line += sep
			}
		}
		line += cut(p, reportWidth-width(indent)-width(sep)) // room for sep after it
	}
	fmt.Fprintln(w, line)
}

// writeErrors lists the newest failed calls under their count, and the
// newest error events under theirs: "errors" are failed calls, and error
// events are never counted as such.
func writeErrors(w io.Writer, s *view.Summary, wide bool) {
	var calls, events []view.RecentError
	for _, e := range s.RecentErrors {
		if e.Kind == "trace" {
			calls = append(calls, e)
		} else {
			events = append(events, e)
		}
	}
	msgW := reportWidth - 2 - 19 - 2 - 24 - 1
	if wide {
		msgW = 200
	}
	if n := s.Totals.Errors; n > 0 {
		fmt.Fprintf(w, "\nERRORS  %s (status error or timeout)%s\n", plural(n, "failed call"), newest(len(calls), n))
		for _, e := range calls {
			fmt.Fprintf(w, "  %s  %-24s %s\n", utc(e.At), cut(clean(e.Model), 24), oneLine(e.Message, msgW))
		}
	}
	var total int64
	types := make([]string, 0, len(s.ErrorEvents))
	for k, n := range s.ErrorEvents {
		types = append(types, k)
		total += n
	}
	if total == 0 {
		return
	}
	sort.Strings(types)
	parts := make([]string, len(types))
	for i, k := range types {
		parts[i] = fmt.Sprintf("%s %s", clean(k), count(s.ErrorEvents[k]))
	}
	fmt.Fprintf(w, "\nERROR EVENTS  %s (%s)%s\n", count(total), cut(strings.Join(parts, ", "), 40), newest(len(events), total))
	for _, e := range events {
		what := e.Type
		if e.Code != "" {
			what += "/" + e.Code
		}
		fmt.Fprintf(w, "  %s  %-24s %s\n", utc(e.At), cut(clean(what), 24), oneLine(e.Message, msgW))
	}
}

// newest says how many of n the list under it shows.
func newest(shown int, n int64) string {
	if int64(shown) == n {
		return ", newest first"
	}
	return fmt.Sprintf(", the newest %d", shown)
}

// writeBreakdown prints a --by document: the totals and one table of the
// groups, the rest added up in one row.
func writeBreakdown(w io.Writer, doc *breakdownDoc, wide bool) {
	b := doc.Breakdown
	writeHeader(w, doc.Window, b.Since, b.Until, &b.Totals, b.Coverage)
	var heads []string
	for _, d := range b.By {
		switch d {
		case "model":
			heads = append(heads, "MODEL", "PROVIDER")
		case "cron":
			heads = append(heads, "CRON JOB")
		case "day":
			heads = append(heads, "DAY ("+clean(b.Coverage.Zone)+")")
		case "hour":
			heads = append(heads, "HOUR ("+clean(b.Coverage.Zone)+")")
		default:
			heads = append(heads, strings.ToUpper(d))
		}
	}
	fmt.Fprintf(w, "\nBY %s\n", strings.ToUpper(strings.Join(b.By, ", ")))
	rows := make([]tableRow, 0, len(b.Groups)+2)
	for i := range b.Groups {
		g := &b.Groups[i]
		var names []string
		for _, d := range b.By {
			names = append(names, orNone(g.Keys[d]))
			if d == "model" {
				names = append(names, clean(g.Keys["provider"]))
			}
		}
		rows = append(rows, tableRow{names: names, st: g})
	}
	blank := func(first string) []string {
		names := make([]string, len(heads))
		names[0] = first
		return names
	}
	if b.Rest != nil {
		rows = append(rows, tableRow{names: blank(fmt.Sprintf("(%d more)", b.RestGroups)), st: b.Rest})
	}
	rows = append(rows, tableRow{names: blank("TOTAL"), st: &b.Totals})
	writeTable(w, heads, rows, wide)
	for _, d := range b.By {
		if d == "session" || d == "hour" {
			if b.Coverage.RollupFrom != "" {
				fmt.Fprintf(w, "  %s: calls of days read from daily rollups, which keep no %s\n", view.RolledUp, d)
			}
			break
		}
	}
}
