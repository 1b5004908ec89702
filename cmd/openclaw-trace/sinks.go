package main

import (
	"context"
	"maps"

	llmusage "github.com/openclaw/openclaw-trace/metrics/usage" // a test helper is named usage
)

// startSinks runs the loop of every sink built (the push, the OTLP
// exporter); flushSinks stops them and gives each one last cycle.
func (m *Main) startSinks(ctx context.Context) {
	m.sinkLoops.Logger = m.Logger
	if m.Push != nil {
		m.sinkLoops.Add("push", m.Push)
	}
	if m.Export != nil {
		m.sinkLoops.Add("otlp", m.Export)
	}
	m.sinkLoops.Start(ctx)
}

// flushSinks stops the sinks' loops (a body in flight is aborted, its rows
// stay stored) and runs each sink once more, bounded by ctx.
func (m *Main) flushSinks(ctx context.Context) { m.sinkLoops.Close(ctx) }

// sinkState is what /health and /metrics say about one sink.
type sinkState struct {
	Enabled     bool             `json:"enabled"`
	Status      string           `json:"status"`
	LastSuccess *int64           `json:"last_success"` // unix ms
	Backlog     *int64           `json:"backlog"`      // rows not yet delivered
	Delivered   int64            `json:"delivered"`
	Retried     int64            `json:"retried"`
	Rejected    map[string]int64 `json:"rejected"`  // rows passed over (push: set aside) since start, by reason
	SetAside    *int64           `json:"set_aside"` // push: rows refused by the receiver, kept in the database
}

// sinks reads the state of both sinks; backlog needs the database.
func (m *Main) sinks(ctx context.Context, unsynced *int64) map[string]*sinkState {
	out := map[string]*sinkState{
		"push": {Status: "disabled", Rejected: map[string]int64{}},
		"otlp": {Status: "disabled", Rejected: map[string]int64{}},
	}
	if p := m.Push; p != nil {
		s := out["push"]
		s.Enabled, s.Backlog = true, unsynced
		s.LastSuccess, s.Status = m.pushStatus()
		s.Delivered, s.Retried = p.RowsPushed.Load(), p.Retries.Load()
		maps.Copy(s.Rejected, p.Rejected.Snapshot())
		if ctx != nil && m.DB != nil {
			if n, err := m.DB.SetAsideCount(ctx); err == nil {
				s.SetAside = &n
			}
		}
	}
	if e := m.Export; e != nil {
		s := out["otlp"]
		s.Enabled, s.Status = true, e.LastExportStatus()
		if t := e.LastExportTime(); t > 0 {
			s.LastSuccess = &t
		}
		s.Delivered, s.Retried = e.RowsExported.Load(), e.Retries.Load()
		maps.Copy(s.Rejected, e.Rejected.Snapshot())
		if ctx != nil {
			if n, err := e.Backlog(ctx); err == nil {
				s.Backlog = &n
			}
		}
	}
	return out
}

// sinkFamilies are the sinks' lines of /metrics.
func sinkFamilies(sinks map[string]*sinkState) []*family {
	last := &family{name: "sink_last_success_timestamp_ms", typ: "gauge", help: "When the sink last answered 2xx (unix ms), by sink."}
	backlog := &family{name: "sink_backlog_rows", typ: "gauge", help: "Rows the sink has not delivered yet, by sink."}
	delivered := &family{name: "sink_rows_delivered_total", typ: "counter", help: "Rows delivered (answered 2xx), by sink."}
	retried := &family{name: "sink_retries_total", typ: "counter", help: "Attempts after a body's first, by sink."}
	rejected := &family{name: "sink_rows_rejected_total", typ: "counter", help: "Rows passed over without delivery (the push sets them aside), by sink and reason."}
	setAside := &family{name: "sink_rows_set_aside", typ: "gauge", help: "Rows the receiver refused, kept in the database and no longer sent, by sink."}
	for _, name := range sortedKeys(sinks) {
		s := sinks[name]
		if !s.Enabled {
			continue
		}
		l := llmusage.Labels("sink", name)
		if s.LastSuccess != nil {
			last.add(l, *s.LastSuccess)
		}
		if s.Backlog != nil {
			backlog.add(l, *s.Backlog)
		}
		if s.SetAside != nil {
			setAside.add(l, *s.SetAside)
		}
		delivered.add(l, s.Delivered)
		retried.add(l, s.Retried)
		for _, r := range sortedKeys(s.Rejected) {
			rejected.add(llmusage.Labels("sink", name, "reason", r), s.Rejected[r])
		}
	}
	return []*family{last, backlog, delivered, retried, rejected, setAside}
}
