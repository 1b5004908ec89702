package push

import (
	"cmp"
	"maps"
	"sync"
	"time"
)

// Outcome is what a sink last heard from its receiver, for /health: when
// a request was last answered 2xx, and the status since. It has its own
// lock (a leaf: it takes no other), so the owner may set it while holding
// its own.
type Outcome struct {
	mu   sync.Mutex
	at   int64  // unix ms of the last 2xx, 0 before it
	last string // "" (pending) before the first request
}

// Time returns when a request was last answered 2xx (unix ms), or 0.
func (o *Outcome) Time() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.at
}

// Status returns StatusPending before the first request, then the last
// status set.
func (o *Outcome) Status() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return cmp.Or(o.last, StatusPending)
}

// SetOK records a 2xx answer at at.
func (o *Outcome) SetOK(at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.at = at.UnixMilli()
	o.last = StatusOK
}

// SetStatus records a status other than ok.
func (o *Outcome) SetStatus(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.last = s
}

// Rejects counts the rows a sink gave up on, by reason: http_<code> (the
// receiver refused them for good) and the sink's own reasons.
type Rejects struct {
	mu sync.Mutex
	m  map[string]int64
}

// Add counts n rows rejected for reason.
func (r *Rejects) Add(reason string, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]int64{}
	}
	r.m[reason] += n
}

// Snapshot returns the counts by reason.
func (r *Rejects) Snapshot() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.m)
}

// Total sums the counts.
func (r *Rejects) Total() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for _, v := range r.m {
		n += v
	}
	return n
}
