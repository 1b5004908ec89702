package otlptest

import (
	"maps"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func (rc *Receiver) keepTraces(td ptrace.Traces) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, rs := range td.ResourceSpans().All() {
		rc.resource = rs.Resource().Attributes().AsRaw()
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				rc.spans = append(rc.spans, s)
				id, _ := s.Attributes().Get("openclaw.trace_id")
				rc.spanByID[id.Str()] = s
			}
		}
	}
}

func (rc *Receiver) keepLogs(ld plog.Logs) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				rc.logs = append(rc.logs, lr)
				id, _ := lr.Attributes().Get("openclaw.trace_id")
				rc.logByID[id.Str()] = lr
			}
		}
	}
}

func (rc *Receiver) keepMetrics(md pmetric.Metrics) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				rc.metrics = append(rc.metrics, m)
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					rc.points[m.Name()] += m.Gauge().DataPoints().Len()
				case pmetric.MetricTypeHistogram:
					for _, dp := range m.Histogram().DataPoints().All() {
						rc.points[m.Name()] += int(dp.Count())
					}
				}
			}
		}
	}
}

// Requests counts the requests to path, answered or not.
func (rc *Receiver) Requests(path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests[path]
}

// Headers returns the headers of every request, in arrival order.
func (rc *Receiver) Headers() []http.Header {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]http.Header(nil), rc.headers...)
}

// First returns when the first request came (zero before it).
func (rc *Receiver) First() time.Time {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.first
}

// Spans returns every span received in arrival order, a span sent twice
// twice.
func (rc *Receiver) Spans() []ptrace.Span {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]ptrace.Span(nil), rc.spans...)
}

// SpansByTraceID returns the spans received by the row's trace_id (the
// openclaw.trace_id attribute), and how many arrived in all.
func (rc *Receiver) SpansByTraceID() (map[string]ptrace.Span, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return maps.Clone(rc.spanByID), len(rc.spans)
}

// Span returns the span of the row with trace_id id.
func (rc *Receiver) Span(id string) (ptrace.Span, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	s, ok := rc.spanByID[id]
	return s, ok
}

// LogsByTraceID is SpansByTraceID for log records.
func (rc *Receiver) LogsByTraceID() (map[string]plog.LogRecord, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return maps.Clone(rc.logByID), len(rc.logs)
}

// Log returns the log record of the row with trace_id id.
func (rc *Receiver) Log(id string) (plog.LogRecord, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	lr, ok := rc.logByID[id]
	return lr, ok
}

// MetricsByName returns the metrics received by name, in arrival order.
func (rc *Receiver) MetricsByName() map[string][]pmetric.Metric {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	m := map[string][]pmetric.Metric{}
	for _, x := range rc.metrics {
		m[x.Name()] = append(m[x.Name()], x)
	}
	return m
}

// Points counts the data points received of the metric name (a
// histogram's: the values counted in it).
func (rc *Receiver) Points(name string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.points[name]
}

// Resource returns the resource attributes of the last trace request.
func (rc *Receiver) Resource() map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return maps.Clone(rc.resource)
}

// Rows counts the stored rows received once at least: distinct spans and
// log records, and samples (one memory usage point each).
func (rc *Receiver) Rows() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.spanByID) + len(rc.logByID) + rc.points["system.memory.usage"] + rc.points["container.memory.usage"]
}
