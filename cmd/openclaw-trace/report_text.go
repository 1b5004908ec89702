package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/store/view"
)

// writeReport prints doc as the human report: totals, one table per
// grouping, recent errors, drops and backlog.
func writeReport(w io.Writer, doc *summaryDoc) {
	s := doc.Summary
	t := s.Totals
	fmt.Fprintf(w, "openclaw-trace report: last %s (%s to %s UTC)\n\n", doc.Window, utc(s.Since), utc(s.Until))
	fmt.Fprintf(w, "calls %s   errors %s (%s)   cost %s\n", count(t.Calls), count(t.Errors), pct(t.ErrorRate), costText(t))
	fmt.Fprintf(w, "tokens in %s (cache read %s, cache write %s)   out %s\n",
		count(t.PromptTokens), count(t.CacheReadTokens), count(t.CacheWriteTokens), count(t.CompletionTokens))
	fmt.Fprintf(w, "latency p50 %s   p95 %s   p99 %s   ttft p50 %s\n",
		ms(t.LatencyP50MS), ms(t.LatencyP95MS), ms(t.LatencyP99MS), ms(t.TTFTP50MS))
	for _, g := range []struct {
		title, key string
		rows       []view.Stats
	}{
		{"BY MODEL", "MODEL", s.ByModel}, {"BY PROVIDER", "PROVIDER", s.ByProvider},
		{"BY AGENT", "AGENT", s.ByAgent}, {"BY CHANNEL", "CHANNEL", s.ByChannel}, {"BY DAY (UTC)", "DAY", s.ByDay},
	} {
		if len(g.rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", g.title)
		writeStats(w, g.key, g.rows, g.key == "MODEL")
	}
	writeErrors(w, s)
	writeDaemon(w, doc.Daemon)
	writeBacklog(w, s.Backlog)
}

func writeStats(w io.Writer, key string, rows []view.Stats, withProvider bool) {
	// The numbers align right; the names are padded to one width first so
	// they read left-aligned.
	keyW, provW := len(key), len("PROVIDER")
	for _, r := range rows {
		keyW, provW = max(keyW, len(orNone(r.Key))), max(provW, len(clean(r.Provider)))
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	head := fmt.Sprintf("%-*s\t", keyW, key)
	if withProvider {
		head += fmt.Sprintf("%-*s\t", provW, "PROVIDER")
	}
	fmt.Fprintln(tw, head+"CALLS\tERRORS\tERR%\tIN\tCACHE R\tCACHE W\tOUT\tCOST\tUNPRICED\tP50\tP95\tP99\tTTFT P50\t")
	for _, r := range rows {
		line := fmt.Sprintf("%-*s\t", keyW, orNone(r.Key))
		if withProvider {
			line += fmt.Sprintf("%-*s\t", provW, clean(r.Provider))
		}
		cost := "-"
		if r.CostUSD != nil {
			cost = usd(*r.CostUSD)
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", line,
			count(r.Calls), count(r.Errors), pct(r.ErrorRate), count(r.PromptTokens), count(r.CacheReadTokens),
			count(r.CacheWriteTokens), count(r.CompletionTokens), cost, count(r.UnpricedCalls),
			ms(r.LatencyP50MS), ms(r.LatencyP95MS), ms(r.LatencyP99MS), ms(r.TTFTP50MS))
	}
	tw.Flush()
}

func writeErrors(w io.Writer, s *view.Summary) {
	if len(s.ErrorEvents) > 0 {
		types := make([]string, 0, len(s.ErrorEvents))
		for k := range s.ErrorEvents {
			types = append(types, k)
		}
		sort.Strings(types)
		parts := make([]string, len(types))
		for i, k := range types {
			parts[i] = fmt.Sprintf("%s %s", k, count(s.ErrorEvents[k]))
		}
		fmt.Fprintf(w, "\nERROR EVENTS  %s\n", strings.Join(parts, ", "))
	}
	if len(s.RecentErrors) == 0 {
		return
	}
	fmt.Fprintln(w, "\nRECENT ERRORS")
	for _, e := range s.RecentErrors {
		what := e.Type
		if e.Code != "" {
			what += "/" + e.Code
		}
		if e.Kind == "trace" {
			what = "call " + e.Model
		}
		fmt.Fprintf(w, "  %s  %-28s %s\n", utc(e.At), clean(what), oneLine(e.Message, 100))
	}
}

func writeDaemon(w io.Writer, d *daemonStatus) {
	if d == nil {
		return
	}
	if !d.Reachable {
		reason := d.Error
		if i := strings.LastIndex(reason, ": "); i >= 0 {
			reason = reason[i+2:] // "connection refused", not the whole URL chain
		}
		fmt.Fprintf(w, "\nDROPS  daemon not reachable at %s (%s): drop counters live in its memory\n", d.Address, reason)
		return
	}
	fmt.Fprintf(w, "\nDROPS (daemon at %s)  received %s, written %s, dropped %s", d.Address,
		count(d.Received), count(d.Written), count(d.Dropped))
	reasons := make([]string, 0, len(d.DroppedByReason))
	for r, n := range d.DroppedByReason {
		if n > 0 {
			reasons = append(reasons, fmt.Sprintf("%s %s", r, count(n)))
		}
	}
	sort.Strings(reasons)
	if len(reasons) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(reasons, ", "))
	}
	fmt.Fprintf(w, "; client-reported %s", count(d.ClientReportedDrops))
	if d.KernelDrops != nil {
		fmt.Fprintf(w, ", udp kernel %s", count(*d.KernelDrops))
	}
	fmt.Fprintf(w, "; queue %d/%d\n", d.QueueDepth, d.QueueCapacity)
	last := "never"
	if d.LastPushTime != nil {
		last = utc(*d.LastPushTime)
	}
	fmt.Fprintf(w, "PUSH  %s (last %s)\n", clean(d.LastPushStatus), last)
	for _, name := range sortedKeys(d.Sinks) {
		sk := d.Sinks[name]
		if sk == nil || !sk.Enabled {
			continue
		}
		fmt.Fprintf(w, "SINK %s  %s, delivered %s, retried %s", name, clean(sk.Status), count(sk.Delivered), count(sk.Retried))
		if sk.Backlog != nil {
			fmt.Fprintf(w, ", backlog %s", count(*sk.Backlog))
		}
		if sk.LastSuccess != nil {
			fmt.Fprintf(w, ", last success %s", utc(*sk.LastSuccess))
		}
		fmt.Fprintln(w)
	}
}

func writeBacklog(w io.Writer, b view.Backlog) {
	parts := make([]string, 0, len(store.DataTables))
	for _, t := range store.DataTables {
		parts = append(parts, fmt.Sprintf("%s %s", t, count(b.Unsynced[t])))
	}
	fmt.Fprintf(w, "BACKLOG  %s rows not pushed (%s)", count(b.Total), strings.Join(parts, ", "))
	if p := b.LastPush; p != nil {
		fmt.Fprintf(w, "; last attempt %s %s, %s rows", utc(p.At), p.Status, count(p.Rows))
		if p.HTTPStatus != nil {
			fmt.Fprintf(w, ", HTTP %d", *p.HTTPStatus)
		}
		if p.Error != "" {
			fmt.Fprintf(w, ": %s", oneLine(p.Error, 80))
		}
	}
	fmt.Fprintln(w)
	streams := make([]string, 0, len(b.Exports))
	for st := range b.Exports {
		streams = append(streams, st)
	}
	sort.Strings(streams)
	for _, st := range streams {
		var total int64
		parts := parts[:0]
		for _, t := range store.DataTables {
			if n, ok := b.Exports[st][t]; ok {
				total += n
				parts = append(parts, fmt.Sprintf("%s %s", t, count(n)))
			}
		}
		fmt.Fprintf(w, "EXPORT %s  %s rows not exported (%s)\n", st, count(total), strings.Join(parts, ", "))
	}
}

// costText is the cost of the priced calls, with the unpriced ones named:
// never "$0" for calls that have no price.
func costText(t view.Stats) string {
	switch {
	case t.CostUSD == nil && t.UnpricedCalls > 0:
		return fmt.Sprintf("unknown (%s unpriced calls)", count(t.UnpricedCalls))
	case t.CostUSD == nil:
		return "-"
	case t.UnpricedCalls > 0:
		return fmt.Sprintf("%s + %s unpriced calls", usd(*t.CostUSD), count(t.UnpricedCalls))
	}
	return usd(*t.CostUSD)
}

// usd shows cents from $100 up, four decimals below (a call costs
// fractions of a cent).
func usd(v float64) string {
	if v >= 100 {
		whole := int64(v)
		cents := int64((v-float64(whole))*100 + 0.5)
		if cents == 100 {
			whole, cents = whole+1, 0
		}
		return fmt.Sprintf("$%s.%02d", count(whole), cents)
	}
	return "$" + strconv.FormatFloat(v, 'f', 4, 64)
}

func ms(v *float64) string {
	switch {
	case v == nil:
		return "-"
	case *v < 1000:
		return fmt.Sprintf("%.0f ms", *v)
	}
	return fmt.Sprintf("%.2f s", *v/1000)
}

func pct(r float64) string { return fmt.Sprintf("%.1f%%", 100*r) }

// count formats n with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func utc(unixMS int64) string { return time.UnixMilli(unixMS).UTC().Format("2006-01-02 15:04:05") }

func orNone(k string) string {
	if k == "" {
		return "(none)"
	}
	return clean(k)
}

// oneLine is s cleaned, its white space folded, cut at n runes.
func oneLine(s string, n int) string {
	s = clean(strings.Join(strings.Fields(s), " "))
	if utf8.RuneCountInString(s) > n {
		return string([]rune(s)[:n]) + "…"
	}
	return s
}

// clean shows names and messages from the network as printable text: a
// control or format character (an escape sequence, a tab, a bidi
// override) or broken UTF-8 becomes "?", so it cannot drive the terminal
// or break a table.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsGraphic(r) {
			return '?'
		}
		return r
	}, s)
}
