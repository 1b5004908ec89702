package main

import (
	"net/http"
	"time"

	"github.com/openclaw/openclaw-trace/push/otlp"
)

// newExporter builds the OTLP exporter from the configuration; nil when no
// OTLP URL is set.
func (m *Main) newExporter() *otlp.Exporter {
	cfg := m.Config
	if !cfg.OTLPEnabled() {
		return nil
	}
	e := otlp.NewExporter(m.DB)
	e.TracesURL, e.LogsURL, e.MetricsURL = cfg.otlpURLs()
	e.Headers = cfg.OTLPHeaders.Map()
	e.JSON = cfg.OTLPProtocol == "http/json"
	e.Gzip = cfg.OTLPCompression == "gzip"
	e.HTTPClient = &http.Client{Timeout: time.Duration(cfg.OTLPTimeout)}
	e.Interval = cfg.OTLPInterval
	e.Resource = cfg.otlpResource()
	e.Logger = m.Logger.With("component", "otlp")
	t, l, mt := cfg.otlpURLs()
	m.Logger.Info("otlp export enabled", "traces", redactURL(t), "logs", redactURL(l), "metrics", redactURL(mt),
		"protocol", string(cfg.OTLPProtocol), "interval", cfg.OTLPInterval.String())
	return e
}

// exportStreams is, by table, the positions retention waits for.
func exportStreams(e *otlp.Exporter) map[string][]string {
	if e == nil {
		return nil
	}
	return e.StreamsByTable()
}
