package codec

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// textEvents returns n traces with pad bytes of input text each.
func textEvents(n, pad int) []Event {
	evs := make([]Event, n)
	text := strings.Repeat("x", pad)
	for i := range evs {
		evs[i] = Event{TraceID: NewTraceID(), Trace: &Trace{Provider: "openai", Model: "gpt-4o", InputText: &text}}
	}
	return evs
}

func TestEventSize(t *testing.T) {
	text, stack := strings.Repeat("x", 4000), strings.Repeat("s", 1000)
	md := map[string]any{"k": "v", "n": 12.0}
	base := Event{TraceID: NewTraceID(), Trace: &Trace{}}
	tests := []struct {
		name string
		ev   Event
		want int64 // Size beyond base's
	}{
		{"empty trace", base, 0},
		{"input text", Event{TraceID: base.TraceID, Trace: &Trace{InputText: &text}}, 4000},
		{"both texts", Event{TraceID: base.TraceID, Trace: &Trace{InputText: &text, OutputText: &text}}, 8000},
		{"names", Event{TraceID: base.TraceID, Trace: &Trace{Provider: "openai", Model: "gpt-4o"}}, 12},
		{"metadata", Event{TraceID: base.TraceID, Trace: &Trace{Metadata: md}}, int64(len(`{"k":"v","n":12}`) + 2*sizeEntry)},
		{"error", Event{TraceID: base.TraceID, Error: &Error{Message: "boom", StackTrace: &stack}}, 1004},
		{"log", Event{TraceID: base.TraceID, Log: &Log{Message: text, Cursor: &Cursor{File: "/a"}}}, 4002},
	}
	for _, tt := range tests {
		if got := tt.ev.Size() - base.Size(); got != tt.want {
			t.Errorf("%s: Size beyond an empty trace = %d, want %d", tt.name, got, tt.want)
		}
	}
	if got, want := base.Size(), int64(sizeEvent+36); got != want {
		t.Errorf("empty trace Size() = %d, want %d", got, want)
	}
}

// TestQueueByteBudget: a batch that fits the count but not the bytes is
// refused whole (ErrQueueBytes, an ErrQueueFull), and admitted once the
// consumer's Release gives the bytes back.
func TestQueueByteBudget(t *testing.T) {
	one := textEvents(1, 4000)[0].Size()
	q := NewQueue(100)
	q.MaxBytes = 3 * one
	if err := q.Offer(textEvents(2, 4000)...); err != nil {
		t.Fatalf("first Offer = %v", err)
	}
	if got, want := q.Bytes(), 2*one; got != want {
		t.Fatalf("Bytes() = %d, want %d", got, want)
	}
	err := q.Offer(textEvents(2, 4000)...)
	if !errors.Is(err, ErrQueueFull) || !errors.Is(err, ErrQueueBytes) {
		t.Fatalf("Offer over the byte budget = %v, want ErrQueueBytes (an ErrQueueFull)", err)
	}
	if got := DropFor(err); got != DropQueueFull {
		t.Errorf("DropFor(%v) = %v, want queue_full", err, got)
	}
	if got, want := q.Len(), 2; got != want {
		t.Errorf("Len() after a refusal = %d, want %d (all or none)", got, want)
	}
	if got, want := q.Bytes(), 2*one; got != want {
		t.Errorf("Bytes() after a refusal = %d, want %d", got, want)
	}
	ev := <-q.C()
	q.Release(&ev)
	if got, want := q.Bytes(), one; got != want {
		t.Fatalf("Bytes() after a take = %d, want %d", got, want)
	}
	q.Release(&ev) // twice: given back once only
	if got, want := q.Bytes(), one; got != want {
		t.Fatalf("Bytes() after a second Release = %d, want %d", got, want)
	}
	if err := q.Offer(textEvents(2, 4000)...); err != nil {
		t.Fatalf("Offer after the take = %v, want nil", err)
	}
	if got, want := q.Bytes(), 3*one; got != want {
		t.Errorf("Bytes() = %d, want %d", got, want)
	}
}

// TestQueueEmptyAdmitsOversizedBatch: a batch larger than the whole byte
// budget waits for an empty queue instead of being refused forever.
func TestQueueEmptyAdmitsOversizedBatch(t *testing.T) {
	q := NewQueue(100)
	q.MaxBytes = 10000
	big := textEvents(10, 4000) // ~45 KB
	if err := q.Offer(big...); err != nil {
		t.Fatalf("Offer to an empty queue = %v, want nil", err)
	}
	if err := q.Offer(textEvents(1, 0)...); !errors.Is(err, ErrQueueBytes) {
		t.Fatalf("Offer past the budget = %v, want ErrQueueBytes", err)
	}
	for range big {
		ev := <-q.C()
		q.Release(&ev)
	}
	if got := q.Bytes(); got != 0 {
		t.Fatalf("Bytes() once drained = %d, want 0", got)
	}
	if err := q.Offer(big...); err != nil {
		t.Errorf("Offer to the drained queue = %v, want nil", err)
	}
}

// TestQueueNoByteBudget: MaxBytes 0 bounds by count only, as before.
func TestQueueNoByteBudget(t *testing.T) {
	q := NewQueue(20)
	if err := q.Offer(textEvents(20, 16384)...); err != nil {
		t.Fatalf("Offer = %v", err)
	}
	if err := q.Offer(textEvents(1, 0)...); err != ErrQueueFull {
		t.Errorf("Offer past the count = %v, want ErrQueueFull", err)
	}
}

// TestQueueByteAccountingConcurrent: producers offer batches of mixed
// sizes while a consumer takes and releases; every accepted event comes
// out once, the budget is never exceeded except by a batch admitted to an
// empty queue, and Bytes is 0 once drained. Run with -race.
func TestQueueByteAccountingConcurrent(t *testing.T) {
	q := NewQueue(256)
	q.MaxBytes = 64 << 10
	const producers, rounds = 6, 1500
	var accepted, refused atomic.Int64
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range rounds {
				batch := textEvents(1+(i+p)%5, (i*37)%9000)
				switch err := q.Offer(batch...); {
				case err == nil:
					accepted.Add(int64(len(batch)))
				case errors.Is(err, ErrQueueFull):
					refused.Add(int64(len(batch)))
				default:
					t.Errorf("Offer = %v", err)
				}
			}
		})
	}
	var taken, over int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range q.C() {
			if b := q.Bytes(); b > q.MaxBytes+5*textEvents(1, 9000)[0].Size() {
				over++
			}
			q.Release(&ev)
			taken++
		}
	}()
	wg.Wait()
	q.Close()
	<-done
	if over > 0 {
		t.Errorf("Bytes() passed the budget by more than one batch %d times", over)
	}
	if got, want := taken, accepted.Load(); got != want {
		t.Errorf("taken %d events, want %d accepted", got, want)
	}
	if got := q.Bytes(); got != 0 {
		t.Errorf("Bytes() once drained = %d, want 0 (accounting drifted)", got)
	}
	if refused.Load() == 0 {
		t.Log("no offer was refused: the budget was not exercised this run")
	}
}
