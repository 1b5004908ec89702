package store

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// committedLog records what Writer.Committed is handed, copying the
// events: the writer reuses its batch.
type committedLog struct {
	mu    sync.Mutex
	calls [][]string // trace ids, one slice per call
}

func (l *committedLog) hook(evs []codec.Event) {
	ids := make([]string, len(evs))
	for i := range evs {
		ids[i] = evs[i].TraceID
	}
	l.mu.Lock()
	l.calls = append(l.calls, ids)
	l.mu.Unlock()
}

func (l *committedLog) get() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// TestWriterCommittedHook: Committed sees each committed transaction's
// events exactly once (a whole batch; one event at a time in the row by
// row fallback), and never an event that was not stored.
func TestWriterCommittedHook(t *testing.T) {
	db := MustOpenDB(t)
	if _, err := db.write.Exec(`CREATE TRIGGER poison BEFORE INSERT ON llm_traces
		WHEN NEW.model = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`); err != nil {
		t.Fatal(err)
	}
	in := make(chan codec.Event, 10)
	w := NewWriter(db, in)
	w.BatchSize = 3
	var log committedLog
	// Each call sees the HTTP Written counter of the batches before it
	// only (the error event counts under another transport):
	// a reader who sees a row counted finds it in what the hook fed.
	var seen []int64
	w.Committed = func(evs []codec.Event) {
		log.mu.Lock()
		seen = append(seen, w.Counters[codec.HTTP].Written.Load())
		log.mu.Unlock()
		log.hook(evs)
	}
	wait := startWriter(t, w)

	a, b, e := traceEvent("a"), traceEvent("b"), errorEvent()
	in <- a
	in <- b
	in <- e
	poll.Until(t, "first batch", 10*time.Second, func() bool { return len(log.get()) == 1 })
	good1, poison, good2 := traceEvent("good1"), traceEvent("poison"), traceEvent("good2")
	in <- good1
	in <- poison
	in <- good2
	poll.Until(t, "fallback", 10*time.Second, func() bool { return len(log.get()) == 3 })
	close(in)
	wait()

	got := log.get()
	want := [][]string{{a.TraceID, b.TraceID, e.TraceID}, {good1.TraceID}, {good2.TraceID}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("Committed calls = %v, want %v", got, want)
	}
	log.mu.Lock()
	if want := []int64{0, 2, 3}; !slices.Equal(seen, want) {
		t.Errorf("written counted before the hook: the hook saw %v, want %v", seen, want)
	}
	log.mu.Unlock()
	if n := w.Counters[codec.HTTP].Dropped[codec.DropWriteError].Load(); n != 1 {
		t.Errorf("write errors = %d, want 1 (the poisoned row)", n)
	}
	var stored int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM llm_traces`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 4 {
		t.Errorf("stored traces = %d, want 4", stored)
	}
}
