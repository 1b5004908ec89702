package push

import (
	"sync/atomic"
)

// Values of a sink's status besides "error: <reason>".
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
	// Rejected counts the rows the receiver refused on their own, set
	// aside (kept, no longer pushed), by reason: http_<code>.
	Rejected Rejects
}

// LastPushTime returns when a body was last answered 2xx (unix ms), or 0.
func (c *Client) LastPushTime() int64 { return c.last.Time() }

// LastPushStatus returns "pending" before the first attempt, then "ok",
// "error: <short reason>" or "cooling_down".
func (c *Client) LastPushStatus() string { return c.last.Status() }
