package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// otlpSink is an OTLP/HTTP receiver on pdata's Export request types: what
// the collector under test forwards to, or the daemon sends to directly.
type otlpSink struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	spans    map[string]ptrace.Span    // by openclaw.trace_id
	logs     map[string]plog.LogRecord // by openclaw.trace_id
	metrics  map[string]pmetric.Metric // last by name
	points   map[string]int            // data points by metric name
	resource map[string]any            // of the last request
	requests int
	first    time.Time // when the first request came
}

func newOTLPSink(t testing.TB) *otlpSink {
	s := &otlpSink{t: t, spans: map[string]ptrace.Span{}, logs: map[string]plog.LogRecord{},
		metrics: map[string]pmetric.Metric{}, points: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *otlpSink) serve(w http.ResponseWriter, r *http.Request) {
	var in io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in = zr
	}
	raw, err := io.ReadAll(in)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	isJSON := r.Header.Get("Content-Type") == "application/json"
	unmarshal := func(m interface {
		UnmarshalProto([]byte) error
		UnmarshalJSON([]byte) error
	}) error {
		if isJSON {
			return m.UnmarshalJSON(raw)
		}
		return m.UnmarshalProto(raw)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if s.first.IsZero() {
		s.first = time.Now()
	}
	switch r.URL.Path {
	case "/v1/traces":
		req := ptraceotlp.NewExportRequest()
		if err = unmarshal(&req); err == nil {
			s.keepTraces(req.Traces())
		}
	case "/v1/logs":
		req := plogotlp.NewExportRequest()
		if err = unmarshal(&req); err == nil {
			s.keepLogs(req.Logs())
		}
	case "/v1/metrics":
		req := pmetricotlp.NewExportRequest()
		if err = unmarshal(&req); err == nil {
			s.keepMetrics(req.Metrics())
		}
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.t.Errorf("%s: undecodable: %v", r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	w.WriteHeader(http.StatusOK) // an empty answer: full success
}

func (s *otlpSink) keepTraces(td ptrace.Traces) {
	for _, rs := range td.ResourceSpans().All() {
		s.resource = rs.Resource().Attributes().AsRaw()
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				id, _ := sp.Attributes().Get("openclaw.trace_id")
				s.spans[id.Str()] = sp
			}
		}
	}
}

func (s *otlpSink) keepLogs(ld plog.Logs) {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				id, _ := lr.Attributes().Get("openclaw.trace_id")
				s.logs[id.Str()] = lr
			}
		}
	}
}

func (s *otlpSink) keepMetrics(md pmetric.Metrics) {
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				s.metrics[m.Name()] = m
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					s.points[m.Name()] += m.Gauge().DataPoints().Len()
				case pmetric.MetricTypeHistogram:
					for _, dp := range m.Histogram().DataPoints().All() {
						s.points[m.Name()] += int(dp.Count())
					}
				}
			}
		}
	}
}

func (s *otlpSink) span(id string) (ptrace.Span, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.spans[id]
	return sp, ok
}

func (s *otlpSink) log(id string) (plog.LogRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lr, ok := s.logs[id]
	return lr, ok
}

func (s *otlpSink) pointCount(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.points[name]
}

// rows counts the rows received: spans, log records and samples (one
// system.memory.usage point each).
func (s *otlpSink) rows() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.spans) + len(s.logs) + s.points["system.memory.usage"] + s.points["container.memory.usage"]
}

func (s *otlpSink) firstRequest() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first
}
