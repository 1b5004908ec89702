package codec

import (
	"math"
	"sync/atomic"
)

// Counters is the accounting one component keeps of the events it
// handles: each producer (a listener, the sampler, the log follower) for
// its transport, and the writer for every transport. Summed per transport
// once the queue is drained, received = written + Σ dropped.
type Counters struct {
	Units    atomic.Int64 // datagrams, requests, samples or lines read
	Bytes    atomic.Int64 // payload bytes read
	Received atomic.Int64 // events passed on or dropped; an unit that never became events counts as one
	Written  atomic.Int64 // rows committed: the writer's
	Dropped  [NumDropReasons]atomic.Int64
	// ClientReports counts client_stats reports and ClientReportedDrops
	// the drops clients counted on their side (EAGAIN, no sidecar):
	// neither is part of received = written + Σ dropped.
	ClientReports       atomic.Int64
	ClientReportedDrops atomic.Int64
}

// Drop counts n events received and not passed on, for reason r.
func (c *Counters) Drop(r DropReason, n int64) {
	c.Received.Add(n)
	c.Dropped[r].Add(n)
}

// Offered counts n events offered to the queue: received, and dropped
// with the queue's reason when err (Queue.Offer's answer) is not nil.
func (c *Counters) Offered(n int64, err error) {
	if err != nil {
		c.Drop(DropFor(err), n)
		return
	}
	c.Received.Add(n)
}

// Offer offers evs to q whole and counts them; it returns q's answer.
func (c *Counters) Offer(q *Queue, evs ...Event) error {
	err := q.Offer(evs...)
	c.Offered(int64(len(evs)), err)
	return err
}

// Reported counts client_stats reports and the drops they tell of. A
// report may claim any count, so ClientReportedDrops saturates at
// math.MaxInt64 instead of wrapping negative.
func (c *Counters) Reported(reports, drops int64) {
	c.ClientReports.Add(reports)
	for {
		old := c.ClientReportedDrops.Load()
		if c.ClientReportedDrops.CompareAndSwap(old, sat(old, drops)) {
			return
		}
	}
}

// sat is a+b for counts >= 0, math.MaxInt64 where it would overflow.
func sat(a, b int64) int64 {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

// Load reads the counters. Each is read atomically, not all at once: a
// page built while events flow may be off by the events in between.
func (c *Counters) Load() Counts {
	n := Counts{
		Units: c.Units.Load(), Bytes: c.Bytes.Load(), Received: c.Received.Load(), Written: c.Written.Load(),
		ClientReports: c.ClientReports.Load(), ClientReportedDrops: c.ClientReportedDrops.Load(),
	}
	for r := range c.Dropped {
		n.Dropped[r] = c.Dropped[r].Load()
	}
	return n
}

// Counts is Counters read at one moment: a plain value that adds up.
type Counts struct {
	Units, Bytes, Received, Written    int64
	Dropped                            [NumDropReasons]int64
	ClientReports, ClientReportedDrops int64
}

// Add adds o to c, field by field.
func (c *Counts) Add(o Counts) {
	c.Units += o.Units
	c.Bytes += o.Bytes
	c.Received += o.Received
	c.Written += o.Written
	for r := range c.Dropped {
		c.Dropped[r] += o.Dropped[r]
	}
	c.ClientReports += o.ClientReports
	c.ClientReportedDrops = sat(c.ClientReportedDrops, o.ClientReportedDrops) // clients claim what they like
}

// DroppedTotal is Σ dropped over every reason.
func (c Counts) DroppedTotal() int64 {
	var n int64
	for _, d := range c.Dropped {
		n += d
	}
	return n
}

// InFlight is received − written − Σ dropped: the events passed on and not
// yet written or dropped (queued, or in the writer's batch). It is 0 once
// the queue is drained; it is negative only if something was counted twice.
func (c Counts) InFlight() int64 { return c.Received - c.Written - c.DroppedTotal() }

// ByReason is Dropped keyed by reason name, every reason present.
func (c Counts) ByReason() map[string]int64 {
	m := make(map[string]int64, NumDropReasons)
	for r, n := range c.Dropped {
		m[DropReason(r).String()] = n
	}
	return m
}
