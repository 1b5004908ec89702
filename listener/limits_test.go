package listener

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// serve opens h on a loopback port and closes it when the test ends.
func serve(t *testing.T, h *HTTP) string {
	t.Helper()
	if err := h.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Close(ctx)
	})
	return "http://" + h.ListenAddr()
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	json.Unmarshal(b, &a.body)
	return a
}

func postJSON(t *testing.T, url, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/traces", strings.NewReader(body))
	req.Header.Set("Content-Type", ctJSON)
	return do(t, req)
}

// A valid body with more events than the queue holds can never be taken:
// 413 naming OCT_QUEUE_SIZE, counted once as oversize. It was answered
// 429 Retry-After: 1 forever, each try adding its size to queue_full.
func TestHTTPBatchLargerThanQueue(t *testing.T) {
	q := codec.NewQueue(10)
	h := NewHTTP("127.0.0.1:0", q, codec.NewParser())
	url := serve(t, h)
	batch := make([]any, 11)
	for i := range batch {
		batch[i] = tr("m")
	}
	body, _ := json.Marshal(batch)
	for range 2 {
		a := postJSON(t, url, string(body))
		if a.status != http.StatusRequestEntityTooLarge || !strings.Contains(fmt.Sprint(a.body["error"]), "OCT_QUEUE_SIZE") {
			t.Fatalf("status %d %v, want 413 naming OCT_QUEUE_SIZE", a.status, a.body)
		}
	}
	c := &h.Counters
	if got := c.Dropped[codec.DropOversize].Load(); got != 22 || c.Dropped[codec.DropQueueFull].Load() != 0 {
		t.Errorf("oversize %d queue_full %d, want 22 and 0", got, c.Dropped[codec.DropQueueFull].Load())
	}
	ten, _ := json.Marshal(batch[:10])
	if a := postJSON(t, url, string(ten)); a.status != http.StatusAccepted {
		t.Errorf("a batch the size of the queue: %d %v, want 202", a.status, a.body)
	}
}

// slowBody opens a connection that sends a request's headers and never
// its body, as a stalled or hostile client does.
func slowBody(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
	return c
}

// At most MaxConns connections are served at once; the next waits for one
// to close, and is served then. Unbounded, 10,000 slow-body connections
// held 147 MB and ~20,000 ran the process out of file descriptors.
func TestHTTPConnectionCap(t *testing.T) {
	h := NewHTTP("127.0.0.1:0", codec.NewQueue(10), codec.NewParser())
	h.MaxConns = 3
	url := serve(t, h)
	addr := h.ListenAddr()
	var slow []net.Conn
	for range 3 {
		slow = append(slow, slowBody(t, addr))
	}
	done := make(chan answer, 1)
	go func() { done <- postJSON(t, url, `{"provider":"p","model":"m"}`) }()
	poll.Until(t, "an accept waiting for a slot", 5*time.Second, func() bool { return h.ConnWaits.Load() > 0 })
	select {
	case a := <-done:
		t.Fatalf("served with every slot taken: %d %v", a.status, a.body)
	case <-time.After(200 * time.Millisecond):
	}
	slow[0].Close()
	if a := <-done; a.status != http.StatusAccepted {
		t.Fatalf("after a slot freed: %d %v, want 202", a.status, a.body)
	}
}

// The bodies read and decoded at once are bounded in bytes: a request
// whose body does not fit waits, then gets 429 Retry-After and counts as
// busy and queue_full; once the bytes are free it is served.
func TestHTTPBodiesInFlight(t *testing.T) {
	h := NewHTTP("127.0.0.1:0", codec.NewQueue(10), codec.NewParser())
	h.MaxBodyBytes, h.MaxInflightBytes, h.BodyWait = 150, 150, 100*time.Millisecond
	url := serve(t, h)
	stalled := slowBody(t, h.ListenAddr()) // holds 100 of 150 bytes
	poll.Until(t, "the stalled body's share taken", 5*time.Second, func() bool { return h.bodies().inUse() == 100 })
	a := postJSON(t, url, `{"provider":"p","model":"m","input_text":"`+strings.Repeat("x", 60)+`"}`)
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "1" {
		t.Fatalf("with the budget taken: %d %v, want 429 with Retry-After", a.status, a.body)
	}
	if h.Busy.Load() != 1 || h.Counters.Dropped[codec.DropQueueFull].Load() != 1 {
		t.Errorf("busy %d, queue_full %d; want 1 and 1", h.Busy.Load(), h.Counters.Dropped[codec.DropQueueFull].Load())
	}
	if a := postJSON(t, url, `{"provider":"p","model":"m"}`); a.status != http.StatusAccepted {
		t.Errorf("a body that fits beside it: %d %v, want 202", a.status, a.body)
	}
	stalled.Close()
	poll.Until(t, "the stalled body's share back", 5*time.Second, func() bool { return h.bodies().inUse() == 0 })
}

// The 202 names the top-level fields no field reads, so a misspelt
// promt_tokens is seen at once (they are still kept in metadata).
func TestHTTPNamesUnknownFields(t *testing.T) {
	h := NewHTTP("127.0.0.1:0", codec.NewQueue(10), codec.NewParser())
	url := serve(t, h)
	a := postJSON(t, url, `[{"provider":"p","model":"m","promt_tokens":12},{"provider":"p","model":"m","zz":1,"promt_tokens":1}]`)
	if a.status != http.StatusAccepted || fmt.Sprint(a.body["unknown_fields"]) != "[promt_tokens zz]" {
		t.Fatalf("%d %v, want 202 with unknown_fields [promt_tokens zz]", a.status, a.body)
	}
	if a := postJSON(t, url, `{"provider":"p","model":"m"}`); a.body["unknown_fields"] != nil {
		t.Errorf("unknown_fields %v on a body without any", a.body["unknown_fields"])
	}
}

// The server's own error lines (accept errors, bad requests) are JSON
// like every other line; they went to the standard logger as plain text.
func TestHTTPServerErrorsLogJSON(t *testing.T) {
	var logs syncBuffer
	h := NewHTTP("127.0.0.1:0", codec.NewQueue(10), codec.NewParser())
	h.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	// A handler that writes its header twice is one of the things
	// net/http logs itself, as it does accept errors.
	h.Handle("GET /twice", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.WriteHeader(http.StatusOK)
	}))
	url := serve(t, h)
	req, _ := http.NewRequest(http.MethodGet, url+"/twice", nil)
	do(t, req)
	poll.Until(t, "the server's log line", 5*time.Second, func() bool { return strings.Contains(logs.String(), "superfluous") })
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line["level"] != "WARN" {
			t.Errorf("log line %q is not a JSON WARN line (%v)", sc.Text(), err)
		}
	}
}

// client_stats counts saturate: two reports near int64 max made the
// client_reported_drops counter wrap negative.
func TestClientStatsSaturate(t *testing.T) {
	p := newPackets(10)
	for range 2 {
		p.HandlePacket(mustJSON(t, map[string]any{"type": "client_stats", "client": "node", "dropped": int64(math.MaxInt64 - 1)}))
	}
	if got := p.Counters.ClientReportedDrops.Load(); got != math.MaxInt64 {
		t.Errorf("client_reported_drops = %d, want %d", got, int64(math.MaxInt64))
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// inUse is the bytes taken now.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
