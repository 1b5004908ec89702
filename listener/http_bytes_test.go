package listener

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// TestHTTPQueueByteBudget: over a real listener, a body that fits the
// queue's count but not its bytes is answered 429 Retry-After naming
// OCT_QUEUE_MAX_BYTES while nothing takes from the queue (the writer
// held), counted queue_full, and 202 once the queue is drained.
func TestHTTPQueueByteBudget(t *testing.T) {
	q := codec.NewQueue(1000)
	q.MaxBytes = 64 << 10
	h := NewHTTP("127.0.0.1:0", q, codec.NewParser())
	if err := h.Open(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Close(ctx)
	}()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	batch := make([]map[string]any, 10) // 10 of the 1,000 events, ~45 KB of the 64 KiB
	for i := range batch {
		batch[i] = map[string]any{"provider": "openai", "model": "gpt-4o", "input_text": strings.Repeat("x", 4000)}
	}
	body, err := json.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	post := func() (int, string, string) {
		t.Helper()
		resp, err := client.Post("http://"+h.ListenAddr()+"/v1/traces", ctJSON, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}

	if code, _, b := post(); code != http.StatusAccepted {
		t.Fatalf("first body: %d %s, want 202", code, b)
	}
	code, retry, b := post() // 20 events fit the count; ~90 KB do not fit the bytes
	if code != http.StatusTooManyRequests || retry != "1" || !strings.Contains(b, "OCT_QUEUE_MAX_BYTES") {
		t.Fatalf("second body while held: %d Retry-After %q %s, want 429 Retry-After 1 naming OCT_QUEUE_MAX_BYTES", code, retry, b)
	}
	if got, want := q.Len(), 10; got != want {
		t.Errorf("queue holds %d events, want %d (the refused body whole out)", got, want)
	}
	if got, want := h.Counters.Dropped[codec.DropQueueFull].Load(), int64(10); got != want {
		t.Errorf("queue_full = %d, want %d", got, want)
	}

	for range 10 { // the writer takes what is queued
		ev := <-q.C()
		q.Release(&ev)
	}
	if got := q.Bytes(); got != 0 {
		t.Fatalf("queue bytes once drained = %d, want 0", got)
	}
	if code, _, b := post(); code != http.StatusAccepted {
		t.Fatalf("after the drain: %d %s, want 202", code, b)
	}
	if got, want := q.Len(), 10; got != want {
		t.Errorf("queue holds %d events, want %d", got, want)
	}
}
