package store

import (
	"context"
	"errors"

	"github.com/openclaw/openclaw-trace/codec"
)

// How the writer ends up when it cannot write: stopped at shutdown, or
// failing. Either way every event it was given is counted once.

// ErrDrainTimeout is Close's answer when the writer had to be stopped
// before it wrote everything the channel held.
var ErrDrainTimeout = errors.New("drain timed out")

// Close waits for the loop Open started to write what the channel holds
// and return; the caller closes the channel first, once its producers are
// done. When ctx ends first, Close stops the writer: the events it has not
// written are counted as shutdown drops, and it returns ErrDrainTimeout.
func (w *Writer) Close(ctx context.Context) error {
	if w.done == nil { // never opened
		return nil
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
	}
	queued := len(w.in)
	w.Stop()
	<-w.done
	var lost int64
	for t := range w.Counters {
		lost += w.Counters[t].Dropped[codec.DropShutdown].Load()
	}
	w.Logger.Error("drain timed out; writer stopped, events not written are dropped (shutdown)",
		"queued", queued, "dropped", lost)
	return ErrDrainTimeout
}

// Stop makes Run return after the transaction in progress, which it
// interrupts: that transaction's events and those still in the channel are
// counted as shutdown drops instead of written. It is for a shutdown whose
// drain ran out of time; call it once the channel's producers are done.
func (w *Writer) Stop() { w.stop() }

// Err is the error of the last write when it failed (the writer is
// failing), nil once a transaction commits again.
func (w *Writer) Err() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

// abandon counts batch and whatever is queued as shutdown drops. It does
// not wait: producers are done by the time Stop is called.
func (w *Writer) abandon(batch []codec.Event) {
	for i := range batch {
		w.Counters[batch[i].Transport].Dropped[codec.DropShutdown].Add(1)
	}
	for {
		select {
		case ev, ok := <-w.in:
			if !ok {
				return
			}
			w.took(&ev)
			w.Counters[ev.Transport].Dropped[codec.DropShutdown].Add(1)
		default:
			return
		}
	}
}

// stopped reports whether Stop was called, and if so counts the events of
// rest as shutdown drops.
func (w *Writer) stopped(rest []codec.Event) bool {
	if w.ctx.Err() == nil {
		return false
	}
	w.abandon(rest)
	return true
}

// givenUp counts ev as write_error and makes Err report err. Only the
// first of a run of failures is logged: a writer that cannot write at all
// would otherwise log every event.
func (w *Writer) givenUp(ev *codec.Event, err error) {
	w.Counters[ev.Transport].Dropped[codec.DropWriteError].Add(1)
	w.errMu.Lock()
	first := w.err == nil
	w.err = err
	w.failures++
	w.errMu.Unlock()
	if first {
		w.Logger.Error("event not written", "transport", ev.Transport.String(),
			"table", ev.Table(), "trace_id", ev.TraceID, "err", err)
	}
}

// committed clears the failure, if any, once a transaction commits.
func (w *Writer) committed() {
	w.errMu.Lock()
	n, was := w.failures, w.err != nil
	w.err, w.failures = nil, 0
	w.errMu.Unlock()
	if was {
		w.Logger.Info("writes recovered", "events_not_written", n)
	}
}
