// Package otlptest is an OTLP/HTTP receiver for tests, built on pdata's
// own Export request and response types (what a collector decodes with):
// the exporter's unit tests send to it, and the daemon's end-to-end tests
// point the daemon, or a real collector, at it. Only tests import it: its
// pdata otlp packages pull in gRPC, which the binary must not carry.
package otlptest

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

// Receiver decodes every request in the encoding it says and keeps what
// it holds. Answer, when set, may answer the n-th request of a path
// (0-based) itself and return true; otherwise the request is refused with
// the code SetRefuse's function gives its body (neither kept), or decoded,
// kept and answered 200 (with SetPartial rejected items, if set), or 503
// after keeping it when SetLose says so (an answer lost on the way).
type Receiver struct {
	*httptest.Server
	tb     testing.TB
	answer func(path string, n int, w http.ResponseWriter) bool

	mu       sync.Mutex
	lose     func(path string, n int) bool
	refuse   func(path string, body []byte) int
	partial  int64
	requests map[string]int
	headers  []http.Header
	first    time.Time // when the first request came
	spans    []ptrace.Span
	logs     []plog.LogRecord
	metrics  []pmetric.Metric
	resource map[string]any            // of the last trace request
	spanByID map[string]ptrace.Span    // by openclaw.trace_id
	logByID  map[string]plog.LogRecord // by openclaw.trace_id
	points   map[string]int            // data points by metric name (a histogram's: its count)
}

// NewReceiver starts a Receiver, closed when the test ends; answer may be
// nil.
func NewReceiver(tb testing.TB, answer func(path string, n int, w http.ResponseWriter) bool) *Receiver {
	rc := &Receiver{tb: tb, answer: answer, requests: map[string]int{}, spanByID: map[string]ptrace.Span{},
		logByID: map[string]plog.LogRecord{}, points: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	tb.Cleanup(rc.Close)
	return rc
}

// SetLose makes the requests lose says answered 503 after they are kept.
func (rc *Receiver) SetLose(lose func(path string, n int) bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.lose = lose
}

// SetRefuse makes the requests whose uncompressed body refuse gives a
// code answered with it, unkept; 0 lets a request through.
func (rc *Receiver) SetRefuse(refuse func(path string, body []byte) int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.refuse = refuse
}

// SetPartial makes every 2xx answer report n rejected items.
func (rc *Receiver) SetPartial(n int64) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.partial = n
}

type message interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}

type answer interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	n := rc.requests[r.URL.Path]
	rc.requests[r.URL.Path]++
	rc.headers = append(rc.headers, r.Header.Clone())
	if rc.first.IsZero() {
		rc.first = time.Now()
	}
	partial, lose, refuse := rc.partial, rc.lose, rc.refuse
	rc.mu.Unlock()
	if rc.answer != nil && rc.answer(r.URL.Path, n, w) {
		return
	}
	raw, isJSON, ok := readBody(w, r)
	if !ok {
		return
	}
	if refuse != nil {
		if code := refuse(r.URL.Path, raw); code != 0 {
			http.Error(w, `{"error":"refused"}`, code)
			return
		}
	}
	var req message
	var resp answer
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
	var err error
	if isJSON {
		err = req.UnmarshalJSON(raw)
	} else {
		err = req.UnmarshalProto(raw)
	}
	if err != nil {
		rc.tb.Errorf("%s: undecodable request: %v", r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if lose != nil && lose(r.URL.Path, n) {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	rc.writeAnswer(w, r, resp, isJSON)
}

// readBody reads the request body, gunzipped, and tells its encoding; it
// answers the request itself when it cannot.
func readBody(w http.ResponseWriter, r *http.Request) (raw []byte, isJSON, ok bool) {
	var in io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "bad gzip", http.StatusBadRequest)
			return nil, false, false
		}
		in = zr
	}
	raw, err := io.ReadAll(in)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false, false
	}
	isJSON = r.Header.Get("Content-Type") == "application/json"
	if !isJSON && r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "content type", http.StatusUnsupportedMediaType)
		return nil, false, false
	}
	return raw, isJSON, true
}

func (rc *Receiver) writeAnswer(w http.ResponseWriter, r *http.Request, resp answer, isJSON bool) {
	var body []byte
	var err error
	if isJSON {
		body, err = resp.MarshalJSON()
	} else {
		body, err = resp.MarshalProto()
	}
	if err != nil {
		rc.tb.Error(err)
	}
	w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	w.Write(body)
}
