package view

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// BreakdownOptions choose the window, the dimensions and how many groups
// a breakdown lists.
type BreakdownOptions struct {
	Since, Until time.Time // window [Since, Until)
	By           []Dim     // at least one
	Top          int       // groups listed; the others are added up in Rest. 0: all
}

// Breakdown is the calls of a window grouped by one or more dimensions
// (`report --by agent,trigger`). Groups come the most expensive first or,
// when a dimension is the day or the hour, oldest first; with Top, the
// most expensive (or the most recent) Top of them.
type Breakdown struct {
	Since  int64    `json:"since"` // unix ms, inclusive
	Until  int64    `json:"until"` // unix ms, exclusive
	By     []string `json:"by"`
	Totals Stats    `json:"totals"`
	Groups []Stats  `json:"groups"`
	// Rest adds up the RestGroups groups past Top; null when none.
	Rest       *Stats   `json:"rest"`
	RestGroups int      `json:"rest_groups"`
	Coverage   Coverage `json:"coverage"`
}

// Breakdown groups the calls in opts' window by opts.By.
func (v *View) Breakdown(ctx context.Context, opts BreakdownOptions) (*Breakdown, error) {
	if !opts.Since.Before(opts.Until) {
		return nil, errors.New("breakdown: since must be before until")
	}
	if len(opts.By) == 0 {
		return nil, errors.New("breakdown: no dimension")
	}
	st, err := v.state(ctx)
	if err != nil {
		return nil, err
	}
	b := &Breakdown{Since: opts.Since.UnixMilli(), Until: opts.Until.UnixMilli()}
	for _, d := range opts.By {
		b.By = append(b.By, d.String())
	}
	// Whole days from rollups, unless a dimension is one they do not keep.
	wholeDays := !slices.ContainsFunc(opts.By, func(d Dim) bool { return d == DimSession || d == DimHour })
	p := st.plan(b.Since, b.Until, wholeDays)
	b.Coverage = st.coverage(p)
	w := &window{since: b.Since, until: b.Until, loc: st.loc}
	agg, err := v.aggregate(ctx, st, p, w, [][]Dim{opts.By}, 0, 0, func(a *aggregator) { a.groupings[0].keys = true })
	if err != nil {
		return nil, fmt.Errorf("breakdown: %w", err)
	}
	b.Totals = agg.totals
	b.Totals.Key = "total"
	b.Totals.finish()
	g := agg.groupings[0]
	b.Groups = g.collect()
	if opts.Top > 0 && len(b.Groups) > opts.Top {
		var rest []Stats
		if g.period != numDims { // the most recent
			rest, b.Groups = b.Groups[:len(b.Groups)-opts.Top], b.Groups[len(b.Groups)-opts.Top:]
		} else {
			b.Groups, rest = b.Groups[:opts.Top], b.Groups[opts.Top:]
		}
		b.Rest, b.RestGroups = &Stats{}, len(rest)
		for i := range rest {
			b.Rest.merge(&rest[i])
		}
		b.Rest.Key = fmt.Sprintf("(%d more)", len(rest))
		b.Rest.finish()
	}
	return b, nil
}
