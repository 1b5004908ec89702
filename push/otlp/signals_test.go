package otlp

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/push"
	"github.com/openclaw/openclaw-trace/push/otlp/otlptest"
)

// A Retry-After longer than the retries may wait holds that signal back
// for as long (the next cycles do not ask again every Interval); the
// other signals go on.
func TestOTLPLongRetryAfterHoldsSignal(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, fixture()...)
	var limited atomic.Bool
	limited.Store(true)
	rc := otlptest.NewReceiver(t, func(path string, _ int, w http.ResponseWriter) bool {
		if path != "/v1/traces" || !limited.Load() {
			return false
		}
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	e := newTestExporter(t, db, rc)
	clk := &clock{now: time.Unix(1700000000, 0)}
	e.Now = clk.Now
	e.Retry.MaxElapsed = time.Second
	ctx := context.Background()

	for _, tc := range []struct {
		name     string
		advance  time.Duration
		requests int  // trace requests so far
		fails    bool // ExportOnce returns an error
		status   string
	}{
		{"429 asks for 120s", 0, 1, true, "error: http 429"},
		{"within the 120s", 119 * time.Second, 1, true, "error: http 429"},
		{"after the 120s", 2 * time.Second, 2, false, push.StatusOK},
	} {
		clk.Add(tc.advance)
		if tc.name == "after the 120s" {
			limited.Store(false)
		}
		_, err := e.ExportOnce(ctx)
		if got := rc.Requests("/v1/traces"); got != tc.requests {
			t.Errorf("%s: %d trace requests, want %d", tc.name, got, tc.requests)
		}
		if (err != nil) != tc.fails || e.LastExportStatus() != tc.status {
			t.Errorf("%s: err %v, status %q; want failure %v, status %q", tc.name, err, e.LastExportStatus(), tc.fails, tc.status)
		}
	}
	if _, n := rc.LogsByTraceID(); n != 2 {
		t.Errorf("%d log records, want 2: logs must not wait for the traces' Retry-After", n)
	}
	if _, n := rc.SpansByTraceID(); n != 2 {
		t.Errorf("%d spans after the Retry-After, want 2", n)
	}
}

// One signal's receiver down does not hold back the others.
func TestOTLPSignalDownOthersGo(t *testing.T) {
	db := mustOpenDB(t)
	evs := fixture()
	writeEvents(t, db, evs...)
	rc := otlptest.NewReceiver(t, answerStatus("/v1/traces", http.StatusServiceUnavailable))
	e := newTestExporter(t, db, rc)
	e.Retry.MaxRetries = 0
	if _, err := e.ExportOnce(context.Background()); err == nil {
		t.Fatal("a cycle with traces down succeeded")
	}
	if e.LastExportStatus() != "error: http 503" {
		t.Errorf("status %q after a cycle with traces down", e.LastExportStatus())
	}
	if _, n := rc.LogsByTraceID(); n != 2 {
		t.Errorf("%d log records, want 2: logs must not wait for traces", n)
	}
	if position(t, db, SinkName, codec.LLMTraces.Name) != 0 {
		t.Error("trace position moved past undelivered spans")
	}
}
