package codec

import (
	"sync"
	"testing"

	"github.com/google/uuid"
)

// wrap keeps b as is: encoded arrays decode to their elements, so a case
// whose input is an array is wrapped once more to stay one element.
func wrap(tb testing.TB, b []byte) []byte {
	if f, _ := Sniff(b); f == 0 {
		tb.Fatalf("unsniffable %q", b)
	}
	if vals, err := Decode(b, mustSniff(b)); err == nil && len(vals) == 1 {
		if _, isMap := vals[0].(map[string]any); isMap {
			return b
		}
	}
	if mustSniff(b) == JSON {
		return append(append([]byte("["), b...), ']')
	}
	return append([]byte{0x91}, b...)
}

func mustSniff(b []byte) Format { f, _ := Sniff(b); return f }

func TestClientStats(t *testing.T) {
	tests := []struct {
		name        string
		in          any
		wantClient  string
		wantDropped int64
		wantField   string
	}{
		{"valid", obj("type", "client_stats", "client", "node", "dropped", 12), "node", 12, ""},
		{"zero", obj("type", "client_stats", "client", "py", "dropped", 0), "py", 0, ""},
		{"no client", obj("type", "client_stats", "dropped", 3), "", 3, ""},
		{"integral float", obj("type", "client_stats", "dropped", 3.0), "", 3, ""},
		{"missing dropped", obj("type", "client_stats", "client", "node"), "", 0, "dropped"},
		{"negative dropped", obj("type", "client_stats", "dropped", -1), "", 0, "dropped"},
		{"fractional dropped", obj("type", "client_stats", "dropped", 1.5), "", 0, "dropped"},
		{"string dropped", obj("type", "client_stats", "dropped", "3"), "", 0, "dropped"},
		{"client not a string", obj("type", "client_stats", "client", 1, "dropped", 1), "", 0, "client"},
	}
	for _, tt := range tests {
		for _, e := range encodings {
			t.Run(tt.name+"/"+e.format.String(), func(t *testing.T) {
				client, dropped, ferr := ClientStats(decodeOne(t, e.encode(t, tt.in)))
				if tt.wantField != "" {
					if ferr == nil || ferr.Field != tt.wantField {
						t.Fatalf("ClientStats() error = %v, want one on %q", ferr, tt.wantField)
					}
					return
				}
				if ferr != nil {
					t.Fatal(ferr)
				}
				if client != tt.wantClient || dropped != tt.wantDropped {
					t.Errorf("ClientStats() = %q, %d, want %q, %d", client, dropped, tt.wantClient, tt.wantDropped)
				}
			})
		}
	}
	if _, _, ferr := ClientStats("x"); ferr == nil {
		t.Error("ClientStats(string) = nil error")
	}
}

func TestNewTraceID(t *testing.T) {
	const n = 10000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = NewTraceID()
	}
	seen := make(map[string]bool, n)
	for i, s := range ids {
		id, err := uuid.Parse(s)
		if err != nil {
			t.Fatalf("NewTraceID() = %q: %v", s, err)
		}
		if len(s) != 36 || id.Version() != 7 || id.Variant() != uuid.RFC4122 {
			t.Fatalf("NewTraceID() = %q: len %d, version %d, variant %v; want 36, 7, RFC4122", s, len(s), id.Version(), id.Variant())
		}
		if seen[s] {
			t.Fatalf("NewTraceID() repeated %q", s)
		}
		seen[s] = true
		// Sequential ids from one process sort in creation order, as
		// strings too (lower-case hex): the UNIQUE index stays append-only.
		if i > 0 && s <= ids[i-1] {
			t.Fatalf("id %d %q sorts before id %d %q", i, s, i-1, ids[i-1])
		}
	}
}

func TestNewTraceIDConcurrent(t *testing.T) {
	const workers, each = 8, 2000
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			local := make([]string, each)
			for i := range local {
				local[i] = NewTraceID()
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range local {
				if seen[s] {
					t.Errorf("duplicate id %q", s)
				}
				seen[s] = true
			}
		})
	}
	wg.Wait()
}

func TestEventTable(t *testing.T) {
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{Trace: &Trace{}}, "llm_traces"},
		{Event{Error: &Error{}}, "error_events"},
		{Event{Metric: &Metric{}}, "system_metrics"},
		{Event{Log: &Log{}}, "log_events"},
		{Event{}, ""},
	}
	for _, tt := range tests {
		if got := tt.ev.Table(); got != tt.want {
			t.Errorf("Table() = %q, want %q", got, tt.want)
		}
	}
}

func TestNames(t *testing.T) {
	got := []string{HTTP.String(), Unixgram.String(), UDP.String(), Sampler.String(), Logtail.String(), Budget.String(), NumTransports.String()}
	want := []string{"http", "unixgram", "udp", "metrics", "logtail", "budget", "unknown"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("transport %d = %q, want %q", i, got[i], want[i])
		}
	}
	for r, w := range map[DropReason]string{DropDecodeError: "decode_error", DropInvalid: "invalid", DropOversize: "oversize",
		DropQueueFull: "queue_full", DropWriteError: "write_error", DropEvicted: "evicted", DropShutdown: "shutdown", NumDropReasons: "unknown"} {
		if g := r.String(); g != w {
			t.Errorf("DropReason(%d) = %q, want %q", r, g, w)
		}
	}
}
