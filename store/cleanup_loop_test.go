package store

import (
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
	"go.uber.org/goleak"
)

// TestCleanerOpenClose: Open runs passes in the background until Close,
// which waits for the loop; Interval 0 starts no loop.
func TestCleanerOpenClose(t *testing.T) {
	db := MustOpenDB(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent()) // the loop is gone after Close
	off := NewCleaner(db)
	off.Interval = 0
	off.Open()
	off.Close()
	if got := off.Passes.Load(); got != 0 {
		t.Errorf("interval 0: %d passes, want none", got)
	}

	c := NewCleaner(db)
	c.Interval = time.Millisecond
	c.Volume = func() (Volume, error) { return percentUsed(10), nil }
	c.Open()
	poll.Until(t, "two passes", 10*time.Second, func() bool { return c.Passes.Load() >= 2 })
	c.Close()
	c.Close() // a second Close is harmless
}
