package codec

import (
	"errors"
	"testing"

	"github.com/google/uuid"
)

// TestDatagramElement: each element's "type" decides what it becomes.
func TestDatagramElement(t *testing.T) {
	tests := []struct {
		name        string
		in          any
		wantTable   string
		wantField   string // refused on this field
		wantReports int64
	}{
		{"trace", trace(), "llm_traces", "", 0},
		{"error", errorEvent(), "error_events", "", 0},
		{"log", obj("type", "log", "kind", "lifecycle"), "log_events", "", 0},
		{"invalid trace", trace("model", ""), "", "model", 0},
		{"invalid error", errorEvent("severity", "x"), "", "severity", 0},
		{"no type", obj("provider", "p", "model", "m"), "", "type", 0},
		{"unknown type", obj("type", "metric"), "", "type", 0},
		{"type not a string", obj("type", 1), "", "type", 0},
		{"not an object", []any{}, "", "type", 0},
		{"client_stats", obj("type", "client_stats", "dropped", 4), "", "", 1},
		{"invalid client_stats", obj("type", "client_stats", "dropped", -1), "", "dropped", 0},
	}
	for _, tt := range tests {
		for _, e := range encodings {
			t.Run(tt.name+"/"+e.format.String(), func(t *testing.T) {
				b, err := testParser().Datagram(wrap(t, e.encode(t, tt.in)), UDP)
				if err != nil {
					t.Fatalf("Datagram() error = %v", err)
				}
				if b.Elements != 1 || b.Reports != tt.wantReports {
					t.Errorf("elements %d, reports %d; want 1, %d", b.Elements, b.Reports, tt.wantReports)
				}
				if tt.wantField != "" {
					if len(b.Refused) != 1 || b.Refused[0].Err.Field != tt.wantField || len(b.Events) != 0 {
						t.Fatalf("Datagram() = %+v, want one refusal on %q", b, tt.wantField)
					}
					return
				}
				if len(b.Refused) != 0 {
					t.Fatalf("refused %+v", b.Refused[0].Err)
				}
				if tt.wantTable == "" {
					if len(b.Events) != 0 {
						t.Fatalf("events %+v, want none", b.Events)
					}
					return
				}
				if len(b.Events) != 1 {
					t.Fatalf("events %+v, want one", b.Events)
				}
				ev := b.Events[0]
				if got := ev.Table(); got != tt.wantTable || ev.Transport != UDP {
					t.Errorf("table %q, transport %v; want %q, udp", got, ev.Transport, tt.wantTable)
				}
				if id, err := uuid.Parse(ev.TraceID); err != nil || id.Version() != 7 {
					t.Errorf("TraceID = %q, want a v7 UUID (%v)", ev.TraceID, err)
				}
			})
		}
	}
}

// TestDatagramArray: invalid elements are refused by index, the rest
// kept in order, client_stats reports summed.
func TestDatagramArray(t *testing.T) {
	in := []any{trace(), errorEvent("severity", "x"), obj("type", "client_stats", "dropped", 3), 5,
		errorEvent(), obj("type", "client_stats", "client", "py", "dropped", 4)}
	for _, e := range encodings {
		t.Run(e.format.String(), func(t *testing.T) {
			b, err := testParser().Datagram(e.encode(t, in), Unixgram)
			if err != nil {
				t.Fatal(err)
			}
			var tables []string
			for _, ev := range b.Events {
				tables = append(tables, ev.Table())
			}
			var refused []int
			for _, r := range b.Refused {
				refused = append(refused, r.Index)
			}
			if b.Elements != 6 || len(tables) != 2 || tables[0] != "llm_traces" || tables[1] != "error_events" ||
				len(refused) != 2 || refused[0] != 1 || refused[1] != 3 || b.Reports != 2 || b.ReportedDrops != 7 {
				t.Errorf("elements %d, events %v, refused %v, reports %d (%d drops)", b.Elements, tables, refused, b.Reports, b.ReportedDrops)
			}
			if b.Events[0].TraceID == b.Events[1].TraceID {
				t.Error("two events share a trace_id")
			}
		})
	}
}

func TestDatagramUndecodable(t *testing.T) {
	for _, in := range []string{"", "hello", `{"type":"trace"} x`, "[", "\x93\x01"} {
		if b, err := testParser().Datagram([]byte(in), UDP); err == nil {
			t.Errorf("Datagram(%q) = %+v, want an error", in, b)
		}
	}
}

// TestRequest: the path names the type; a batch is all or nothing and
// the first refused element is named.
func TestRequest(t *testing.T) {
	tests := []struct {
		name       string
		typ        string
		in         any
		wantEvents int
		wantIndex  int
		wantField  string
		wantErr    error
	}{
		{"one trace", TypeTrace, trace(), 1, 0, "", nil},
		{"type may be absent", TypeTrace, obj("provider", "p", "model", "m"), 1, 0, "", nil},
		{"array of errors", TypeError, []any{errorEvent(), errorEvent()}, 2, 0, "", nil},
		{"log", TypeLog, obj("kind", "channel_in"), 1, 0, "", nil},
		{"type must match the path", TypeError, []any{errorEvent(), trace()}, 0, 1, "type", nil},
		{"client_stats is not an event here", TypeTrace, obj("type", "client_stats", "dropped", 1), 0, 0, "type", nil},
		{"first invalid is named", TypeTrace, []any{trace(), trace("model", 3), trace("provider", "")}, 0, 1, "model", nil},
		{"element not an object", TypeTrace, []any{trace(), "x"}, 0, 1, "", nil},
		{"empty", TypeTrace, []any{}, 0, 0, "", ErrEmptyBatch},
	}
	for _, tt := range tests {
		for _, e := range encodings {
			t.Run(tt.name+"/"+e.format.String(), func(t *testing.T) {
				b, err := testParser().Request(e.encode(t, tt.in), e.format, tt.typ)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Request() error = %v, want %v", err, tt.wantErr)
				}
				if len(b.Events) != tt.wantEvents {
					t.Fatalf("%d events, want %d (refused %+v)", len(b.Events), tt.wantEvents, b.Refused)
				}
				if tt.wantEvents == 0 && tt.wantErr == nil {
					if len(b.Refused) != 1 || b.Refused[0].Index != tt.wantIndex || b.Refused[0].Err.Field != tt.wantField {
						t.Fatalf("refused %+v, want index %d field %q", b.Refused, tt.wantIndex, tt.wantField)
					}
				}
				for _, ev := range b.Events {
					if ev.Transport != HTTP || len(ev.TraceID) != 36 {
						t.Errorf("event %+v", ev)
					}
				}
			})
		}
	}
}

func TestRequestUndecodable(t *testing.T) {
	if _, err := testParser().Request([]byte(`{"provider":`), JSON, TypeTrace); err == nil || errors.Is(err, ErrEmptyBatch) {
		t.Errorf("Request(truncated JSON) error = %v, want a decode error", err)
	}
	if _, err := testParser().Request([]byte(`{}`), Msgpack, TypeTrace); err == nil {
		t.Error("Request(JSON as msgpack) = nil error")
	}
}

// TestNewEvent: every payload lands in its own field, with a fresh id.
func TestNewEvent(t *testing.T) {
	payloads := []struct {
		p     Payload
		table string
	}{{&Trace{}, "llm_traces"}, {&Error{}, "error_events"}, {&Metric{}, "system_metrics"}, {&Log{}, "log_events"}}
	seen := map[string]bool{}
	for _, tc := range payloads {
		ev := NewEvent(Sampler, tc.p)
		if ev.Table() != tc.table || ev.Transport != Sampler || seen[ev.TraceID] || len(ev.TraceID) != 36 {
			t.Errorf("NewEvent(%T) = %+v", tc.p, ev)
		}
		seen[ev.TraceID] = true
	}
}
