package poll

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// fakeTB records a Fatalf and ends the goroutine as testing.T does.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls wait on a fake TB in its own goroutine (Fatalf ends it).
func run(wait func(testing.TB, string, time.Duration, func() bool), timeout time.Duration, cond func() bool) (fatal string, returned bool) {
	f := &fakeTB{}
	done := make(chan bool)
	go func() {
		ret := false
		defer func() { done <- ret }()
		wait(f, "the thing", timeout, cond)
		ret = true
	}()
	returned = <-done
	return f.fatal, returned
}

func TestUntil(t *testing.T) {
	for _, tc := range []struct {
		name      string
		trueAfter int // cond holds from this call on; -1: never
		timeout   time.Duration
		wantFatal string
		wantCalls int // at least
	}{
		{"at once", 1, time.Second, "", 1},
		{"after a few checks", 5, 5 * time.Second, "", 5},
		{"never", -1, 50 * time.Millisecond, "timed out after 50ms waiting for the thing", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			fatal, returned := run(until, tc.timeout, func() bool {
				calls++
				return tc.trueAfter > 0 && calls >= tc.trueAfter
			})
			if fatal != tc.wantFatal || returned != (tc.wantFatal == "") {
				t.Errorf("got fatal %q, returned %v; want fatal %q", fatal, returned, tc.wantFatal)
			}
			if calls < tc.wantCalls {
				t.Errorf("cond called %d times, want at least %d", calls, tc.wantCalls)
			}
			if tc.trueAfter > 0 && calls != tc.trueAfter {
				t.Errorf("cond called %d times after it held at call %d", calls, tc.trueAfter)
			}
		})
	}
}

// TestUntilKeepsTheFloor: a 1 ms timeout is MinTimeout, so a condition
// that holds after 200 ms is waited for.
func TestUntilKeepsTheFloor(t *testing.T) {
	start := time.Now()
	fatal, returned := run(Until, time.Millisecond, func() bool { return time.Since(start) > 200*time.Millisecond })
	if !returned || fatal != "" {
		t.Errorf("got fatal %q, returned %v; want a return", fatal, returned)
	}
}

// TestUntilChecksAgainAfterTheDeadline: a condition that holds only when
// the deadline has passed still counts, as long as it is seen holding
// before Until gives up: Until never fails without a check after its last
// pause.
func TestUntilChecksAgainAfterTheDeadline(t *testing.T) {
	start := time.Now()
	fatal, returned := run(until, 20*time.Millisecond, func() bool { return time.Since(start) > 20*time.Millisecond })
	if !returned || fatal != "" {
		t.Errorf("got fatal %q, returned %v; want a return", fatal, returned)
	}
}
