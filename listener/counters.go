// Package listener is the edge of the pipeline: HTTP, unix datagram and UDP
// intake. It decodes and validates what arrives, offers the events to the
// one ingest queue without ever blocking, and counts every unit it does not
// pass on, by reason.
package listener

import (
	"sync/atomic"

	"github.com/openclaw/openclaw-trace/codec"
)

// Counters is the accounting of one transport. Received counts events, and
// a unit that never became events (undecodable, oversize) counts as one, so
// that Received = written + Σ Dropped once the queue is drained.
type Counters struct {
	Units    atomic.Int64 // datagrams or requests read
	Bytes    atomic.Int64 // payload bytes read
	Received atomic.Int64
	Dropped  [codec.NumDropReasons]atomic.Int64
	// ClientStats counts client_stats reports and ClientReportedDrops the
	// drops clients counted on their side (EAGAIN, no sidecar); neither is
	// part of Received.
	ClientStats         atomic.Int64
	ClientReportedDrops atomic.Int64
}

func (c *Counters) drop(r codec.DropReason, n int64) {
	c.Received.Add(n)
	c.Dropped[r].Add(n)
}

// offer passes evs to q whole and counts them as received, or as dropped
// with the queue's reason.
func (c *Counters) offer(q *codec.Queue, evs []codec.Event) error {
	if err := q.Offer(evs...); err != nil {
		c.drop(codec.DropFor(err), int64(len(evs)))
		return err
	}
	c.Received.Add(int64(len(evs)))
	return nil
}
