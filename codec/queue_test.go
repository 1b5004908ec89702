package codec

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func events(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{TraceID: NewTraceID(), Trace: &Trace{}}
	}
	return evs
}

func TestQueueOffer(t *testing.T) {
	q := NewQueue(5)
	if got, want := q.Cap(), 5; got != want {
		t.Fatalf("Cap() = %d, want %d", got, want)
	}
	steps := []struct {
		offer   int
		wantErr error
		wantLen int
	}{
		{0, nil, 0},
		{2, nil, 2},
		{4, ErrQueueFull, 2}, // 3 free: none of the 4 goes in
		{3, nil, 5},
		{1, ErrQueueFull, 5},
		{0, nil, 5},
	}
	for i, s := range steps {
		if err := q.Offer(events(s.offer)...); err != s.wantErr {
			t.Errorf("step %d: Offer(%d) = %v, want %v", i, s.offer, err, s.wantErr)
		}
		if got := q.Len(); got != s.wantLen {
			t.Errorf("step %d: Len() = %d, want %d", i, got, s.wantLen)
		}
	}
	<-q.C()
	if err := q.Offer(events(1)...); err != nil {
		t.Errorf("Offer after a take = %v, want nil", err)
	}
}

func TestQueueOrder(t *testing.T) {
	q := NewQueue(10)
	evs := events(10)
	if err := q.Offer(evs[:4]...); err != nil {
		t.Fatal(err)
	}
	if err := q.Offer(evs[4:]...); err != nil {
		t.Fatal(err)
	}
	q.Close()
	var got []string
	for ev := range q.C() {
		got = append(got, ev.TraceID)
	}
	if len(got) != len(evs) {
		t.Fatalf("drained %d events, want %d", len(got), len(evs))
	}
	for i := range evs {
		if got[i] != evs[i].TraceID {
			t.Errorf("event %d = %s, want %s", i, got[i], evs[i].TraceID)
		}
	}
}

func TestQueueClose(t *testing.T) {
	q := NewQueue(3)
	if err := q.Offer(events(2)...); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q.Close() // idempotent
	if err := q.Offer(events(1)...); err != ErrQueueClosed {
		t.Errorf("Offer after Close = %v, want ErrQueueClosed", err)
	}
	if err := q.Offer(); err != ErrQueueClosed {
		t.Errorf("empty Offer after Close = %v, want ErrQueueClosed", err)
	}
	if err := q.Put(context.Background(), events(1)[0]); err != ErrQueueClosed {
		t.Errorf("Put after Close = %v, want ErrQueueClosed", err)
	}
	n := 0
	for range q.C() {
		n++
	}
	if n != 2 {
		t.Errorf("drained %d events after Close, want 2", n)
	}
	if got := q.Len(); got != 0 {
		t.Errorf("Len() after drain = %d", got)
	}
	if got := DropFor(ErrQueueClosed); got != DropShutdown {
		t.Errorf("DropFor(ErrQueueClosed) = %v", got)
	}
	if got := DropFor(ErrQueueFull); got != DropQueueFull {
		t.Errorf("DropFor(ErrQueueFull) = %v", got)
	}
}

func TestQueuePutWaitsForRoom(t *testing.T) {
	q := NewQueue(1)
	if err := q.Offer(events(1)...); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	ev := events(1)[0]
	go func() { done <- q.Put(context.Background(), ev) }()
	select {
	case err := <-done:
		t.Fatalf("Put returned %v with the queue full", err)
	case <-time.After(20 * time.Millisecond): // it must still be waiting
	}
	<-q.C()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Put = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Put did not return after room was made")
	}
	if got := <-q.C(); got.TraceID != ev.TraceID {
		t.Errorf("queued %s, want %s", got.TraceID, ev.TraceID)
	}
}

func TestQueuePutCancelled(t *testing.T) {
	q := NewQueue(1)
	if err := q.Offer(events(1)...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Put(ctx, events(1)[0]) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Put did not honour cancellation")
	}
	if got := q.Len(); got != 1 {
		t.Errorf("Len() = %d, want 1", got)
	}

	// Close while Put waits: it returns ErrQueueClosed.
	go func() { done <- q.Put(context.Background(), events(1)[0]) }()
	q.Close()
	select {
	case err := <-done:
		if err != ErrQueueClosed {
			t.Errorf("Put = %v, want ErrQueueClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Put did not return after Close")
	}
}

// TestQueueConcurrentOffer runs producers against a slow consumer and a
// Close: no Offer blocks, none panics on the closed channel, and every
// event offered without error comes out exactly once. Run with -race.
func TestQueueConcurrentOffer(t *testing.T) {
	q := NewQueue(64)
	const producers, rounds = 8, 2000
	var accepted, rejected [producers]int
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range rounds {
				batch := events(1 + i%4)
				switch err := q.Offer(batch...); err {
				case nil:
					accepted[p] += len(batch)
				case ErrQueueFull, ErrQueueClosed:
					rejected[p] += len(batch)
				default:
					t.Errorf("Offer = %v", err)
				}
			}
		})
	}
	consumed := make(chan int)
	go func() {
		n := 0
		for range q.C() {
			n++
			if n == 500 {
				q.Close() // while producers may still offer
			}
		}
		consumed <- n
	}()
	offered := make(chan struct{})
	go func() { wg.Wait(); close(offered) }()
	select {
	case <-offered:
	case <-time.After(30 * time.Second):
		t.Fatal("producers blocked in Offer")
	}
	q.Close()
	got := <-consumed
	want := 0
	for p := range producers {
		want += accepted[p]
	}
	if got != want {
		t.Errorf("consumed %d events, accepted %d", got, want)
	}
}
