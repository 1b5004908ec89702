package push

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

var _ Sink = (*Client)(nil)

// Close stops the loops and flushes every sink once, within its context;
// a Sinks never started flushes nothing.
func TestSinksCloseFlushesEach(t *testing.T) {
	db := mustOpenDB(t)
	writeEvents(t, db, traces(5, "x")...)
	rc := newReceiver(t, nil)
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.Interval = time.Hour // the loop would not push before Close

	var never Sinks
	never.Add("push", c)
	never.Close(context.Background())
	if n := len(rc.received()); n != 0 {
		t.Fatalf("a Sinks never started sent %d bodies", n)
	}

	var logs bytes.Buffer
	s := Sinks{Logger: newTestClient(t, db, "", &logs).Logger}
	s.Add("push", c)
	s.Start(context.Background())
	s.Close(context.Background())
	if unsynced(t, db) != 0 || c.Cycles.Load() != 1 {
		t.Errorf("after Close: %d unsynced, %d cycles; want 0, 1", unsynced(t, db), c.Cycles.Load())
	}
	if !strings.Contains(logs.String(), `msg="final flush done" sink=push rows=5`) {
		t.Errorf("log: %s", logs.String())
	}

	// A flush that cannot finish in its context says so and keeps the rows.
	writeEvents(t, db, traces(2, "y")...)
	logs.Reset()
	s = Sinks{Logger: newTestClient(t, db, "", &logs).Logger}
	s.Add("push", c)
	s.Start(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Close(ctx)
	if unsynced(t, db) != 2 || !strings.Contains(logs.String(), "final flush incomplete") {
		t.Errorf("canceled flush: %d unsynced, log: %s", unsynced(t, db), logs.String())
	}
}
