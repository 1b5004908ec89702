package otlp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/push"
)

// ExportOnce exports every row past each stream's position, oldest first,
// in requests of at most PageSize rows. A stream stops at its first
// request that fails after its retries (its position stays before it), and
// so do the later streams of the same signal, whose receiver is the same;
// the other signals still go. A request the receiver rejects for good
// (4xx other than 408 and 429, and not an authentication or address
// error) is counted and passed over.
func (e *Exporter) ExportOnce(ctx context.Context) (rows int64, err error) {
	e.cycleMu.Lock()
	defer e.cycleMu.Unlock()
	defer func() { e.gz = push.Gzipper{} }() // an idle exporter holds no buffer
	e.Cycles.Add(1)
	var errs []error
	var down [3]bool // by signal
	for _, st := range e.Streams() {
		if down[st.sig] || ctx.Err() != nil {
			continue
		}
		if err := e.heldBack(st.sig); err != nil {
			down[st.sig] = true
			errs = append(errs, err)
			continue
		}
		n, err := e.exportStream(ctx, st)
		rows += n
		if err != nil {
			down[st.sig] = true
			errs = append(errs, err)
			e.holdForRetryAfter(st.sig, err)
			e.Logger.Error("otlp export failed", "table", st.Table.Name, "stream", st.Name, "err", err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		// After the loop: a later signal's 2xx must not hide the failure.
		e.last.SetStatus("error: " + push.Reason(ctx, errs[0]))
		e.CyclesFailed.Add(1)
		return rows, err
	}
	return rows, ctx.Err()
}

// holdForRetryAfter holds sig back for a Retry-After the retries could
// not honour within Retry.MaxElapsed, up to MaxHold: the next cycles would
// otherwise ask again every Interval.
func (e *Exporter) holdForRetryAfter(sig signal, err error) {
	wait, ok := push.RetryAfter(err, e.MaxHold)
	if !ok {
		return
	}
	until := e.Now().Add(wait)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hold[sig] = held{until, err}
}

// heldBack returns an error while sig waits for a Retry-After; it wraps
// the answer that asked, so the status still names it.
func (e *Exporter) heldBack(sig signal) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.hold[sig]
	if h.err == nil || !e.Now().Before(h.until) {
		return nil
	}
	return fmt.Errorf("otlp %s held back by Retry-After until %s: %w", sig, h.until.UTC().Format(time.RFC3339), h.err)
}

func (e *Exporter) exportStream(ctx context.Context, st Stream) (int64, error) {
	pos, err := e.src.Position(ctx, st.Name, st.Table.Name)
	if err != nil {
		e.Failures[push.FailStore].Add(1)
		return 0, &push.StoreError{Err: err}
	}
	var done int64
	for {
		page, err := e.src.PageAfter(ctx, st.Table.Name, pos, e.PageSize)
		if err != nil {
			e.Failures[push.FailStore].Add(1)
			return done, &push.StoreError{Err: err}
		}
		if len(page) == 0 {
			return done, nil
		}
		if err := e.exportPage(ctx, st, page); err != nil {
			return done, err
		}
		pos = page[len(page)-1].ID
		if err := e.advance(ctx, st, pos); err != nil {
			return done, err
		}
		done += int64(len(page))
		if len(page) < e.PageSize {
			return done, nil
		}
	}
}

// exportPage sends one page as one request; nil means the position may
// pass it (delivered, or counted as rejected).
func (e *Exporter) exportPage(ctx context.Context, st Stream, page []codec.Row) error {
	raw, items, bad, err := st.build(e, page)
	if bad > 0 {
		e.Rejected.Add("undecodable", int64(bad))
	}
	if err != nil {
		e.Rejected.Add("encode", int64(items))
		e.Logger.Error("otlp request not encoded; rows passed over", "table", st.Table.Name, "rows", items, "err", err)
		return nil
	}
	if items == 0 {
		return nil
	}
	err = e.send(ctx, st.sig, raw)
	var se *push.StatusError
	if err != nil && errors.As(err, &se) && rejectedForGood(se.Code) {
		e.Rejected.Add(fmt.Sprintf("http_%d", se.Code), int64(items))
		e.Logger.Warn("otlp request rejected; rows passed over", "table", st.Table.Name, "rows", items, "err", push.ShortError(err))
		return nil
	}
	if err != nil {
		return fmt.Errorf("otlp %s: %w", st.Table.Name, err)
	}
	e.RowsExported.Add(int64(items))
	return nil
}

// rejectedForGood tells a body the receiver will never accept (OTLP/HTTP:
// 400 for data it cannot decode or finds invalid) from a failure of the
// set-up: a bad token or URL (401, 403, 404, 405, 407) rejects every
// request, so passing over rows would lose them all; those wait, counted
// as failures, for the next cycle.
func rejectedForGood(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusProxyAuthRequired:
		return false
	}
	return code >= 400 && code < 500
}

// advance saves the position; the receiver has the rows now, so it is
// written even if ctx has just ended.
func (e *Exporter) advance(ctx context.Context, st Stream, id int64) error {
	err := push.Bookkeep(ctx, func(ctx context.Context) error { return e.src.Advance(ctx, st.Name, st.Table.Name, id) })
	if err != nil {
		e.Failures[push.FailStore].Add(1)
		return &push.StoreError{Err: fmt.Errorf("rows delivered but position not saved (they will be sent again): %w", err)}
	}
	return nil
}

// Backlog counts, per table, the rows its furthest-behind stream has not
// exported yet, summed over tables.
func (e *Exporter) Backlog(ctx context.Context) (int64, error) {
	most := map[string]int64{}
	for _, st := range e.Streams() {
		pos, err := e.src.Position(ctx, st.Name, st.Table.Name)
		if err != nil {
			return 0, err
		}
		n, err := e.src.CountAfter(ctx, st.Table.Name, pos)
		if err != nil {
			return 0, err
		}
		most[st.Table.Name] = max(most[st.Table.Name], n)
	}
	var sum int64
	for _, n := range most {
		sum += n
	}
	return sum, nil
}
