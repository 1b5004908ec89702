package codec

import (
	"testing"
)

// TestParseReturnsPooledObjects: every parse entry point gives its parse
// state back to the pool, valid event or not, so steady intake makes no
// new one per event. The pool's New is counted; a leak makes one per call.
func TestParseReturnsPooledObjects(t *testing.T) {
	p := NewParser()
	entry := []struct {
		name  string
		parse func(v any)
		in    map[string]any
	}{
		{"trace", func(v any) { p.Trace(v) }, map[string]any{"type": "trace", "provider": "p", "model": "m"}},
		{"error", func(v any) { p.Error(v) }, map[string]any{"type": "error", "error_type": "crash", "message": "x"}},
		{"log", func(v any) { p.Log(v) }, map[string]any{"type": "log", "kind": "other", "message": "x"}},
		{"log rejected", func(v any) { p.Log(v) }, map[string]any{"type": "log", "kind": "chat"}},
		{"client_stats", func(v any) { ClientStats(v) }, map[string]any{"type": "client_stats", "dropped": 1}},
	}
	const calls = 1000
	for _, e := range entry {
		t.Run(e.name, func(t *testing.T) {
			made := 0
			prev := objects.New
			objects.New = func() any { made++; return new(object) }
			defer func() { objects.New = prev }()
			for range calls {
				e.parse(e.in)
			}
			// A GC may empty the pool now and then, and under -race the
			// pool drops a quarter of what it is given on purpose; a leak
			// shows as one new object per call.
			if made > calls/2 {
				t.Errorf("%d calls made %d new parse objects, want them reused", calls, made)
			}
		})
	}
}
