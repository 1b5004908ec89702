package otlp

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/push"
	"github.com/openclaw/openclaw-trace/push/otlp/otlptest"
	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// A row sent again (its first answer lost) is the same span, so a backend
// keeps one.
func TestOTLPResentRowIsTheSameSpan(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(3, "x")...)
	rc := otlptest.NewReceiver(t, nil)
	// The first trace request is decoded and kept, then answered 503, as
	// if the answer were lost: the exporter sends it again.
	rc.SetLose(func(path string, n int) bool { return path == "/v1/traces" && n == 0 })
	e := newTestExporter(t, db, rc)
	if _, err := e.ExportOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	byID, total := rc.SpansByTraceID()
	if total != 6 || len(byID) != 3 || e.Retries.Load() != 1 {
		t.Fatalf("spans %d (distinct %d), retries %d; want 6, 3, 1", total, len(byID), e.Retries.Load())
	}
	spans := rc.Spans()
	for i := 0; i < 3; i++ {
		a, b := spans[i], spans[i+3]
		if a.TraceID() != b.TraceID() || a.SpanID() != b.SpanID() {
			t.Errorf("re-sent span %d has new ids: %s/%s vs %s/%s", i, a.TraceID(), a.SpanID(), b.TraceID(), b.SpanID())
		}
	}
}

// The receiver is down for many export intervals while rows keep coming;
// once it is up, every row arrives, none twice.
func TestOTLPOutageThenRecoveryLosesNothing(t *testing.T) {
	db := mustOpenDB(t)
	var down atomic.Bool
	down.Store(true)
	rc := otlptest.NewReceiver(t, func(_ string, _ int, w http.ResponseWriter) bool {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	e := newTestExporter(t, db, rc)
	e.Interval = 5 * time.Millisecond
	e.Retry.MaxRetries = 1
	e.PageSize = 7
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var want []codec.Event
	for i := 0; i < 10; i++ {
		evs := fixture()
		writeEvents(t, db, evs...)
		want = append(want, evs...)
		before := e.CyclesFailed.Load()
		poll.Until(t, "a failed cycle", 10*time.Second, func() bool { return e.CyclesFailed.Load() > before })
	}
	// Outage: at least ten failed cycles, many times the interval.
	if _, n := rc.SpansByTraceID(); n != 0 {
		t.Fatalf("%d spans accepted while down", n)
	}
	down.Store(false)
	poll.Until(t, "every row", 10*time.Second, func() bool {
		b, err := e.Backlog(context.Background())
		return err == nil && b == 0
	})
	spans, nSpans := rc.SpansByTraceID()
	logs, nLogs := rc.LogsByTraceID()
	for _, ev := range want {
		switch {
		case ev.Trace != nil:
			if _, ok := spans[ev.TraceID]; !ok {
				t.Errorf("trace %s lost", ev.TraceID)
			}
		case ev.Error != nil, ev.Log != nil:
			if _, ok := logs[ev.TraceID]; !ok {
				t.Errorf("%s %s lost", ev.Table(), ev.TraceID)
			}
		}
	}
	if nSpans != 20 || nLogs != 20 {
		t.Errorf("%d spans and %d log records, want 20 and 20 (none twice)", nSpans, nLogs)
	}
	var samples int
	for _, m := range rc.MetricsByName()["system.cpu.utilization"] {
		samples += m.Gauge().DataPoints().Len()
	}
	if samples != 10 {
		t.Errorf("%d cpu samples, want 10", samples)
	}
	if e.Rejected.Total() != 0 {
		t.Errorf("rejected %v", e.Rejected.Snapshot())
	}
}

// The push and the exporter each get every row once it is acknowledged,
// whichever is down; retention deletes a row only when both have it.
func TestPushAndOTLPEachGetEveryRow(t *testing.T) {
	db := mustOpenDB(t)
	ctx := context.Background()
	evs := fixture()
	writeEvents(t, db, evs...)
	// The push remote is up; the OTLP receiver refuses traces for now.
	var down atomic.Bool
	down.Store(true)
	remote, pushed := pushReceiver(t)
	rc := otlptest.NewReceiver(t, func(path string, _ int, w http.ResponseWriter) bool {
		if down.Load() && path == "/v1/traces" {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	})
	c := push.NewClient(remote.URL, db)
	e := newTestExporter(t, db, rc)
	e.Retry.MaxRetries = 0

	if _, err := c.PushOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := db.UnsyncedCount(ctx); n != 0 || err != nil {
		t.Fatalf("push left %d rows unsynced (%v)", n, err)
	}
	if _, err := e.ExportOnce(ctx); err == nil {
		t.Fatal("export with traces down succeeded")
	}

	// Everything is older than retention now: only rows both sinks have may go.
	cl := store.NewCleaner(db)
	cl.Retention = time.Hour
	cl.Now = func() time.Time { return time.UnixMilli(1700000000000).Add(48 * time.Hour) }
	cl.HighWatermark = 0
	cl.Streams = e.StreamsByTable()
	if _, err := cl.CleanOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := countRows(t, db, codec.LLMTraces.Name); got != 2 {
		t.Errorf("retention deleted traces the exporter has not sent: %d left, want 2", got)
	}

	down.Store(false)
	if _, err := e.ExportOnce(ctx); err != nil {
		t.Fatal(err)
	}
	spans, nSpans := rc.SpansByTraceID()
	logs, _ := rc.LogsByTraceID()
	got := pushed()
	for _, ev := range evs {
		if got[ev.TraceID] != 1 {
			t.Errorf("push got %s %d times, want 1", ev.TraceID, got[ev.TraceID])
		}
		_, inSpans := spans[ev.TraceID]
		_, inLogs := logs[ev.TraceID]
		if (ev.Trace != nil && !inSpans) || ((ev.Error != nil || ev.Log != nil) && !inLogs) {
			t.Errorf("otlp missed %s %s", ev.Table(), ev.TraceID)
		}
	}
	if nSpans != 2 {
		t.Errorf("%d spans, want 2", nSpans)
	}
	if _, err := cl.CleanOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range codec.DataTables {
		if n := countRows(t, db, table.Name); n != 0 {
			t.Errorf("%s: %d rows left after both sinks have them", table.Name, n)
		}
	}
}

// pushReceiver is a remote API for the push: it answers 200 and counts
// the trace_ids of every row of every body.
func pushReceiver(t *testing.T) (*httptest.Server, func() map[string]int) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Errorf("push body: %v", err)
			return
		}
		var body map[string]json.RawMessage
		if err := json.NewDecoder(zr).Decode(&body); err != nil {
			t.Errorf("push body: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, table := range codec.DataTables {
			var rows []struct {
				TraceID string `json:"trace_id"`
			}
			if err := json.Unmarshal(body[table.Name], &rows); err != nil {
				t.Errorf("push body %s: %v", table.Name, err)
			}
			for _, row := range rows {
				seen[row.TraceID]++
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(seen)
	}
}
