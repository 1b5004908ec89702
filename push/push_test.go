package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// allKinds is one event of each data table, in body order.
func allKinds() []codec.Event {
	return []codec.Event{
		traceEvent("hello"),
		{TraceID: codec.NewTraceID(), Transport: codec.UDP, Error: &codec.Error{
			CreatedAt: 1700000000001, ErrorType: "crash", Message: "boom", Code: ptr("oom"), Severity: "critical"}},
		{TraceID: codec.NewTraceID(), Transport: codec.Sampler, Metric: &codec.Metric{
			CreatedAt: 1700000000002, CPUPercent: ptr(12.5), Metadata: map[string]any{"source": "cgroup2"}}},
		{TraceID: codec.NewTraceID(), Transport: codec.Logtail, Log: &codec.Log{
			CreatedAt: 1700000000003, Kind: codec.KindChannelOut, Subsystem: "gateway/channels/telegram",
			Channel: "telegram", Level: "INFO", Message: "telegram sendMessage ok"}},
	}
}

func TestPushAllTables(t *testing.T) {
	db := mustOpenDB(t)
	evs := allKinds()
	tr, er, me, le := evs[0], evs[1], evs[2], evs[3]
	writeEvents(t, db, evs...)

	rc := newReceiver(t, nil)
	var logs bytes.Buffer
	c := newTestClient(t, db, rc.srv.URL, &logs)
	c.HTTPClient = rc.srv.Client()
	if got := c.LastPushStatus(); got != StatusPending {
		t.Errorf("status before the first push = %q", got)
	}
	res, err := c.PushOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Bodies != 1 || res.Rows != 4 {
		t.Errorf("result = %+v", res)
	}
	bodies := rc.received()
	if len(bodies) != 1 {
		t.Fatalf("%d bodies, want 1", len(bodies))
	}
	b := bodies[0]
	for h, want := range map[string]string{
		"Content-Type": "application/json", "Content-Encoding": "gzip",
		"Authorization": "Bearer " + testToken, "User-Agent": "openclaw-trace",
	} {
		if got := b.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	var head struct {
		AgentID string `json:"agent_id"`
		BatchID string `json:"batch_id"`
		SentAt  int64  `json:"sent_at"`
	}
	json.Unmarshal(b.raw, &head)
	if head.AgentID != "agent-1" || len(head.BatchID) != 36 || head.SentAt == 0 {
		t.Errorf("head = %+v", head)
	}
	want := map[string]map[string]any{
		"llm_traces": {"trace_id": tr.TraceID, "model": "gpt-4o", "input_text": "hello",
			"total_tokens": 15.0, "cost_usd": 0.25, "metadata": map[string]any{"k": "v"}},
		"error_events":   {"trace_id": er.TraceID, "message": "boom", "code": "oom", "severity": "critical"},
		"system_metrics": {"trace_id": me.TraceID, "cpu_pct": 12.5, "metadata": map[string]any{"source": "cgroup2"}},
		"log_events":     {"trace_id": le.TraceID, "kind": "channel_out", "channel": "telegram", "message": "telegram sendMessage ok"},
	}
	for table, fields := range want {
		var rows []map[string]any
		if err := json.Unmarshal(b.body[table], &rows); err != nil || len(rows) != 1 {
			t.Fatalf("%s: %v %s", table, err, b.body[table])
		}
		for k, v := range fields {
			if !reflect.DeepEqual(rows[0][k], v) {
				t.Errorf("%s.%s = %v, want %v", table, k, rows[0][k], v)
			}
		}
	}

	for _, table := range tables {
		var n int
		db.Reader().QueryRow("SELECT count(*) FROM " + table + " WHERE synced = 1 AND pushed_at > 0").Scan(&n)
		if n != 1 {
			t.Errorf("%s: %d rows synced with pushed_at, want 1", table, n)
		}
	}
	if got := pushLog(t, db); !reflect.DeepEqual(got, []pushLogRow{{Status: "ok", HTTP: 200, Rows: 4}}) {
		t.Errorf("push_log = %+v", got)
	}
	if c.LastPushStatus() != StatusOK || c.LastPushTime() == 0 {
		t.Errorf("status %q time %d", c.LastPushStatus(), c.LastPushTime())
	}
	if c.BodiesOK.Load() != 1 || c.RowsPushed.Load() != 4 || c.BytesSent.Load() != int64(len(b.raw)) ||
		c.WireBytesSent.Load() >= c.BytesSent.Load() {
		t.Errorf("counters: bodies %d rows %d bytes %d wire %d", c.BodiesOK.Load(), c.RowsPushed.Load(),
			c.BytesSent.Load(), c.WireBytesSent.Load())
	}
	// Nothing left: the next cycle sends nothing.
	if res, err := c.PushOnce(context.Background()); err != nil || res.Bodies != 0 || len(rc.received()) != 1 {
		t.Errorf("second cycle: %+v %v, %d bodies", res, err, len(rc.received()))
	}
	noToken(t, db, &logs)
}

func TestPushPlainJSONNoToken(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(3, "x")...)
	rc := newReceiver(t, nil)
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.HTTPClient = rc.srv.Client()
	c.Gzip, c.Token = false, ""
	if _, err := c.PushOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := rc.received()[0].header
	if h.Get("Content-Encoding") != "" || h.Get("Authorization") != "" {
		t.Errorf("headers: %v", h)
	}
	if c.WireBytesSent.Load() != c.BytesSent.Load() {
		t.Error("wire bytes differ without gzip")
	}
}

func TestRetry500Then200(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(5, "x")...)
	var unsyncedAtRetry atomic.Int64
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if n == 0 {
			http.Error(w, "try later", http.StatusInternalServerError)
			return true
		}
		unsyncedAtRetry.Store(unsynced(t, db))
		return false
	})
	var logs bytes.Buffer
	c := newTestClient(t, db, rc.srv.URL, &logs)
	c.HTTPClient = rc.srv.Client()
	res, err := c.PushOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := unsyncedAtRetry.Load(); got != 5 {
		t.Errorf("unsynced after the 500: %d, want 5", got)
	}
	if res.Rows != 5 || unsynced(t, db) != 0 {
		t.Errorf("result %+v, unsynced %d", res, unsynced(t, db))
	}
	if c.Retries.Load() != 1 || c.Attempts.Load() != 2 || c.Failures[FailHTTP5xx].Load() != 1 {
		t.Errorf("retries %d attempts %d 5xx %d", c.Retries.Load(), c.Attempts.Load(), c.Failures[FailHTTP5xx].Load())
	}
	want := []pushLogRow{{Status: "error", HTTP: 500, Error: "http 500: try later"}, {Status: "ok", HTTP: 200, Rows: 5}}
	if got := pushLog(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("push_log = %+v", got)
	}
	// Both attempts carried the same body.
	b := rc.received()
	if len(b) != 2 || !bytes.Equal(b[0].raw, b[1].raw) {
		t.Error("the retry sent a different body")
	}
	noToken(t, db, &logs)
}

func TestRetryAfter429(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(2, "x")...)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.HTTPClient = rc.srv.Client()
	if _, err := c.PushOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := rc.received()
	if len(b) != 2 {
		t.Fatalf("%d requests, want 2", len(b))
	}
	if wait := b[1].at.Sub(b[0].at); wait < time.Second {
		t.Errorf("retried after %v, Retry-After said 1s", wait)
	}
	if c.Failures[FailHTTP429].Load() != 1 || unsynced(t, db) != 0 {
		t.Errorf("429 failures %d, unsynced %d", c.Failures[FailHTTP429].Load(), unsynced(t, db))
	}
}

// A receiver that answers 400 to every body, one without rows too, does
// not refuse the rows but the push: nothing is retried or set aside, the
// rows wait, and the cycle fails.
func TestNoRetryOn400(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(3, "x")...)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		http.Error(w, `{"error":"bad agent_id"}`, http.StatusBadRequest)
		return true
	})
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.HTTPClient = rc.srv.Client()
	_, err := c.PushOnce(context.Background())
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 400 || se.Retryable() || !errors.Is(err, ErrRefusedAll) {
		t.Fatalf("err = %v, want a non-retryable StatusError 400 refusing everything", err)
	}
	got := rc.received()
	if len(got) != 2 || len(got[1].traceIDs(t)) != 0 || c.Retries.Load() != 0 {
		t.Errorf("%d requests, %d retries; want 2 (the body, then one without rows), 0", len(got), c.Retries.Load())
	}
	if unsynced(t, db) != 3 || c.Rejected.Total() != 0 {
		t.Errorf("unsynced = %d, set aside %v; want 3, none", unsynced(t, db), c.Rejected.Snapshot())
	}
	if got := pushLog(t, db); len(got) != 2 || got[0].HTTP != 400 || got[0].Status != "error" {
		t.Errorf("push_log = %+v", got)
	}
	if got := c.LastPushStatus(); got != "error: http 400" {
		t.Errorf("status = %q", got)
	}
}

// The remote reads the body and drops the connection without answering:
// it may have stored the rows, but without a 2xx they stay unsynced and
// the next cycle sends the same trace_ids (the receiver de-duplicates).
func TestHangupResendsSameRows(t *testing.T) {
	db := mustOpenDB(t)
	evs := traces(4, "x")
	writeEvents(t, db, evs...)
	var hangup atomic.Bool
	hangup.Store(true)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if !hangup.Load() {
			return false
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return true
		}
		conn.Close()
		return true
	})
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.HTTPClient = rc.srv.Client()
	c.Retry.MaxRetries = 0
	if _, err := c.PushOnce(context.Background()); err == nil {
		t.Fatal("push succeeded without an answer")
	}
	if unsynced(t, db) != 4 || c.Failures[FailNetwork].Load() != 1 {
		t.Fatalf("unsynced %d, network failures %d", unsynced(t, db), c.Failures[FailNetwork].Load())
	}
	if got := c.LastPushStatus(); got != "error: network" {
		t.Errorf("status = %q", got)
	}
	hangup.Store(false)
	if _, err := c.PushOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := rc.received()
	first, second := b[0].traceIDs(t), b[1].traceIDs(t)
	if !reflect.DeepEqual(first, second) || len(first) != 4 {
		t.Errorf("re-sent %v, first sent %v", second, first)
	}
	if unsynced(t, db) != 0 {
		t.Error("rows left unsynced")
	}
}

// A backlog over the cap goes out in several bodies, each within the cap,
// and every row is acknowledged exactly once.
func TestSplitAtCap(t *testing.T) {
	db := mustOpenDB(t)
	evs := traces(300, "some prompt text")
	writeEvents(t, db, evs...)
	rc := newReceiver(t, nil)
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.HTTPClient = rc.srv.Client()
	c.MaxBytes = 8 << 10
	c.PageSize = 7 // pages and bodies do not line up
	res, err := c.PushOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bodies := rc.received()
	if len(bodies) < 5 || res.Bodies != len(bodies) {
		t.Fatalf("%d bodies (result %d), want several", len(bodies), res.Bodies)
	}
	seen := map[string]int{}
	for i, b := range bodies {
		if len(b.raw) > c.MaxBytes {
			t.Errorf("body %d: %d bytes over the cap %d", i, len(b.raw), c.MaxBytes)
		}
		for _, id := range b.traceIDs(t) {
			seen[id]++
		}
	}
	for _, ev := range evs {
		if seen[ev.TraceID] != 1 {
			t.Errorf("%s sent %d times", ev.TraceID, seen[ev.TraceID])
		}
	}
	if len(seen) != len(evs) || unsynced(t, db) != 0 || res.Rows != int64(len(evs)) {
		t.Errorf("seen %d, unsynced %d, result %+v", len(seen), unsynced(t, db), res)
	}
	// Oldest first: trace_ids (UUIDv7) arrive in insertion order.
	var order []string
	for _, b := range bodies {
		order = append(order, b.traceIDs(t)...)
	}
	if !sort.StringsAreSorted(order) {
		t.Error("rows not sent oldest first")
	}
}

func TestOversizeRowAlone(t *testing.T) {
	db := mustOpenDB(t)
	big := traceEvent(string(bytes.Repeat([]byte("y"), 10<<10)))
	evs := append(traces(3, "a"), big)
	evs = append(evs, traces(3, "b")...)
	writeEvents(t, db, evs...)
	rc := newReceiver(t, nil)
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.HTTPClient = rc.srv.Client()
	c.MaxBytes = 4 << 10
	if _, err := c.PushOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	bodies := rc.received()
	if len(bodies) != 3 {
		t.Fatalf("%d bodies, want 3 (small rows, the big one, small rows)", len(bodies))
	}
	if ids := bodies[1].traceIDs(t); len(ids) != 1 || ids[0] != big.TraceID || len(bodies[1].raw) <= c.MaxBytes {
		t.Errorf("middle body: %v, %d bytes", ids, len(bodies[1].raw))
	}
	if unsynced(t, db) != 0 {
		t.Error("rows left unsynced")
	}
}
