package codec

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Queue errors: the caller counts them as queue_full or shutdown drops.
// ErrQueueBytes is an ErrQueueFull (errors.Is) that says which bound was
// hit: the bytes, not the count.
var (
	ErrQueueFull   = errors.New("queue full")
	ErrQueueBytes  = fmt.Errorf("%w: byte budget reached", ErrQueueFull)
	ErrQueueClosed = errors.New("queue closed")
)

// Queue is the one bounded ingest channel between every producer and the
// writer. Producers offer under one mutex, so a batch is enqueued whole or
// not at all and a send never blocks; Close under the same mutex means a
// late producer gets ErrQueueClosed instead of a send on a closed channel.
//
// It is bounded by count (its capacity) and, when MaxBytes is set, by the
// estimated bytes of the events it holds (Event.Size): a count alone let
// 4,096 traces of 4 KB text hold 17 MB of heap while the writer waited.
// The consumer gives each event's bytes back with Release as it takes it.
type Queue struct {
	// MaxBytes bounds the sum of the queued events' Size; 0 is no bound.
	// An empty queue admits any batch, so a batch larger than MaxBytes is
	// slow, never refused forever. Set it before the first Offer.
	MaxBytes int64

	mu     sync.Mutex
	ch     chan Event
	closed bool
	bytes  atomic.Int64 // Size of the events offered and not yet released
}

// NewQueue returns a queue holding at most capacity events.
func NewQueue(capacity int) *Queue {
	return &Queue{ch: make(chan Event, capacity)}
}

// C is the consumer's end; it is closed by Close once producers are done.
func (q *Queue) C() <-chan Event { return q.ch }

// Len is the number of events waiting.
func (q *Queue) Len() int { return len(q.ch) }

// Cap is the queue's capacity.
func (q *Queue) Cap() int { return cap(q.ch) }

// Bytes is the estimated size of the events waiting (Event.Size), as
// charged by Offer and given back by Release.
func (q *Queue) Bytes() int64 { return q.bytes.Load() }

// Offer enqueues all of evs, or none of them, without blocking. It
// records each event's Size in the event (evs are the caller's, marked),
// for Release.
func (q *Queue) Offer(evs ...Event) error {
	var sum int64
	for i := range evs { // outside the lock: producers size in parallel
		evs[i].queued = evs[i].Size()
		sum += evs[i].queued
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrQueueClosed
	}
	// Only the consumer takes from ch while we hold the lock, so the free
	// space can only grow and the sends below cannot block.
	if cap(q.ch)-len(q.ch) < len(evs) {
		return ErrQueueFull
	}
	if q.MaxBytes > 0 && len(q.ch) > 0 && q.bytes.Load()+sum > q.MaxBytes {
		return ErrQueueBytes
	}
	q.bytes.Add(sum)
	for _, ev := range evs {
		q.ch <- ev
	}
	return nil
}

// Release gives back the bytes Offer charged for ev: the consumer calls it
// for each event it takes from C, before it writes it (one atomic add).
func (q *Queue) Release(ev *Event) {
	if ev.queued != 0 {
		q.bytes.Add(-ev.queued)
		ev.queued = 0
	}
}

// Put waits for room, for producers whose source is their own buffer (a
// log file), rather than dropping. It polls: such producers are slow.
func (q *Queue) Put(ctx context.Context, ev Event) error {
	for {
		err := q.Offer(ev)
		if !errors.Is(err, ErrQueueFull) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Close stops intake: later offers fail with ErrQueueClosed, and the
// consumer sees the channel close after draining what is queued.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
}

// DropReason says why an event was not stored (the accounting every
// producer and the writer keep).
type DropReason uint8

// The drop reasons, in the order counters list them.
const (
	DropDecodeError DropReason = iota
	DropInvalid
	DropOversize
	DropQueueFull
	DropWriteError
	DropEvicted
	DropShutdown
	NumDropReasons
)

var dropNames = [NumDropReasons]string{"decode_error", "invalid", "oversize", "queue_full", "write_error", "evicted", "shutdown"}

func (r DropReason) String() string {
	if r < NumDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// DropFor maps a queue error to its drop reason.
func DropFor(err error) DropReason {
	if err == ErrQueueClosed {
		return DropShutdown
	}
	return DropQueueFull
}
