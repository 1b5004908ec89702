package main

import (
	"github.com/openclaw/openclaw-trace/logtail"
	"github.com/openclaw/openclaw-trace/push"
)

// pushStats are push.Client's counters: /health's counters.push and the
// openclaw_trace_push_* families.
var pushStats = []stat[*push.Stats]{
	{key: "cycles", name: "push_cycles_total", typ: counter, help: "Push cycles run, empty ones included.",
		get: func(p *push.Stats) any { return p.Cycles.Load() }},
	{key: "cycles_failed", name: "push_cycles_failed_total", typ: counter, help: "Push cycles that ended in an error.",
		get: func(p *push.Stats) any { return p.CyclesFailed.Load() }},
	{key: "cycles_skipped", name: "push_cycles_skipped_total", typ: counter, help: "Push ticks skipped while cooling down.",
		get: func(p *push.Stats) any { return p.CyclesSkipped.Load() }},
	{key: "attempts", name: "push_attempts_total", typ: counter, help: "HTTP attempts, retries included.",
		get: func(p *push.Stats) any { return p.Attempts.Load() }},
	{key: "retries", name: "push_retries_total", typ: counter, help: "HTTP attempts after a body's first.",
		get: func(p *push.Stats) any { return p.Retries.Load() }},
	{key: "bodies_ok", name: "push_bodies_ok_total", typ: counter, help: "Push bodies answered 2xx.",
		get: func(p *push.Stats) any { return p.BodiesOK.Load() }},
	{key: "rows_pushed", name: "push_rows_total", typ: counter, help: "Rows pushed and marked synced.",
		get: func(p *push.Stats) any { return p.RowsPushed.Load() }},
	{key: "bytes_sent", name: "push_bytes_sent_total", typ: counter, help: "Uncompressed body bytes of every attempt.",
		get: func(p *push.Stats) any { return p.BytesSent.Load() }},
	{key: "wire_bytes_sent", name: "push_wire_bytes_sent_total", typ: counter, help: "Body bytes on the wire of every attempt.",
		get: func(p *push.Stats) any { return p.WireBytesSent.Load() }},
	{key: "failures", name: "push_failures_total", typ: counter, help: "Failed push attempts and cycles, by class.", label: "class",
		get: func(p *push.Stats) any {
			m := make(map[string]int64, push.NumFailureClasses)
			for f := range push.NumFailureClasses {
				m[f.String()] = p.Failures[f].Load()
			}
			return m
		}},
}

// logtailStats are the log follower's counters that the logtail
// transport's units and received do not already tell: /health's
// counters.logtail and the openclaw_trace_logtail_* families.
var logtailStats = []stat[*logtail.Stats]{
	{key: "skipped", name: "logtail_lines_skipped_total", typ: counter, help: "Gateway log lines below OCT_LOG_MIN_LEVEL.",
		get: func(l *logtail.Stats) any { return l.Skipped.Load() }},
	{key: "folded", name: "logtail_lines_folded_total", typ: counter, help: "Gateway log lines folded into the event of the line before (a CLI failure block).",
		get: func(l *logtail.Stats) any { return l.Folded.Load() }},
	{key: "not_json", name: "logtail_lines_not_json_total", typ: counter, help: "Gateway log lines kept whole as kind other.",
		get: func(l *logtail.Stats) any { return l.NotJSON.Load() }},
	{key: "truncated", name: "logtail_lines_truncated_total", typ: counter, help: "Gateway log lines over the line cap, kept cut.",
		get: func(l *logtail.Stats) any { return l.Truncated.Load() }},
	{key: "switches", name: "logtail_file_switches_total", typ: counter, help: "Moves to another log file, and restarts after copy-truncate.",
		get: func(l *logtail.Stats) any { return l.Switches.Load() }},
	{key: "read_errors", name: "logtail_read_errors_total", typ: counter, help: "Failed opens, reads, position loads and listings of the gateway log.",
		get: func(l *logtail.Stats) any { return l.ReadErrors.Load() }},
}

// components reads the counters of push and the log follower; each stays
// nil (null on /health, absent on /metrics) when its component is off.
func (m *Main) components(s *snapshot) {
	if m.Push != nil {
		s.Push = readGroup(pushStats, &m.Push.Stats)
	}
	if m.Follower != nil {
		s.Logtail = readGroup(logtailStats, &m.Follower.Stats)
	}
}
