package push

import (
	"cmp"
	"sync"
	"sync/atomic"
	"time"
)

// Values of LastPushStatus besides "error: <reason>".
const (
	StatusPending     = "pending" // no body sent yet
	StatusOK          = "ok"
	StatusCoolingDown = "cooling_down"
)

// FailureClass says why an attempt or a cycle failed.
type FailureClass uint8

// The failure classes, in the order counters list them.
const (
	FailNetwork   FailureClass = iota // no answer: refused, reset, timeout, closed
	FailHTTP429                       // rate limited
	FailHTTP4xx                       // other 4xx (408 included)
	FailHTTP5xx                       // server errors
	FailHTTPOther                     // 1xx/3xx left after redirects
	FailStore                         // reading or marking rows failed
	FailCanceled                      // the caller's context ended (shutdown)
	NumFailureClasses
)

var failureNames = [NumFailureClasses]string{"network", "http_429", "http_4xx", "http_5xx", "http_other", "store", "canceled"}

func (f FailureClass) String() string {
	if f < NumFailureClasses {
		return failureNames[f]
	}
	return "unknown"
}

// Stats are the Client's counters, for /metrics.
type Stats struct {
	Cycles        atomic.Int64 // PushOnce calls, empty ones included
	CyclesFailed  atomic.Int64
	CyclesSkipped atomic.Int64 // ticks skipped while cooling down
	Attempts      atomic.Int64 // HTTP attempts, retries included
	Retries       atomic.Int64 // attempts after a body's first
	BodiesOK      atomic.Int64 // bodies answered 2xx
	RowsPushed    atomic.Int64 // rows marked synced
	BytesSent     atomic.Int64 // uncompressed body bytes of every attempt
	WireBytesSent atomic.Int64 // body bytes on the wire (gzip'd when Gzip) of every attempt
	Failures      [NumFailureClasses]atomic.Int64
}

// LastPushTime returns when a body was last answered 2xx (unix ms), or 0.
func (c *Client) LastPushTime() int64 { return c.last.time() }

// LastPushStatus returns "pending" before the first attempt, then "ok",
// "error: <short reason>" or "cooling_down".
func (c *Client) LastPushStatus() string { return c.last.status() }

// outcome is what a sink last heard from its receiver, for /health: when a
// request was last answered 2xx, and the status since. It has its own lock
// (a leaf: it takes no other), so the owner may set it while holding its own.
type outcome struct {
	mu   sync.Mutex
	at   int64  // unix ms of the last 2xx, 0 before it
	last string // "" (pending) before the first request
}

func (o *outcome) time() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.at
}

func (o *outcome) status() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return cmp.Or(o.last, StatusPending)
}

func (o *outcome) setOK(at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.at = at.UnixMilli()
	o.last = StatusOK
}

func (o *outcome) setStatus(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.last = s
}
