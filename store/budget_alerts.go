package store

import (
	"context"
	"fmt"

	"github.com/openclaw/openclaw-trace/codec"
)

// BudgetAlert is one row of the budget alerts table
// (codec.BudgetAlertsTable), which records the budget alerts raised
// (package store/budget decides them and reads the table back at start):
// one row per budget, limit, window and threshold, so each alerts once,
// also across restarts. Its key is BudgetID,
// LimitNanos, WindowStart and ThresholdPct: a budget whose limit changes
// is another budget.
type BudgetAlert struct {
	BudgetID      string
	LimitNanos    int64
	WindowStart   int64 // unix ms
	WindowEnd     int64
	ThresholdPct  int
	SpentNanos    int64 // spend when the threshold was crossed
	UnpricedCalls int64
	CreatedAt     int64 // unix ms
}

// RecordBudgetAlert inserts a, in the write turn, unless its key is
// recorded already; it reports whether it inserted it: false means the
// alert was raised before (by this process or an earlier one).
func (db *DB) RecordBudgetAlert(ctx context.Context, a BudgetAlert) (bool, error) {
	r, err := db.writeExec(ctx, `INSERT OR IGNORE INTO `+codec.BudgetAlertsTable+` (budget_id, limit_nanos, window_start,
		threshold_pct, window_end, spent_nanos, unpriced_calls, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.BudgetID, a.LimitNanos, a.WindowStart, a.ThresholdPct, a.WindowEnd, a.SpentNanos, a.UnpricedCalls, a.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("record budget alert: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record budget alert: %w", err)
	}
	return n == 1, nil
}

// MarkBudgetAlertSent records that the alert webhook took a (at: unix ms).
func (db *DB) MarkBudgetAlertSent(ctx context.Context, a BudgetAlert, at int64) error {
	_, err := db.writeExec(ctx, `UPDATE `+codec.BudgetAlertsTable+` SET webhook_at = ?
		WHERE budget_id = ? AND limit_nanos = ? AND window_start = ? AND threshold_pct = ?`,
		at, a.BudgetID, a.LimitNanos, a.WindowStart, a.ThresholdPct)
	if err != nil {
		return fmt.Errorf("mark budget alert sent: %w", err)
	}
	return nil
}

// PruneBudgetAlerts deletes the records of windows that ended before
// before (unix ms): only current windows need them; older ones are
// history, kept as long as the rollups.
func (db *DB) PruneBudgetAlerts(ctx context.Context, before int64) (int64, error) {
	r, err := db.writeExec(ctx, `DELETE FROM `+codec.BudgetAlertsTable+` WHERE window_end < ?`, before)
	if err != nil {
		return 0, fmt.Errorf("prune budget alerts: %w", err)
	}
	n, _ := r.RowsAffected()
	return n, nil
}
