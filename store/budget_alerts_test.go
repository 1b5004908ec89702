package store

import (
	"context"
	"testing"
)

// An alert's key is recorded once: a second record of it (this process or
// the next) is refused, and pruning keeps the windows that have not ended.
func TestBudgetAlertRecordedOnce(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	a := BudgetAlert{BudgetID: "agent=main/day", LimitNanos: 2e9, WindowStart: 1000, WindowEnd: 2000,
		ThresholdPct: 80, SpentNanos: 1.7e9, CreatedAt: 1500}
	for i, want := range []bool{true, false} {
		got, err := db.RecordBudgetAlert(ctx, a)
		if err != nil || got != want {
			t.Errorf("record #%d = %v, %v; want %v", i+1, got, err, want)
		}
	}
	other := a
	other.LimitNanos = 5e9 // another limit is another budget
	if got, err := db.RecordBudgetAlert(ctx, other); err != nil || !got {
		t.Errorf("record with another limit = %v, %v; want true", got, err)
	}
	if err := db.MarkBudgetAlertSent(ctx, a, 1600); err != nil {
		t.Fatal(err)
	}
	var sent int64
	if err := db.Reader().QueryRow(`SELECT webhook_at FROM budget_alerts WHERE limit_nanos = 2e9`).Scan(&sent); err != nil || sent != 1600 {
		t.Errorf("webhook_at = %d, %v; want 1600", sent, err)
	}
	if n, err := db.PruneBudgetAlerts(ctx, 2000); err != nil || n != 0 {
		t.Errorf("prune before the windows' end = %d, %v; want 0", n, err)
	}
	if n, err := db.PruneBudgetAlerts(ctx, 2001); err != nil || n != 2 {
		t.Errorf("prune after = %d, %v; want 2", n, err)
	}
}
