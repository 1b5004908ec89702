package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/store/view"
)

// writeDaemon says whose counters the report shows: those of the daemon
// that serves this database, or that none is running for it.
func writeDaemon(w io.Writer, d *daemonStatus) {
	if d == nil {
		return
	}
	const none = "        no daemon is running for this database: drop counters live in a running daemon's memory"
	switch {
	case !d.Reachable:
		reason := d.Error
		if i := strings.LastIndex(reason, ": "); i >= 0 {
			reason = reason[i+2:] // "connection refused", not the whole URL chain
		}
		fmt.Fprintf(w, "\nDAEMON  none answers at %s (%s)\n%s\n", clean(d.Address), oneLine(reason, 40), none)
		return
	case d.DBPath == "":
		fmt.Fprintf(w, "\nDAEMON  %s does not say which database it serves (an older version)\n%s\n", clean(d.Address), none)
		return
	case !d.ServesDB || d.DaemonCounters == nil:
		fmt.Fprintf(w, "\nDAEMON  %s serves another database:\n        %s\n", clean(d.Address), clean(d.DBPath))
		fmt.Fprintln(w, "        no daemon is running for this one that answers there (name its daemon with --url)")
		return
	}
	where := "this daemon"
	if d.Address != "" {
		where = clean(d.Address)
	}
	fmt.Fprintf(w, "\nDAEMON  %s serves this database\n", where)
	fmt.Fprintf(w, "DROPS   received %s, written %s, dropped %s", count(d.Received), count(d.Written), count(d.Dropped))
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
	fmt.Fprintf(w, "\n        client-reported %s", count(d.ClientReportedDrops))
	if d.KernelDrops != nil {
		fmt.Fprintf(w, ", udp kernel %s", count(*d.KernelDrops))
	}
	fmt.Fprintf(w, "; queue %d/%d\n", d.QueueDepth, d.QueueCapacity)
	last := "never"
	if d.LastPushTime != nil {
		last = utc(*d.LastPushTime)
	}
	fmt.Fprintf(w, "PUSH    %s (last %s)\n", cut(clean(d.LastPushStatus), 60), last)
	for _, name := range sortedKeys(d.Sinks) {
		sk := d.Sinks[name]
		if sk == nil || !sk.Enabled {
			continue
		}
		fmt.Fprintf(w, "SINK    %s %s, delivered %s, retried %s", clean(name), cut(clean(sk.Status), 30), count(sk.Delivered), count(sk.Retried))
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
	fmt.Fprintf(w, "BACKLOG %s rows not pushed (%s)\n", count(b.Total), strings.Join(parts, ", "))
	if p := b.LastPush; p != nil {
		line := fmt.Sprintf("        last attempt %s %s, %s rows", utc(p.At), clean(p.Status), count(p.Rows))
		if p.HTTPStatus != nil {
			line += fmt.Sprintf(", HTTP %d", *p.HTTPStatus)
		}
		if p.Error != "" {
			line += ": " + oneLine(p.Error, reportWidth)
		}
		fmt.Fprintln(w, cut(line, reportWidth))
	}
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
		fmt.Fprintf(w, "EXPORT  %s %s rows not exported (%s)\n", clean(st), count(total), strings.Join(parts, ", "))
	}
}
