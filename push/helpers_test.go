package push

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/testkit/reap"
	"github.com/openclaw/openclaw-trace/testkit/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(reap.Watch(m)) }

// *store.DB is the Source cmd wires in.
var _ Source = (*store.DB)(nil)

const testToken = "s3cret-token-never-logged"

func mustOpenDB(tb testing.TB) *store.DB { return storetest.OpenDB(tb) }

func writeEvents(tb testing.TB, db *store.DB, evs ...codec.Event) {
	tb.Helper()
	storetest.WriteEvents(tb, db, evs...)
}

func ptr[T any](v T) *T { return &v }

func traceEvent(text string) codec.Event {
	return codec.Event{TraceID: codec.NewTraceID(), Transport: codec.HTTP, Trace: &codec.Trace{
		CreatedAt: 1700000000000, Provider: "openai", Model: "gpt-4o", InputText: ptr(text),
		PromptTokens: ptr[int64](10), CompletionTokens: ptr[int64](5), TotalTokens: ptr[int64](15),
		CostUSD: ptr(0.25), Status: "ok", Metadata: map[string]any{"k": "v"},
	}}
}

func traces(n int, text string) []codec.Event {
	evs := make([]codec.Event, n)
	for i := range evs {
		evs[i] = traceEvent(text)
	}
	return evs
}

// received is one body as the remote saw it.
type received struct {
	header http.Header
	raw    []byte // uncompressed
	body   map[string]json.RawMessage
	at     time.Time
}

// traceIDs lists the trace_ids of every row of the body, all tables.
func (r received) traceIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, table := range tables {
		var rows []struct {
			TraceID string `json:"trace_id"`
		}
		if err := json.Unmarshal(r.body[table], &rows); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		for _, row := range rows {
			ids = append(ids, row.TraceID)
		}
	}
	return ids
}

// receiver is a remote API: it decodes and keeps every body, then answers
// what answer says for the n-th request (0-based); nil answers 200.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(n int, w http.ResponseWriter) bool // false: answer 200

	mu     sync.Mutex
	bodies []received
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter) bool) *receiver {
	rc := &receiver{t: t, answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	got := received{header: r.Header.Clone(), at: time.Now()}
	var in io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			rc.t.Errorf("gzip: %v", err)
			http.Error(w, "bad gzip", 400)
			return
		}
		in = zr
	}
	raw, err := io.ReadAll(in)
	if err != nil {
		rc.t.Errorf("read body: %v", err)
	}
	got.raw = raw
	if err := json.Unmarshal(raw, &got.body); err != nil {
		rc.t.Errorf("body is not JSON: %v", err)
	}
	rc.mu.Lock()
	n := len(rc.bodies)
	rc.bodies = append(rc.bodies, got)
	rc.mu.Unlock()
	if rc.answer == nil || !rc.answer(n, w) {
		w.WriteHeader(http.StatusOK)
	}
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.bodies...)
}

// newTestClient is a Client for tests: fast retries, a log kept in logs.
func newTestClient(t *testing.T, db *store.DB, endpoint string, logs *bytes.Buffer) *Client {
	c := NewClient(endpoint, db)
	c.Token = testToken
	c.AgentID = "agent-1"
	c.Retry.InitialInterval = time.Millisecond
	c.Retry.MaxInterval = 5 * time.Millisecond
	c.Retry.MaxRetries = 3
	if logs != nil {
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return c
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func unsynced(t testing.TB, db *store.DB) int64 {
	t.Helper()
	n, err := db.UnsyncedCount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type pushLogRow struct {
	Status string
	HTTP   int
	Rows   int
	Error  string
}

func pushLog(t *testing.T, db *store.DB) []pushLogRow {
	t.Helper()
	rs, err := db.Reader().Query(`SELECT status, coalesce(http_status, 0), events_pushed,
		coalesce(error_message, '') FROM push_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []pushLogRow
	for rs.Next() {
		var r pushLogRow
		if err := rs.Scan(&r.Status, &r.HTTP, &r.Rows, &r.Error); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// noToken fails if the token appears in the log or in push_log.
func noToken(t *testing.T, db *store.DB, logs *bytes.Buffer) {
	t.Helper()
	if strings.Contains(logs.String(), testToken) {
		t.Error("token in the log")
	}
	for _, r := range pushLog(t, db) {
		if strings.Contains(r.Error, testToken) {
			t.Error("token in push_log")
		}
	}
}
