package main

import (
	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/listener"
)

// The counters of the HTTP server's doors and bounds (listener/doors.go,
// limits.go) and of what the parser noticed in accepted events, as
// /health's counters and /metrics show them.

// httpStats are the HTTP server's doors and bounds: counters.http and
// the openclaw_trace_http_* families.
var httpStats = []stat[*listener.HTTP]{
	{key: "refused", name: "http_refused_total", typ: counter, label: "reason",
		help: "HTTP requests refused before any route: Host not this daemon's, or a missing or wrong OCT_TOKEN.",
		get: func(h *listener.HTTP) any {
			return map[string]int64{"host": h.Refused.Host.Load(), "token": h.Refused.Token.Load()}
		}},
	{key: "connection_waits", name: "http_connection_waits_total", typ: counter,
		help: "Accepts that waited for a connection to close (OCT_MAX_CONNECTIONS).",
		get:  func(h *listener.HTTP) any { return h.ConnWaits.Load() }},
	{key: "busy", name: "http_busy_total", typ: counter,
		help: "Ingest requests answered 429 while other bodies in flight took the memory for theirs (also queue_full drops).",
		get:  func(h *listener.HTTP) any { return h.Busy.Load() }},
}

// fields is what the parser noticed: unknown top-level fields by name
// (capped, then "other") and metadata cut to the caps.
type fields struct {
	unknown *codec.UnknownFields
	trimmed *codec.Trimmed
}

// fieldStats are counters.fields and their /metrics families.
var fieldStats = []stat[fields]{
	{key: "unknown_fields", name: "unknown_fields_total", typ: counter, label: "field",
		help: "Accepted events with a top-level field their type does not know (kept in metadata), by field name; names past the cap are other.",
		get:  func(f fields) any { return f.unknown.Counts() }},
	{key: "metadata_trimmed", name: "metadata_trimmed_total", typ: counter,
		help: "Events whose metadata was cut to OCT_MAX_METADATA_KEYS / OCT_MAX_METADATA_BYTES.",
		get:  func(f fields) any { return f.trimmed.Events.Load() }},
	{key: "metadata_keys_dropped", name: "metadata_keys_dropped_total", typ: counter,
		help: "Metadata keys dropped by those cuts.",
		get:  func(f fields) any { return f.trimmed.Keys.Load() }},
}

// guardStats reads the doors' and the parser's counters; each group stays
// nil (null on /health, absent on /metrics) until its component runs.
func (m *Main) guardStats(s *snapshot) {
	if m.HTTP != nil {
		s.HTTP = readGroup(httpStats, m.HTTP)
	}
	if m.Trimmed != nil {
		s.Fields = readGroup(fieldStats, fields{m.Unknown, m.Trimmed})
	}
}
