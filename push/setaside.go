package push

import (
	"context"
	"fmt"

	"github.com/openclaw/openclaw-trace/codec"
)

// narrow delivers the rows of the body the receiver refused (why) part
// by part, and sets aside the rows it refuses alone (see Narrow).
func (cy *cycle) narrow(ctx context.Context, why *StatusError) error {
	c := cy.c
	c.Logger.Warn("push body refused; narrowing it down to the rows refused", "rows", cy.body.rows,
		"err", ShortError(why))
	cy.part.limit = c.MaxBytes
	return Narrow(ctx, cy.body.tableRows(), why, cy.deliverPart, cy.setAside)
}

// deliverPart sends rows as one body and marks them synced on a 2xx;
// without rows it sends an empty body, which marks nothing.
func (cy *cycle) deliverPart(ctx context.Context, rows []tableRow) error {
	b := &cy.part
	b.reset(cy.c.AgentID, codec.NewID(), cy.c.Now().UnixMilli())
	for _, r := range rows {
		b.add(r.table, r.Row)
	}
	p, err := cy.payload(b)
	if err != nil {
		return err
	}
	if err := cy.c.send(ctx, p); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	return cy.delivered(ctx, b, p)
}

// setAside marks a row the receiver refused on its own, so no cycle sends
// it again (it stays in the database, with the answer), and counts it.
func (cy *cycle) setAside(ctx context.Context, r tableRow, why *StatusError) error {
	c := cy.c
	err := Bookkeep(ctx, func(ctx context.Context) error {
		return c.src.SetAside(ctx, tables[r.table], r.ID, ShortError(why), c.Now().UnixMilli())
	})
	if err != nil {
		c.Failures[FailStore].Add(1)
		return &StoreError{fmt.Errorf("set aside a refused row: %w", err)}
	}
	c.Rejected.Add(why.Reject(), 1)
	cy.res.SetAside++
	c.Logger.Warn("push row refused by the receiver; set aside", "table", tables[r.table], "id", r.ID,
		"err", ShortError(why))
	return nil
}
