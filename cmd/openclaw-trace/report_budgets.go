package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/store/budget"
)

// budgetsReport is report's view of the budgets: from the daemon that
// serves the database (its /v1/budgets, with its alerts), else computed
// from the database with OCT_BUDGETS from report's environment.
type budgetsReport struct {
	Source string `json:"source"` // "daemon" or "database"
	budget.Doc
	Error string `json:"error,omitempty"` // why they could not be computed
}

// reportBudgets returns the budgets to show, nil when there are none.
func reportBudgets(ctx context.Context, cfg *Config, db *store.DB, base string, d *daemonStatus, now time.Time) *budgetsReport {
	if d != nil && d.ServesDB {
		if doc, err := fetchBudgets(ctx, base); err == nil {
			if len(doc.Budgets) == 0 {
				return nil
			}
			return &budgetsReport{Source: "daemon", Doc: *doc}
		}
		// An older daemon has no /v1/budgets: compute them.
	}
	specs := cfg.Budgets.Specs()
	if len(specs) == 0 {
		return nil
	}
	r := &budgetsReport{Source: "database"}
	// Windows in the zone the file's rollups are dated in (the daemon's
	// OCT_BUDGET_TZ), so they are whole rollup days.
	loc, err := budget.Zone(ctx, db.Reader())
	if err != nil {
		loc = cfg.BudgetTZ.Location()
	}
	tr := budget.NewTracker(specs, cfg.BudgetWarn.Values(), loc)
	tr.Now = func() time.Time { return now }
	if _, err := tr.Restore(ctx, db.Reader()); err != nil {
		r.Error = err.Error()
		return r
	}
	r.Doc = tr.Doc()
	return r
}

// fetchBudgets asks the daemon at base for GET /v1/budgets.
func fetchBudgets(ctx context.Context, base string) (*budget.Doc, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/v1/budgets", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /v1/budgets: %s", resp.Status)
	}
	var doc budget.Doc
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("GET /v1/budgets: %w", err)
	}
	for i := range doc.Budgets { // the JSON has dollars; the table shows them as money
		b := &doc.Budgets[i]
		b.SpentNanos, b.LimitNanos = store.CostNanos(b.SpentUSD), store.CostNanos(b.LimitUSD)
	}
	return &doc, nil
}

// writeBudgets prints one line per budget: spent, limit, use, state and
// when the window resets, in the budgets' zone.
func writeBudgets(w io.Writer, r *budgetsReport, wide bool) {
	if r == nil {
		return
	}
	from := "computed from this database with OCT_BUDGETS"
	if r.Source == "daemon" {
		from = "from the daemon serving this database"
	}
	if r.Error != "" {
		fmt.Fprintf(w, "\n%s\n", cut(fmt.Sprintf("BUDGETS %s: %s", from, oneLine(r.Error, reportWidth)), reportWidth))
		return
	}
	loc, err := time.LoadLocation(r.Zone)
	if err != nil {
		loc = time.UTC
	}
	fmt.Fprintf(w, "\nBUDGETS (%s; windows in %s)\n", from, clean(r.Zone))
	idw := 8
	for _, b := range r.Budgets {
		idw = max(idw, width(clean(b.ID)))
	}
	if !wide {
		idw = min(idw, reportWidth-66) // the other columns take 66
	}
	fmt.Fprintf(w, "  %-*s  %11s  %11s  %6s  %-5s  %s\n", idw, "BUDGET", "SPENT", "LIMIT", "USED", "STATE", "RESETS")
	floor := false
	for _, b := range r.Budgets {
		spent := budget.Money(b.SpentNanos)
		if b.LowerBound {
			spent, floor = "≥"+spent, true
		}
		id := clean(b.ID)
		if !wide {
			id = cut(id, idw)
		}
		fmt.Fprintf(w, "  %-*s  %11s  %11s  %5.0f%%  %-5s  %s\n", idw, id, spent, budget.Money(b.LimitNanos), b.UsedPct, b.State,
			budget.LocalTime(b.ResetsAt, loc))
	}
	if floor {
		fmt.Fprintln(w, "  ≥ a lower bound: calls without a price, or a session's calls past OCT_RETENTION_DAYS")
	}
}
