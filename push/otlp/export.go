package otlp

import (
	"context"
	"errors"
	"fmt"
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
// pass it (delivered, or counted as rejected). A request the receiver
// refuses is narrowed down to the rows it refuses (narrow).
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
	if errors.As(err, &se) && se.Refused() {
		return e.narrow(ctx, st, page, items, se)
	}
	if err != nil {
		return fmt.Errorf("otlp %s: %w", st.Table.Name, err)
	}
	e.RowsExported.Add(int64(items))
	return nil
}

// narrow delivers a page the receiver refused (why) part by part and
// passes over, counted, the rows it refuses alone (push.Narrow). When it
// refuses an empty request too, the refusal is not about the rows, and the
// whole page is passed over, counted, as the exporter always did: only a
// set-up error (401, 403, 404, 405, 407) keeps rows for a later cycle.
func (e *Exporter) narrow(ctx context.Context, st Stream, page []codec.Row, items int, why *push.StatusError) error {
	e.Logger.Warn("otlp request refused; narrowing it down to the rows refused", "table", st.Table.Name,
		"rows", len(page), "err", push.ShortError(why))
	deliver := func(ctx context.Context, rows []codec.Row) error { return e.deliverPart(ctx, st, rows) }
	passOver := func(_ context.Context, r codec.Row, why *push.StatusError) error {
		e.Rejected.Add(why.Reject(), 1)
		e.Logger.Warn("otlp row refused by the receiver; passed over", "table", st.Table.Name, "id", r.ID,
			"err", push.ShortError(why))
		return nil
	}
	err := push.Narrow(ctx, page, why, deliver, passOver)
	if errors.Is(err, push.ErrRefusedAll) {
		e.Rejected.Add(why.Reject(), int64(items))
		e.Logger.Warn("otlp request rejected; rows passed over", "table", st.Table.Name, "rows", items, "err", push.ShortError(err))
		return nil
	}
	if err != nil {
		return fmt.Errorf("otlp %s: %w", st.Table.Name, err)
	}
	return nil
}

// deliverPart sends rows, part of a refused page, as one request; without
// rows it sends an empty request of the stream's signal.
func (e *Exporter) deliverPart(ctx context.Context, st Stream, rows []codec.Row) error {
	var raw []byte
	var items int
	var err error
	if len(rows) == 0 {
		raw, err = e.marshal(st.sig.empty())
	} else {
		raw, items, _, err = st.build(e, rows) // undecodable rows were counted with the page
		if err == nil && items == 0 {
			return nil
		}
	}
	if err != nil {
		e.Rejected.Add("encode", int64(items))
		return nil
	}
	if err := e.send(ctx, st.sig, raw); err != nil {
		return err
	}
	e.RowsExported.Add(int64(items))
	return nil
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
