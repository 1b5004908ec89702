package push

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// otlpReceiver is an OTLP/HTTP receiver built on pdata's own Export
// request and response types (what a collector decodes with), in the
// encoding each request says. answer, when set, may answer the n-th
// request of a path (0-based) itself; it returns false to let the request
// be decoded, kept and answered 200 (with partial, if set).
type otlpReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(path string, n int, w http.ResponseWriter) bool
	lose   func(path string, n int) bool // true: keep the request, answer 503

	mu       sync.Mutex
	requests map[string]int
	headers  []http.Header
	spans    []ptrace.Span
	resource []map[string]any
	logs     []plog.LogRecord
	metrics  []pmetric.Metric
	partial  int64 // rejected items to report in every 2xx answer
}

func newOTLPReceiver(t *testing.T, answer func(path string, n int, w http.ResponseWriter) bool) *otlpReceiver {
	rc := &otlpReceiver{t: t, answer: answer, requests: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

// urls points e at the receiver.
func (rc *otlpReceiver) urls(e *Exporter) {
	e.TracesURL = rc.srv.URL + "/v1/traces"
	e.LogsURL = rc.srv.URL + "/v1/logs"
	e.MetricsURL = rc.srv.URL + "/v1/metrics"
}

type otlpMessage interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}

type otlpAnswer interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

func (rc *otlpReceiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	n := rc.requests[r.URL.Path]
	rc.requests[r.URL.Path]++
	rc.headers = append(rc.headers, r.Header.Clone())
	partial := rc.partial
	rc.mu.Unlock()
	if rc.answer != nil && rc.answer(r.URL.Path, n, w) {
		return
	}
	var in io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "bad gzip", http.StatusBadRequest)
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
	if !isJSON && r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "content type", http.StatusUnsupportedMediaType)
		return
	}
	var req otlpMessage
	var resp otlpAnswer
	switch r.URL.Path {
	case "/v1/traces":
		q, a := ptraceotlp.NewExportRequest(), ptraceotlp.NewExportResponse()
		a.PartialSuccess().SetRejectedSpans(partial)
		defer func() { rc.keepTraces(q.Traces()) }()
		req, resp = &q, a
	case "/v1/logs":
		q, a := plogotlp.NewExportRequest(), plogotlp.NewExportResponse()
		a.PartialSuccess().SetRejectedLogRecords(partial)
		defer func() { rc.keepLogs(q.Logs()) }()
		req, resp = &q, a
	case "/v1/metrics":
		q, a := pmetricotlp.NewExportRequest(), pmetricotlp.NewExportResponse()
		a.PartialSuccess().SetRejectedDataPoints(partial)
		defer func() { rc.keepMetrics(q.Metrics()) }()
		req, resp = &q, a
	default:
		http.NotFound(w, r)
		return
	}
	if isJSON {
		err = req.UnmarshalJSON(raw)
	} else {
		err = req.UnmarshalProto(raw)
	}
	if err != nil {
		rc.t.Errorf("%s: undecodable request: %v", r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if rc.lose != nil && rc.lose(r.URL.Path, n) {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var body []byte
	if isJSON {
		body, err = resp.MarshalJSON()
	} else {
		body, err = resp.MarshalProto()
	}
	if err != nil {
		rc.t.Error(err)
	}
	w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	w.Write(body)
}

func (rc *otlpReceiver) keepTraces(td ptrace.Traces) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, rs := range td.ResourceSpans().All() {
		rc.resource = append(rc.resource, rs.Resource().Attributes().AsRaw())
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				rc.spans = append(rc.spans, s)
			}
		}
	}
}

func (rc *otlpReceiver) keepLogs(ld plog.Logs) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				rc.logs = append(rc.logs, lr)
			}
		}
	}
}

func (rc *otlpReceiver) keepMetrics(md pmetric.Metrics) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				rc.metrics = append(rc.metrics, m)
			}
		}
	}
}

func (rc *otlpReceiver) count(path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests[path]
}

// spansByTraceID returns the spans received, by the row's trace_id (the
// openclaw.trace_id attribute), and how many arrived in all.
func (rc *otlpReceiver) spansByTraceID() (map[string]ptrace.Span, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	m := map[string]ptrace.Span{}
	for _, s := range rc.spans {
		id, _ := s.Attributes().Get("openclaw.trace_id")
		m[id.Str()] = s
	}
	return m, len(rc.spans)
}

// logsByTraceID is spansByTraceID for log records.
func (rc *otlpReceiver) logsByTraceID() (map[string]plog.LogRecord, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	m := map[string]plog.LogRecord{}
	for _, lr := range rc.logs {
		id, _ := lr.Attributes().Get("openclaw.trace_id")
		m[id.Str()] = lr
	}
	return m, len(rc.logs)
}

// metricsByName returns the metrics received by name, in arrival order.
func (rc *otlpReceiver) metricsByName() map[string][]pmetric.Metric {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	m := map[string][]pmetric.Metric{}
	for _, x := range rc.metrics {
		m[x.Name()] = append(m[x.Name()], x)
	}
	return m
}
