package store

import (
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

// TestWriterTakenReleasesQueueBytes: with Taken wired to the queue's
// Release, every event the writer takes, written or dropped at Stop,
// gives its bytes back, so the queue's byte budget ends at 0.
func TestWriterTakenReleasesQueueBytes(t *testing.T) {
	for _, stop := range []bool{false, true} {
		db := MustOpenDB(t)
		q := codec.NewQueue(100)
		w := NewWriter(db, q.C())
		w.BatchSize = 7
		var taken int
		w.Taken = func(ev *codec.Event) { taken++; q.Release(ev) }
		for range 10 {
			evs := []codec.Event{traceEvent("a"), traceEvent("b"), errorEvent()}
			if err := q.Offer(evs...); err != nil {
				t.Fatal(err)
			}
		}
		if q.Bytes() <= 0 {
			t.Fatalf("Bytes() = %d after 30 offers, want > 0", q.Bytes())
		}
		q.Close()
		if err := w.prepareTurn(); err != nil {
			t.Fatal(err)
		}
		if stop {
			w.Stop() // Run abandons what is queued: counted shutdown, released too
		}
		if err := w.Run(); err != nil {
			t.Fatal(err)
		}
		if got, want := taken, 30; got != want {
			t.Errorf("stop=%v: Taken called %d times, want %d", stop, got, want)
		}
		if got := q.Bytes(); got != 0 {
			t.Errorf("stop=%v: queue Bytes() after the writer = %d, want 0", stop, got)
		}
	}
}
