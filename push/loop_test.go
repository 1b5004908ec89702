package push

import (
	"context"
	"errors"
	"github.com/openclaw/openclaw-trace/testkit/poll"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable Now for the cool-down tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// The receiver answers 503 for several cycles, then 200. After
// CooldownAfter failed cycles the push cools down: each tick sends one
// empty body (and no rows) while it stays down, and the first tick after
// it is back delivers: within one interval, not after a 15-minute pause.
func TestResumeWithinOneIntervalAfterOutage(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(2, "x")...)
	var down atomic.Bool
	down.Store(true)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		return down.Load()
	})
	c := newTestClient(t, db, rc.srv.URL, nil)
	clk := &clock{now: time.Unix(1700000000, 0)}
	c.Now = clk.Now
	c.Interval = 5 * time.Minute
	c.Retry.MaxRetries, c.CooldownAfter = 0, 3
	ctx := context.Background()
	tick := func() {
		clk.Add(c.Interval)
		c.tick(ctx)
	}

	for _, want := range []string{"error: http 503", "error: http 503", StatusCoolingDown} {
		tick()
		if got := c.LastPushStatus(); got != want {
			t.Errorf("after %d failed cycles: status %q, want %q", c.CyclesFailed.Load(), got, want)
		}
	}
	for range 4 { // a 20-minute outage, cooling down
		tick()
	}
	got := rc.received()
	if len(got) != 7 || c.CyclesSkipped.Load() != 4 || unsynced(t, db) != 2 {
		t.Fatalf("while down: %d requests (want 3 cycles + 4 probes), %d skipped, %d unsynced",
			len(got), c.CyclesSkipped.Load(), unsynced(t, db))
	}
	for i, b := range got[3:] {
		if ids := b.traceIDs(t); len(ids) != 0 {
			t.Errorf("probe %d carried %d rows", i, len(ids))
		}
	}
	down.Store(false)
	tick()
	if unsynced(t, db) != 0 || c.LastPushStatus() != StatusOK {
		t.Errorf("first tick after the receiver is back: %d unsynced, status %q", unsynced(t, db), c.LastPushStatus())
	}
	tick() // failed cycles in a row start from 0 again: a cycle, not a probe
	if c.CyclesSkipped.Load() != 4 || c.Cycles.Load() != 5 {
		t.Errorf("after recovery: %d skipped, %d cycles; want 4, 5", c.CyclesSkipped.Load(), c.Cycles.Load())
	}
}

// Through Run's own ticker: a receiver that was down long enough for a
// cool-down gets the rows soon after it is back (a cool-down of an hour
// would time this out).
func TestRunResumesAfterCooldown(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(3, "x")...)
	var down atomic.Bool
	down.Store(true)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if down.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
		return down.Load()
	})
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.Interval, c.MaxHold = 10*time.Millisecond, time.Hour
	c.Retry.MaxRetries, c.CooldownAfter = 0, 2
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	poll.Until(t, "a few ticks cooling down", 10*time.Second, func() bool { return c.CyclesSkipped.Load() >= 3 })
	down.Store(false)
	poll.Until(t, "the rows delivered", 10*time.Second, func() bool { return c.RowsPushed.Load() == 3 })
}

// A Retry-After longer than the retries may wait holds Run back instead.
func TestLongRetryAfterHoldsRun(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(1, "x")...)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.HTTPClient = rc.srv.Client()
	clk := &clock{now: time.Unix(1700000000, 0)}
	c.Now = clk.Now
	c.Retry.MaxElapsed = time.Second
	ctx := context.Background()
	c.tick(ctx)
	if n := len(rc.received()); n != 1 {
		t.Fatalf("%d requests, want 1 (120s does not fit in MaxElapsed)", n)
	}
	clk.Add(119 * time.Second)
	c.tick(ctx)
	if n := len(rc.received()); n != 1 || c.LastPushStatus() != StatusCoolingDown {
		t.Errorf("within Retry-After: %d requests, status %q", n, c.LastPushStatus())
	}
	clk.Add(2 * time.Second)
	c.tick(ctx)
	if n := len(rc.received()); n != 2 {
		t.Errorf("after Retry-After: %d requests, want 2", n)
	}
}

// slowReceiver holds every request until the client gives up.
func slowReceiver(t *testing.T) (*receiver, chan struct{}) {
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		arrived <- struct{}{}
		<-release
		return false
	})
	t.Cleanup(func() { close(release) }) // before the server closes
	return rc, arrived
}

func TestCancelDuringSlowRequest(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(3, "x")...)
	rc, arrived := slowReceiver(t)
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.HTTPClient = rc.srv.Client()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.PushOnce(ctx); done <- err }()
	<-arrived
	start := time.Now()
	cancel()
	err := <-done
	if took := time.Since(start); took > time.Second {
		t.Errorf("PushOnce returned %v after cancel", took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if unsynced(t, db) != 3 || c.Failures[FailCanceled].Load() != 1 || c.LastPushStatus() != "error: canceled" {
		t.Errorf("unsynced %d, canceled %d, status %q", unsynced(t, db), c.Failures[FailCanceled].Load(), c.LastPushStatus())
	}
	if got := pushLog(t, db); len(got) != 1 || got[0].Status != "error" {
		t.Errorf("push_log = %+v (the canceled attempt is still recorded)", got)
	}
}

func TestCancelDuringRetryWait(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(1, "x")...)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.HTTPClient = rc.srv.Client()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.PushOnce(ctx); done <- err }()
	poll.Until(t, "first attempt logged", 10*time.Second, func() bool { return len(pushLog(t, db)) == 1 })
	start := time.Now()
	cancel()
	<-done
	if took := time.Since(start); took > time.Second {
		t.Errorf("PushOnce returned %v after cancel", took)
	}
	if len(rc.received()) != 1 || unsynced(t, db) != 1 {
		t.Errorf("%d requests, %d unsynced", len(rc.received()), unsynced(t, db))
	}
}

func TestRunLoop(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(10, "x")...)
	rc := newReceiver(t, nil)
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.HTTPClient = rc.srv.Client()
	c.Interval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	poll.Until(t, "rows pushed by the loop", 10*time.Second, func() bool { return c.RowsPushed.Load() == 10 })
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}

	c.Interval = 0
	if err := c.Run(context.Background()); err != nil {
		t.Errorf("Run with Interval 0: %v", err)
	}
}

func TestPushAll(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(50, "x")...)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if n == 2 {
			w.WriteHeader(http.StatusForbidden)
			return true
		}
		return false
	})
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.HTTPClient = rc.srv.Client()
	c.MaxBytes = 2 << 10 // ~ 5 rows a body
	left, err := c.PushAll(context.Background())
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 403 {
		t.Fatalf("err = %v, want 403", err)
	}
	if left == 0 || left != unsynced(t, db) {
		t.Errorf("remaining %d, unsynced %d", left, unsynced(t, db))
	}
	left, err = c.PushAll(context.Background())
	if err != nil || left != 0 {
		t.Errorf("second PushAll: %d left, %v", left, err)
	}
}
