// Package poll is the tests' one way to wait for something another
// goroutine or process does: check a condition until a deadline, never
// sleep for a guessed time.
//
// A deadline stops a hang; it does not measure speed (benchmarks do).
// What takes a second alone can take ten on a shared 2-core machine
// running every package's tests at once (a 10 s wait for 5 rows ran out
// there), so no wait is shorter than MinTimeout.
package poll

import (
	"testing"
	"time"
)

// MinTimeout is the shortest deadline Until keeps.
const MinTimeout = 30 * time.Second

// MaxPause is the longest pause between two checks. Checks start 1 ms
// apart and double up to it, so a condition that holds almost at once is
// seen at once and a slow one costs little CPU.
const MaxPause = 10 * time.Millisecond

// Until checks cond until it returns true and fails tb (Fatalf, naming what
// it waited for) when timeout, or MinTimeout if that is longer, passes
// first. Call it from the test's goroutine.
func Until(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	until(tb, what, max(timeout, MinTimeout), cond)
}

func until(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
			return
		}
		time.Sleep(pause)
		pause = min(2*pause, MaxPause)
	}
}
