package codec

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Queue errors: the caller counts them as queue_full or shutdown drops.
var (
	ErrQueueFull   = errors.New("queue full")
	ErrQueueClosed = errors.New("queue closed")
)

// Queue is the one bounded ingest channel between every producer and the
// writer. Producers offer under one mutex, so a batch is enqueued whole or
// not at all and a send never blocks; Close under the same mutex means a
// late producer gets ErrQueueClosed instead of a send on a closed channel.
type Queue struct {
	mu     sync.Mutex
	ch     chan Event
	closed bool
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

// Offer enqueues all of evs, or none of them, without blocking.
func (q *Queue) Offer(evs ...Event) error {
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
	for _, ev := range evs {
		q.ch <- ev
	}
	return nil
}

// Put waits for room, for producers whose source is their own buffer (a
// log file), rather than dropping. It polls: such producers are slow.
func (q *Queue) Put(ctx context.Context, ev Event) error {
	for {
		err := q.Offer(ev)
		if err != ErrQueueFull {
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
