package push

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// Result says what one PushOnce delivered.
type Result struct {
	Bodies   int   // bodies answered 2xx
	Rows     int64 // rows marked synced
	Bytes    int64 // uncompressed bytes of those bodies
	SetAside int64 // rows the receiver refused, set aside
}

// cycle is the state of one PushOnce: the body being filled and the
// buffers reused from body to body. It is dropped when the cycle ends, so
// an idle Client holds no buffers.
type cycle struct {
	c    *Client
	body body
	part body // a part of a refused body, while narrowing it
	gz   Gzipper
	res  Result
}

// PushOnce pushes every row unsynced when it reaches it, oldest first,
// table by table, in bodies of at most MaxBytes. It stops at the first body
// that fails after its retries, and returns at once when ctx ends (the rows
// of an unanswered body stay unsynced). Only one cycle runs at a time.
func (c *Client) PushOnce(ctx context.Context) (Result, error) {
	c.cycleMu.Lock()
	defer c.cycleMu.Unlock()
	began := time.Now()
	c.Cycles.Add(1)
	cy := &cycle{c: c}
	cy.body.limit = c.MaxBytes
	cy.newBody()
	err := cy.run(ctx)
	if err != nil {
		c.CyclesFailed.Add(1)
		c.last.SetStatus("error: " + Reason(ctx, err))
		c.holdForRetryAfter(err)
		c.Logger.Error("push cycle failed", "rows", cy.res.Rows, "bodies", cy.res.Bodies, "err", err)
		return cy.res, err
	}
	if cy.res.Rows > 0 {
		c.Logger.Info("push cycle done", "rows", cy.res.Rows, "bodies", cy.res.Bodies,
			"bytes", cy.res.Bytes, "took", time.Since(began).Round(time.Millisecond))
	}
	return cy.res, nil
}

// PushAll runs cycles until one finds nothing to push, one fails, or ctx
// ends, and returns how many rows are left unsynced: for an operator's
// "push everything now".
func (c *Client) PushAll(ctx context.Context) (remaining int64, err error) {
	for {
		res, err := c.PushOnce(ctx)
		if err != nil || res.Rows == 0 {
			var n int64
			cerr := Bookkeep(ctx, func(ctx context.Context) (err error) {
				n, err = c.src.UnsyncedCount(ctx)
				return err
			})
			if cerr != nil {
				return 0, errors.Join(err, fmt.Errorf("count unsynced: %w", cerr))
			}
			return n, err
		}
	}
}

func (cy *cycle) run(ctx context.Context) error {
	c := cy.c
	for t, table := range tables {
		var after int64
		for {
			page, err := c.src.UnsyncedPage(ctx, table, after, c.PageSize)
			if err != nil {
				if ctx.Err() != nil {
					return err // shutting down, not a broken database
				}
				c.Failures[FailStore].Add(1)
				return &StoreError{err}
			}
			for _, r := range page {
				if !cy.body.fits(t, len(r.JSON), c.MaxBytes) {
					if err := cy.flush(ctx); err != nil {
						return err
					}
				}
				cy.body.add(t, r)
			}
			if len(page) < c.PageSize {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	return cy.flush(ctx)
}

// flush sends the body (if it has rows), marks its rows synced on success
// and starts a new body. A body the receiver refuses is narrowed down to
// the rows it refuses (narrow), so they do not block the rest.
func (cy *cycle) flush(ctx context.Context) error {
	if cy.body.rows == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := cy.payload(&cy.body)
	if err != nil {
		return err
	}
	err = cy.c.send(ctx, p)
	if why := refusal(err); why != nil {
		err = cy.narrow(ctx, why)
	} else if err == nil {
		err = cy.delivered(ctx, &cy.body, p)
	}
	if err != nil {
		return fmt.Errorf("push body %s: %w", p.batchID, err)
	}
	cy.newBody()
	return nil
}

// delivered records a body answered 2xx: its rows are marked synced.
func (cy *cycle) delivered(ctx context.Context, b *body, p *payload) error {
	c := cy.c
	c.BodiesOK.Add(1)
	now := c.Now()
	c.last.SetOK(now)
	if err := cy.mark(ctx, b, now.UnixMilli()); err != nil {
		c.Failures[FailStore].Add(1)
		return &StoreError{err}
	}
	c.RowsPushed.Add(int64(p.rows))
	cy.res.Bodies++
	cy.res.Rows += int64(p.rows)
	cy.res.Bytes += int64(len(p.raw))
	return nil
}

// mark records the acknowledged rows of b as synced. The remote has them
// now, so the marks are written even if ctx has just ended: skipping them
// would only send the rows again.
func (cy *cycle) mark(ctx context.Context, b *body, pushedAt int64) error {
	return Bookkeep(ctx, func(ctx context.Context) error {
		for t, ids := range b.ids {
			if err := cy.c.src.MarkSynced(ctx, tables[t], ids, pushedAt); err != nil {
				return fmt.Errorf("rows delivered but not marked (they will be sent again): %w", err)
			}
		}
		return nil
	})
}

func (cy *cycle) newBody() {
	cy.body.reset(cy.c.AgentID, codec.NewID(), cy.c.Now().UnixMilli())
}

// payload finishes b and compresses it when Gzip is set.
func (cy *cycle) payload(b *body) (*payload, error) {
	raw := b.finish()
	p := &payload{batchID: b.batchID, raw: raw, wire: raw, rows: b.rows}
	if !cy.c.Gzip {
		return p, nil
	}
	wire, err := cy.gz.Compress(raw)
	if err != nil {
		return nil, err
	}
	p.wire = wire
	return p, nil
}

// holdForRetryAfter makes Run wait for a Retry-After the retries could not
// honour within Retry.MaxElapsed, up to MaxHold.
func (c *Client) holdForRetryAfter(err error) {
	wait, ok := RetryAfter(err, c.MaxHold)
	if !ok {
		return
	}
	until := c.Now().Add(wait)
	c.mu.Lock()
	defer c.mu.Unlock()
	if until.After(c.holdUntil) {
		c.holdUntil = until
	}
}
