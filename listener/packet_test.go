package listener

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/openclaw/openclaw-trace/codec"
)

func trace(model string) map[string]any {
	return map[string]any{"type": "trace", "provider": "openai", "model": model, "prompt_tokens": 12}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustMsgpack(t testing.TB, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tally is what a test expects of codec.Counters and a queue.
type tally struct {
	queued, received, stats, clientDrops int64
	dropped                              map[codec.DropReason]int64
}

func tallyOf(c *codec.Counters, q *codec.Queue) tally {
	got := tally{queued: int64(q.Len()), received: c.Received.Load(),
		stats: c.ClientReports.Load(), clientDrops: c.ClientReportedDrops.Load(),
		dropped: map[codec.DropReason]int64{}}
	for r := range c.Dropped {
		if n := c.Dropped[r].Load(); n != 0 {
			got.dropped[codec.DropReason(r)] = n
		}
	}
	return got
}

func (t tally) equal(u tally) bool {
	if t.queued != u.queued || t.received != u.received || t.stats != u.stats || t.clientDrops != u.clientDrops || len(t.dropped) != len(u.dropped) {
		return false
	}
	for r, n := range t.dropped {
		if u.dropped[r] != n {
			return false
		}
	}
	return true
}

func newPackets(capacity int) *Packets {
	return &Packets{Transport: codec.Unixgram, Queue: codec.NewQueue(capacity),
		Parser: codec.NewParser(), Counters: &codec.Counters{}}
}

func TestHandlePacket(t *testing.T) {
	errEvent := map[string]any{"type": "error", "error_type": "crash", "message": "boom"}
	badTrace := map[string]any{"type": "trace", "provider": "openai"} // no model
	wrongTypes := map[string]any{"type": "trace", "provider": "openai", "model": 42, "prompt_tokens": "many"}
	stats := map[string]any{"type": "client_stats", "client": "node", "dropped": 7}
	big := trace("gpt-4o")
	big["input_text"] = strings.Repeat("x", 70<<10)
	truncated := mustMsgpack(t, trace("gpt-4o"))
	truncated = truncated[:len(truncated)/2]
	dec := codec.DropDecodeError
	tests := []struct {
		name string
		in   []byte
		cap  int
		want tally
	}{
		{"json object", mustJSON(t, trace("a")), 8, tally{queued: 1, received: 1}},
		{"json array", mustJSON(t, []any{trace("a"), errEvent}), 8, tally{queued: 2, received: 2}},
		{"msgpack object", mustMsgpack(t, trace("a")), 8, tally{queued: 1, received: 1}},
		{"msgpack array", mustMsgpack(t, []any{trace("a"), trace("b"), errEvent}), 8, tally{queued: 3, received: 3}},
		{"garbage", []byte("hello world"), 8, tally{received: 1, dropped: map[codec.DropReason]int64{dec: 1}}},
		{"empty", nil, 8, tally{received: 1, dropped: map[codec.DropReason]int64{dec: 1}}},
		{"truncated msgpack", truncated, 8, tally{received: 1, dropped: map[codec.DropReason]int64{dec: 1}}},
		{"json with trailing data", []byte(`{"type":"trace"} x`), 8, tally{received: 1, dropped: map[codec.DropReason]int64{dec: 1}}},
		{"unclosed json", []byte(`[`), 8, tally{received: 1, dropped: map[codec.DropReason]int64{dec: 1}}},
		{"wrong types", mustJSON(t, wrongTypes), 8, tally{received: 1, dropped: map[codec.DropReason]int64{codec.DropInvalid: 1}}},
		{"unknown type", mustJSON(t, map[string]any{"type": "metric"}), 8, tally{received: 1, dropped: map[codec.DropReason]int64{codec.DropInvalid: 1}}},
		{"mixed array", mustMsgpack(t, []any{trace("a"), badTrace, 5, errEvent, wrongTypes}), 8,
			tally{queued: 2, received: 5, dropped: map[codec.DropReason]int64{codec.DropInvalid: 3}}},
		{"client stats", mustJSON(t, stats), 8, tally{stats: 1, clientDrops: 7}},
		{"client stats in array", mustMsgpack(t, []any{stats, trace("a")}), 8, tally{queued: 1, received: 1, stats: 1, clientDrops: 7}},
		{"invalid client stats", mustJSON(t, map[string]any{"type": "client_stats", "dropped": -1}), 8,
			tally{received: 1, dropped: map[codec.DropReason]int64{codec.DropInvalid: 1}}},
		{"queue full takes none of the batch", mustJSON(t, []any{trace("a"), trace("b")}), 1,
			tally{received: 2, dropped: map[codec.DropReason]int64{codec.DropQueueFull: 2}}},
		{"64 KiB+ payload", mustJSON(t, big), 8, tally{queued: 1, received: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPackets(tt.cap)
			p.HandlePacket(tt.in)
			if got := tallyOf(p.Counters, p.Queue); !got.equal(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			// What it did not pass on, it counted: received = queued + Σ dropped.
			if c := p.Counters.Load(); c.Received != int64(p.Queue.Len())+c.DroppedTotal() {
				t.Errorf("received %d != queued %d + dropped %d", c.Received, p.Queue.Len(), c.DroppedTotal())
			}
			if got := p.Counters.Units.Load(); got != 1 {
				t.Errorf("units = %d, want 1", got)
			}
			if got := p.Counters.Bytes.Load(); got != int64(len(tt.in)) {
				t.Errorf("bytes = %d, want %d", got, len(tt.in))
			}
		})
	}
}

func TestHandlePacketEvents(t *testing.T) {
	p := newPackets(8)
	in := mustMsgpack(t, []any{trace("gpt-4o"), map[string]any{"type": "error", "error_type": "llm_error", "message": "rate limited", "code": "rate_limit"}})
	p.HandlePacket(in)
	in[0] = 0 // the handler must not keep the buffer
	p.Queue.Close()
	var got []codec.Event
	for ev := range p.Queue.C() {
		got = append(got, ev)
	}
	if len(got) != 2 {
		t.Fatalf("got %d events, want 2", len(got))
	}
	if tr := got[0].Trace; tr == nil || tr.Model != "gpt-4o" || got[0].Transport != codec.Unixgram || len(got[0].TraceID) != 36 {
		t.Errorf("trace event = %+v", got[0])
	}
	if e := got[1].Error; e == nil || e.Message != "rate limited" || *e.Code != "rate_limit" {
		t.Errorf("error event = %+v", got[1])
	}
}

func TestHandlePacketCapsText(t *testing.T) {
	p := newPackets(1)
	big := trace("a")
	big["input_text"] = strings.Repeat("y", 100<<10)
	p.HandlePacket(mustJSON(t, big))
	ev := <-p.Queue.C()
	if n := len(*ev.Trace.InputText); n > codec.DefaultMaxTextBytes {
		t.Errorf("input_text is %d bytes, want at most %d", n, codec.DefaultMaxTextBytes)
	}
}
