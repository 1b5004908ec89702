package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/openclaw/openclaw-trace/push"
)

// newExporter builds the OTLP exporter from the configuration; nil when no
// OTLP URL is set.
func (m *Main) newExporter() *push.Exporter {
	cfg := m.Config
	if !cfg.OTLPEnabled() {
		return nil
	}
	e := push.NewExporter(m.DB)
	e.TracesURL, e.LogsURL, e.MetricsURL = cfg.otlpURLs()
	e.Headers = cfg.OTLPHeaders.Map()
	e.JSON = cfg.OTLPProtocol == "http/json"
	e.Gzip = cfg.OTLPCompression == "gzip"
	e.HTTPClient = &http.Client{Timeout: time.Duration(cfg.OTLPTimeout)}
	e.Interval = cfg.OTLPInterval
	e.Resource = cfg.otlpResource()
	e.Logger = m.Logger.With("component", "otlp")
	return e
}

// startExport runs the OTLP export loop when the exporter is configured.
func (m *Main) startExport(ctx context.Context) {
	if m.Export == nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	m.stopExport = cancel
	m.exportDone = make(chan struct{})
	go func() {
		defer close(m.exportDone)
		m.Export.Run(ctx)
	}()
	t, l, mt := m.Config.otlpURLs()
	m.Logger.Info("otlp export enabled", "traces", redactURL(t), "logs", redactURL(l), "metrics", redactURL(mt),
		"protocol", string(m.Config.OTLPProtocol), "interval", m.Config.OTLPInterval.String())
}

// finalExport stops the loop and exports what is left, bounded by ctx.
func (m *Main) finalExport(ctx context.Context) {
	if m.Export == nil || m.stopExport == nil {
		return
	}
	m.stopExport()
	<-m.exportDone
	n, err := m.Export.ExportOnce(ctx)
	if err != nil {
		m.Logger.Warn("final otlp export incomplete; rows stay for the next start", "err", err, "rows", n)
		return
	}
	m.Logger.Info("final otlp export done", "rows", n)
}

// exportStreams is, by table, the positions retention waits for.
func exportStreams(e *push.Exporter) map[string][]string {
	if e == nil {
		return nil
	}
	return e.StreamsByTable()
}

// sinkState is what /health and /metrics say about one sink.
type sinkState struct {
	Enabled     bool             `json:"enabled"`
	Status      string           `json:"status"`
	LastSuccess *int64           `json:"last_success"` // unix ms
	Backlog     *int64           `json:"backlog"`      // rows not yet delivered
	Delivered   int64            `json:"delivered"`
	Retried     int64            `json:"retried"`
	Rejected    map[string]int64 `json:"rejected"` // rows passed over, by reason
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
	}
	if e := m.Export; e != nil {
		s := out["otlp"]
		s.Enabled, s.Status = true, e.LastExportStatus()
		if t := e.LastExportTime(); t > 0 {
			s.LastSuccess = &t
		}
		s.Delivered, s.Retried = e.RowsExported.Load(), e.Retries.Load()
		maps.Copy(s.Rejected, e.Rejected())
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
	rejected := &family{name: "sink_rows_rejected_total", typ: "counter", help: "Rows passed over without delivery, by sink and reason."}
	for _, name := range sortedKeys(sinks) {
		s := sinks[name]
		if !s.Enabled {
			continue
		}
		l := fmt.Sprintf(`{sink=%q}`, name)
		if s.LastSuccess != nil {
			last.add(l, *s.LastSuccess)
		}
		if s.Backlog != nil {
			backlog.add(l, *s.Backlog)
		}
		delivered.add(l, s.Delivered)
		retried.add(l, s.Retried)
		for _, r := range sortedKeys(s.Rejected) {
			rejected.add(fmt.Sprintf(`{sink=%q,reason=%q}`, name, r), s.Rejected[r])
		}
	}
	return []*family{last, backlog, delivered, retried, rejected}
}
