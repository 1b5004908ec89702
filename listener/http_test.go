package listener

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/openclaw/openclaw-trace/codec"
	"github.com/vmihailenco/msgpack/v5"
	"go.uber.org/goleak"
)

const (
	ctJSON    = "application/json"
	ctMsgpack = "application/msgpack"
)

// intake is the real handler stack in front of a real queue.
type intake struct {
	h *HTTP
	q *codec.Queue
}

func newIntake(t testing.TB, capacity int) *intake {
	t.Helper()
	q := codec.NewQueue(capacity)
	return &intake{h: NewHTTP("127.0.0.1:0", q, codec.NewParser()), q: q}
}

func (in *intake) post(t testing.TB, path, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	in.h.Handler().ServeHTTP(w, r)
	return w
}

// drain takes what is queued without waiting.
func (in *intake) drain() []codec.Event {
	var evs []codec.Event
	for {
		select {
		case ev, ok := <-in.q.C():
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

// httpTally is what the HTTP intake counts: no writes, no client reports.
type httpTally = codec.Counts

func dropped(kv ...any) [codec.NumDropReasons]int64 {
	var d [codec.NumDropReasons]int64
	for i := 0; i < len(kv); i += 2 {
		d[kv[i].(codec.DropReason)] = int64(kv[i+1].(int))
	}
	return d
}

func encode(t testing.TB, contentType string, v any) []byte {
	t.Helper()
	var b []byte
	var err error
	if strings.Contains(contentType, "msgpack") {
		b, err = msgpack.Marshal(v)
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tr(model string) map[string]any {
	return map[string]any{"provider": "openai", "model": model, "prompt_tokens": 3, "completion_tokens": 4}
}

type reply struct {
	Accepted int      `json:"accepted"`
	TraceIDs []string `json:"trace_ids"`
	Error    string   `json:"error"`
	Index    *int     `json:"index"`
	Field    string   `json:"field"`
}

func decodeReply(t testing.TB, w *httptest.ResponseRecorder) reply {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("reply Content-Type = %q", ct)
	}
	var r reply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("reply %q: %v", w.Body.String(), err)
	}
	return r
}

func TestHTTPAccepted(t *testing.T) {
	tests := []struct {
		name        string
		path        string
		contentType string
		body        any
		want        int
	}{
		{"json object", "/v1/traces", ctJSON, tr("a"), 1},
		{"json array", "/v1/traces", ctJSON, []any{tr("a"), tr("b"), tr("c")}, 3},
		{"json with charset", "/v1/traces", "application/json; charset=utf-8", tr("a"), 1},
		{"json upper case", "/v1/traces", "Application/JSON", tr("a"), 1},
		{"msgpack object", "/v1/traces", ctMsgpack, tr("a"), 1},
		{"msgpack array", "/v1/traces", ctMsgpack, []any{tr("a"), tr("b")}, 2},
		{"x-msgpack", "/v1/traces", "application/x-msgpack", []any{tr("a"), tr("b")}, 2},
		{"matching type field", "/v1/traces", ctJSON, map[string]any{"type": "trace", "provider": "p", "model": "m"}, 1},
		{"error json", "/v1/errors", ctJSON, map[string]any{"error_type": "crash", "message": "boom"}, 1},
		{"errors msgpack array", "/v1/errors", "application/x-msgpack",
			[]any{map[string]any{"error_type": "crash", "message": "a"}, map[string]any{"type": "error", "error_type": "llm_error", "message": "b"}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, 10)
			body := encode(t, tt.contentType, tt.body)
			w := in.post(t, tt.path, tt.contentType, body)
			if w.Code != http.StatusAccepted {
				t.Fatalf("status = %d %s, want 202", w.Code, w.Body)
			}
			r := decodeReply(t, w)
			if r.Accepted != tt.want || len(r.TraceIDs) != tt.want {
				t.Errorf("reply = %+v, want %d accepted", r, tt.want)
			}
			evs := in.drain()
			if len(evs) != tt.want {
				t.Fatalf("queued %d events, want %d", len(evs), tt.want)
			}
			for i, ev := range evs {
				if ev.TraceID != r.TraceIDs[i] {
					t.Errorf("event %d id %s, reply says %s", i, ev.TraceID, r.TraceIDs[i])
				}
				if id, err := uuid.Parse(ev.TraceID); err != nil || len(ev.TraceID) != 36 || id.Version() != 7 {
					t.Errorf("event %d id %q is not a 36-character v7 UUID", i, ev.TraceID)
				}
				if ev.Transport != codec.HTTP {
					t.Errorf("event %d transport %v", i, ev.Transport)
				}
				if wantTable := map[string]string{"/v1/traces": "llm_traces", "/v1/errors": "error_events"}[tt.path]; ev.Table() != wantTable {
					t.Errorf("event %d table %q, want %q", i, ev.Table(), wantTable)
				}
			}
			if tr := evs[0].Trace; tr != nil && tr.PromptTokens != nil && *tr.TotalTokens != 7 {
				t.Errorf("total_tokens = %d, want 7", *tr.TotalTokens)
			}
			got, want := in.h.Counters.Load(), httpTally{Units: 1, Bytes: int64(len(body)), Received: int64(tt.want)}
			if got != want {
				t.Errorf("counters = %+v, want %+v", got, want)
			}
		})
	}
}

func TestHTTPRejected(t *testing.T) {
	big := tr(strings.Repeat("m", 200))
	tests := []struct {
		name        string
		path        string
		contentType string
		body        []byte
		wantStatus  int
		wantIndex   *int
		wantField   string
		wantDropped [codec.NumDropReasons]int64
	}{
		{"invalid element mid-batch", "/v1/traces", ctJSON,
			[]byte(`[{"provider":"p","model":"a"},{"provider":"p","model":"b"},{"provider":"p","model":""},{"provider":"p","model":"d"}]`),
			400, ptr(2), "model", dropped(codec.DropInvalid, 4)},
		{"invalid element mid-batch msgpack", "/v1/traces", ctMsgpack,
			encode(t, ctMsgpack, []any{tr("a"), map[string]any{"provider": "p", "model": "m", "cost_usd": -1}, tr("c")}),
			400, ptr(1), "cost_usd", dropped(codec.DropInvalid, 3)},
		{"invalid first element", "/v1/errors", ctJSON, []byte(`[{"error_type":"nope","message":"m"}]`),
			400, ptr(0), "error_type", dropped(codec.DropInvalid, 1)},
		{"non-object element", "/v1/traces", ctJSON, []byte(`[{"provider":"p","model":"a"},7]`),
			400, ptr(1), "", dropped(codec.DropInvalid, 2)},
		{"type mismatching the path", "/v1/traces", ctJSON,
			[]byte(`[{"provider":"p","model":"a"},{"type":"error","error_type":"crash","message":"m"}]`),
			400, ptr(1), "type", dropped(codec.DropInvalid, 2)},
		{"trace type on errors path", "/v1/errors", ctMsgpack,
			encode(t, ctMsgpack, map[string]any{"type": "trace", "error_type": "crash", "message": "m"}),
			400, ptr(0), "type", dropped(codec.DropInvalid, 1)},
		{"undecodable json", "/v1/traces", ctJSON, []byte(`{"provider":`), 400, nil, "", dropped(codec.DropDecodeError, 1)},
		{"json trailing data", "/v1/traces", ctJSON, []byte(`{}{}`), 400, nil, "", dropped(codec.DropDecodeError, 1)},
		{"json scalar", "/v1/traces", ctJSON, []byte(`"x"`), 400, nil, "", dropped(codec.DropDecodeError, 1)},
		{"json labelled msgpack", "/v1/traces", ctMsgpack, []byte(`{"provider":"p","model":"m"}`), 400, nil, "", dropped(codec.DropDecodeError, 1)},
		{"msgpack labelled json", "/v1/traces", ctJSON, encode(t, ctMsgpack, tr("a")), 400, nil, "", dropped(codec.DropDecodeError, 1)},
		{"truncated msgpack", "/v1/traces", ctMsgpack, encode(t, ctMsgpack, tr("a"))[:9], 400, nil, "", dropped(codec.DropDecodeError, 1)},
		{"msgpack header claiming 2^32 elements", "/v1/traces", ctMsgpack, []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, 400, nil, "", dropped(codec.DropDecodeError, 1)},
		{"empty body", "/v1/traces", ctJSON, nil, 400, nil, "", dropped(codec.DropDecodeError, 1)},
		{"empty array", "/v1/traces", ctJSON, []byte(`[]`), 400, nil, "", dropped(codec.DropInvalid, 1)},
		{"empty msgpack array", "/v1/errors", ctMsgpack, []byte{0x90}, 400, nil, "", dropped(codec.DropInvalid, 1)},
		{"text/plain", "/v1/traces", "text/plain", []byte(`{"provider":"p","model":"m"}`), 415, nil, "Content-Type", dropped(codec.DropDecodeError, 1)},
		{"no Content-Type", "/v1/traces", "", []byte(`{"provider":"p","model":"m"}`), 415, nil, "Content-Type", dropped(codec.DropDecodeError, 1)},
		{"malformed Content-Type", "/v1/errors", "application/json; charset", []byte(`{}`), 415, nil, "Content-Type", dropped(codec.DropDecodeError, 1)},
		{"above MaxBodyBytes", "/v1/traces", ctJSON, encode(t, ctJSON, big), 413, nil, "", dropped(codec.DropOversize, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, 10)
			in.h.MaxBodyBytes = 200
			w := in.post(t, tt.path, tt.contentType, tt.body)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", w.Code, w.Body, tt.wantStatus)
			}
			r := decodeReply(t, w)
			if r.Error == "" {
				t.Errorf("reply %s has no error", w.Body)
			}
			if (r.Index == nil) != (tt.wantIndex == nil) || (r.Index != nil && *r.Index != *tt.wantIndex) {
				t.Errorf("reply %s: index = %v, want %v", w.Body, deref(r.Index), deref(tt.wantIndex))
			}
			if r.Field != tt.wantField {
				t.Errorf("reply %s: field = %q, want %q", w.Body, r.Field, tt.wantField)
			}
			if evs := in.drain(); len(evs) != 0 {
				t.Errorf("queued %d events of a rejected request", len(evs))
			}
			got := in.h.Counters.Load()
			want := httpTally{Units: 1, Dropped: tt.wantDropped}
			want.Received = want.DroppedTotal()
			want.Bytes = got.Bytes // checked below
			if got != want {
				t.Errorf("counters = %+v, want %+v", got, want)
			}
			wantBytes := int64(len(tt.body))
			switch tt.wantStatus {
			case 415:
				wantBytes = 0 // not read
			case 413:
				wantBytes = in.h.MaxBodyBytes
			}
			if got.Bytes != wantBytes {
				t.Errorf("Bytes = %d, want %d", got.Bytes, wantBytes)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestHTTPBodyAtMaxBodyBytes(t *testing.T) {
	in := newIntake(t, 10)
	body := encode(t, ctJSON, tr("a"))
	in.h.MaxBodyBytes = int64(len(body))
	if w := in.post(t, "/v1/traces", ctJSON, body); w.Code != http.StatusAccepted {
		t.Errorf("body of exactly MaxBodyBytes: status %d %s, want 202", w.Code, w.Body)
	}
	in.h.MaxBodyBytes--
	if w := in.post(t, "/v1/traces", ctJSON, body); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("body one byte above MaxBodyBytes: status %d, want 413", w.Code)
	}
}

func TestHTTPQueueFull(t *testing.T) {
	in := newIntake(t, 3)
	steps := []struct {
		n          int
		wantStatus int
		wantQueued int
		want       httpTally
	}{
		{2, 202, 2, httpTally{Units: 1, Received: 2}},
		{2, 429, 2, httpTally{Units: 2, Received: 4, Dropped: dropped(codec.DropQueueFull, 2)}}, // 1 free: whole batch out
		{1, 202, 3, httpTally{Units: 3, Received: 5, Dropped: dropped(codec.DropQueueFull, 2)}},
		{1, 429, 3, httpTally{Units: 4, Received: 6, Dropped: dropped(codec.DropQueueFull, 3)}},
	}
	var bytes int64
	for i, s := range steps {
		batch := make([]any, s.n)
		for j := range batch {
			batch[j] = tr("m")
		}
		body := encode(t, ctJSON, batch)
		bytes += int64(len(body))
		w := in.post(t, "/v1/traces", ctJSON, body)
		if w.Code != s.wantStatus {
			t.Fatalf("step %d: status %d %s, want %d", i, w.Code, w.Body, s.wantStatus)
		}
		if s.wantStatus == 429 {
			if got := w.Header().Get("Retry-After"); got != "1" {
				t.Errorf("step %d: Retry-After = %q, want 1", i, got)
			}
			if r := decodeReply(t, w); r.Error == "" {
				t.Errorf("step %d: no error in %s", i, w.Body)
			}
		}
		if got := in.q.Len(); got != s.wantQueued {
			t.Errorf("step %d: queue holds %d, want %d", i, got, s.wantQueued)
		}
		s.want.Bytes = bytes
		if got := in.h.Counters.Load(); got != s.want {
			t.Errorf("step %d: counters = %+v, want %+v", i, got, s.want)
		}
	}
}

func TestHTTPShutdown(t *testing.T) {
	body := encode(t, ctJSON, []any{tr("a"), tr("b")})
	t.Run("drain", func(t *testing.T) {
		in := newIntake(t, 10)
		in.h.Drain()
		for _, path := range []string{"/v1/traces", "/v1/errors"} {
			w := in.post(t, path, ctJSON, body)
			if w.Code != http.StatusServiceUnavailable {
				t.Errorf("%s after Drain: status %d, want 503", path, w.Code)
			}
			decodeReply(t, w)
		}
		// The body is not read: the request counts as one unit.
		want := httpTally{Units: 2, Received: 2, Dropped: dropped(codec.DropShutdown, 2)}
		if got := in.h.Counters.Load(); got != want {
			t.Errorf("counters = %+v, want %+v", got, want)
		}
	})
	t.Run("queue closed", func(t *testing.T) {
		in := newIntake(t, 10)
		in.q.Close()
		w := in.post(t, "/v1/traces", ctJSON, body)
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("status %d, want 503", w.Code)
		}
		if got := w.Header().Get("Retry-After"); got != "" {
			t.Errorf("Retry-After = %q on 503", got)
		}
		want := httpTally{Units: 1, Bytes: int64(len(body)), Received: 2, Dropped: dropped(codec.DropShutdown, 2)}
		if got := in.h.Counters.Load(); got != want {
			t.Errorf("counters = %+v, want %+v", got, want)
		}
	})
}

func TestHTTPMethodsAndRoutes(t *testing.T) {
	in := newIntake(t, 10)
	in.h.Handle("GET /health", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/v1/traces", http.StatusMethodNotAllowed},
		{http.MethodPut, "/v1/errors", http.StatusMethodNotAllowed},
		{http.MethodGet, "/v1/metrics", http.StatusNotFound},
		{http.MethodGet, "/health", http.StatusOK},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		in.h.Handler().ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
		if w.Code != tt.want {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, w.Code, tt.want)
		}
	}
	if got := in.h.Counters.Load(); got != (httpTally{}) {
		t.Errorf("counters = %+v after non-ingest requests, want zero", got)
	}
}

// TestHTTPAccounting runs a mixed sequence and checks the invariant of
// The accounting: Received = queued + Σ Dropped.
func TestHTTPAccounting(t *testing.T) {
	in := newIntake(t, 6)
	in.h.MaxBodyBytes = 4096
	valid := func(n int) []byte {
		b := make([]any, n)
		for i := range b {
			b[i] = tr("m")
		}
		return encode(t, ctJSON, b)
	}
	requests := []struct {
		path, ct string
		body     []byte
	}{
		{"/v1/traces", ctJSON, valid(2)},
		{"/v1/traces", ctMsgpack, encode(t, ctMsgpack, []any{tr("a"), tr("b")})},
		{"/v1/traces", ctJSON, []byte(`[{"provider":"p","model":"a"},{"model":"b"}]`)},
		{"/v1/traces", ctJSON, []byte(`{`)},
		{"/v1/traces", "text/plain", []byte(`{}`)},
		{"/v1/traces", ctJSON, []byte(`[]`)},
		{"/v1/errors", ctJSON, []byte(`{"error_type":"crash","message":"m"}`)},
		{"/v1/traces", ctJSON, valid(3)}, // 1 free: queue_full
		{"/v1/traces", ctJSON, bytes.Repeat([]byte(" "), 5000)},
		{"/v1/traces", ctJSON, valid(1)},
		{"/v1/traces", ctJSON, valid(1)}, // full
	}
	var wantBytes int64
	for i, r := range requests {
		in.post(t, r.path, r.ct, r.body)
		if r.ct != "text/plain" {
			wantBytes += min(int64(len(r.body)), in.h.MaxBodyBytes)
		}
		c := in.h.Counters.Load()
		if queued := int64(in.q.Len()); c.Received != queued+c.DroppedTotal() {
			t.Errorf("after request %d: received %d != queued %d + dropped %d", i, c.Received, queued, c.DroppedTotal())
		}
	}
	in.h.Drain()
	in.post(t, "/v1/errors", ctJSON, []byte(`{}`))
	in.q.Close()
	queued := int64(len(in.drain()))
	got := in.h.Counters.Load()
	want := httpTally{Units: int64(len(requests)) + 1, Bytes: wantBytes, Received: 17,
		Dropped: dropped(codec.DropInvalid, 3, codec.DropDecodeError, 2, codec.DropQueueFull, 4,
			codec.DropOversize, 1, codec.DropShutdown, 1)}
	if got != want {
		t.Errorf("counters = %+v, want %+v", got, want)
	}
	if queued != 6 || got.Received != queued+got.DroppedTotal() {
		t.Errorf("received %d, queued %d, dropped %d", got.Received, queued, got.DroppedTotal())
	}
}

// TestHTTPOpenClose serves on a real loopback port and shuts down leaving
// no goroutine behind.
func TestHTTPOpenClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	q := codec.NewQueue(10)
	h := NewHTTP("127.0.0.1:0", q, codec.NewParser())
	if err := h.Open(); err != nil {
		t.Fatal(err)
	}
	addr := h.ListenAddr()
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("ListenAddr() = %q", addr)
	}
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	resp, err := client.Post("http://"+addr+"/v1/traces", ctJSON, strings.NewReader(`{"provider":"p","model":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d %s, want 202", resp.StatusCode, body)
	}
	if got := q.Len(); got != 1 {
		t.Errorf("queue holds %d, want 1", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if _, err := client.Post("http://"+addr+"/v1/traces", ctJSON, strings.NewReader(`{}`)); err == nil {
		t.Error("server still answers after Close")
	}
	closed := make(chan error, 1)
	go func() { closed <- h.Close(ctx) }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("second Close() = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second Close() hangs")
	}
}

func TestHTTPCloseWithoutOpen(t *testing.T) {
	h := NewHTTP("127.0.0.1:0", codec.NewQueue(1), codec.NewParser())
	if err := h.Close(context.Background()); err != nil {
		t.Errorf("Close() without Open = %v", err)
	}
}

func TestHTTPOpenBadAddr(t *testing.T) {
	h := NewHTTP("256.0.0.1:0", codec.NewQueue(1), codec.NewParser())
	if err := h.Open(); err == nil {
		h.Close(context.Background())
		t.Fatal("Open() on a bad address = nil")
	}
}

func BenchmarkHTTPIngest(b *testing.B) {
	for _, ct := range []string{ctJSON, ctMsgpack} {
		b.Run(ct, func(b *testing.B) {
			in := newIntake(b, 1024)
			body := encode(b, ct, map[string]any{
				"provider": "anthropic", "model": "claude-sonnet-4",
				"input_text":    strings.Repeat("Summarise the following conversation. ", 14),
				"output_text":   strings.Repeat("The user asked about billing. ", 10),
				"prompt_tokens": 1234, "completion_tokens": 256, "cost_usd": 0.01234, "latency_ms": 1830,
				"metadata": map[string]any{"session_id": "5f0c8d1e-6b7a-4c1d-9e2f-3a4b5c6d7e8f"},
			})
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if w := in.post(b, "/v1/traces", ct, body); w.Code != http.StatusAccepted {
					b.Fatalf("status %d %s", w.Code, w.Body)
				}
				<-in.q.C()
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestHTTPBodyReadError covers a client that goes away mid-body.
func TestHTTPBodyReadError(t *testing.T) {
	in := newIntake(t, 10)
	r := httptest.NewRequest(http.MethodPost, "/v1/traces", failingReader{})
	r.Header.Set("Content-Type", ctJSON)
	w := httptest.NewRecorder()
	in.h.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest {
		t.Errorf("status %d, want 400", w.Code)
	}
	want := httpTally{Units: 1, Received: 1, Dropped: dropped(codec.DropDecodeError, 1)}
	if got := in.h.Counters.Load(); got != want {
		t.Errorf("counters = %+v, want %+v", got, want)
	}
}
