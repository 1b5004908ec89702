package budget

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

// Restored says what Restore found.
type Restored struct {
	Took       time.Duration
	RollupRows int // rollup rows read
	// Unsent are the alerts of the current windows recorded before and not
	// yet taken by the alert webhook: the caller may send them again.
	Unsent []Alert
}

// Restore sets each budget's spend in its current window (at Now) from
// the database read through db (a read pool: the daemon's, or report's
// read-only one), and which thresholds were alerted there already. It
// runs before the writer commits anything, so no call is counted twice
// or missed; it raises no alert (Check does).
//
// Windows are whole days of the rollups' zone, so every scope but session
// is summed exactly from the daily rollups (kept OCT_ROLLUP_RETENTION),
// with one indexed range query. Rollups have no sessions: a session budget
// is summed from the stored calls (the session index), exact only as far
// back as they are kept (OCT_RETENTION_DAYS); past that its spend is a
// lower bound. So is a scoped budget's when a day's calls overflowed into
// the rollups' "(other)" row.
func (t *Tracker) Restore(ctx context.Context, db *sql.DB) (*Restored, error) {
	start := time.Now()
	st, err := readState(ctx, db)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now().UnixMilli()
	for _, b := range t.budgets {
		b.start = 0 // a window of its own, from nothing
		b.setWindow(now, t.loc)
		if st.backfill && b.spec.Kind != Session {
			b.incomplete = true // the rollups do not hold every call yet
		}
	}
	r := &Restored{}
	if r.RollupRows, err = t.restoreRollups(ctx, db); err != nil {
		return nil, err
	}
	if err := t.restoreSessions(ctx, db, st.horizon); err != nil {
		return nil, err
	}
	if st.alerts {
		if r.Unsent, err = t.restoreAlerts(ctx, db, now); err != nil {
			return nil, err
		}
	}
	r.Took = time.Since(start)
	return r, nil
}

type fileState struct {
	backfill bool          // rollups not yet built from the calls stored before them
	horizon  sql.NullInt64 // newest created_at of a deleted call
	alerts   bool          // budget_alerts exists
}

func readState(ctx context.Context, db *sql.DB) (*fileState, error) {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
		codec.RollupStateTable,
		codec.RollupsTable).Scan(&n); err != nil {
		return nil, fmt.Errorf("restore budgets: %w", err)
	}
	if n != 2 {
		return nil, errors.New("restore budgets: the database has no daily rollups (a file from before them: open it with the daemon once)")
	}
	st := &fileState{}
	if err := db.QueryRowContext(ctx, "SELECT backfill, raw_horizon FROM "+codec.RollupStateTable+" WHERE id = 1").Scan(&st.backfill, &st.horizon); err != nil {
		return nil, fmt.Errorf("restore budgets: rollup state: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
		codec.BudgetAlertsTable).Scan(&n); err != nil {
		return nil, fmt.Errorf("restore budgets: %w", err)
	}
	st.alerts = n == 1
	return st, nil
}

// rollupSQL reads what budgets need of the rollups from a day on: the
// primary key's first column bounds it.
var rollupSQL = "SELECT day, provider, model, agent_id, channel, trigger, cron_job_id, calls, cost_nanos, unpriced_calls FROM " +
	codec.RollupsTable + " WHERE day >= ?"

func (t *Tracker) restoreRollups(ctx context.Context, db *sql.DB) (int, error) {
	from := ""
	for _, b := range t.budgets {
		if b.spec.Kind != Session && (from == "" || b.startDay < from) {
			from = b.startDay
		}
	}
	if from == "" {
		return 0, nil
	}
	rows, err := db.QueryContext(ctx, rollupSQL, from)
	if err != nil {
		return 0, fmt.Errorf("restore budgets: rollups: %w", err)
	}
	defer rows.Close()
	var n int
	var day string
	var tr codec.Trace
	var s sums
	for rows.Next() {
		if err := rows.Scan(&day, &tr.Provider, &tr.Model, &tr.AgentID, &tr.Channel, &tr.Trigger, &tr.CronJobID,
			&s.calls, &s.spent, &s.unpriced); err != nil {
			return n, fmt.Errorf("restore budgets: rollups: %w", err)
		}
		n++
		if err := t.addRollup(day, &tr, s); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("restore budgets: rollups: %w", err)
	}
	return n, nil
}

// addRollup adds one rollup row (a day's group) to the budgets it is in.
func (t *Tracker) addRollup(day string, tr *codec.Trace, s sums) error {
	overflow := tr.Provider == store.RollupOther && tr.Model == store.RollupOther
	for _, b := range t.budgets {
		if b.spec.Kind == Session || day < b.startDay {
			continue
		}
		if overflow && b.spec.Kind != All {
			b.incomplete = b.incomplete || day < b.endDay
			continue
		}
		if !b.spec.Matches(tr) {
			continue
		}
		into := &b.sums
		if day >= b.endDay {
			at, err := store.DayStart(day, t.loc)
			if err != nil {
				return fmt.Errorf("restore budgets: rollup day %q: %w", day, err)
			}
			if into = b.later(at, t.loc); into == nil {
				t.Beyond.Add(s.calls)
				continue
			}
		}
		into.spent += s.spent
		into.calls += s.calls
		into.unpriced += s.unpriced
	}
	return nil
}

// sessionSQL sums a session's stored calls of a window, each cost in
// whole nano-dollars as the writer's rollups round them.
var sessionSQL = `SELECT count(*), coalesce(sum(cost_usd IS NULL AND coalesce(cost_source, '') <> '` + codec.CostNoUsage + `'), 0),
	coalesce(sum(CAST(round(cost_usd * 1e9) AS INTEGER)), 0)
	FROM ` + codec.LLMTraces.Name + ` WHERE session_key = ? AND created_at >= ? AND created_at < ?`

func (t *Tracker) restoreSessions(ctx context.Context, db *sql.DB, horizon sql.NullInt64) error {
	for _, b := range t.budgets {
		if b.spec.Kind != Session {
			continue
		}
		if err := db.QueryRowContext(ctx, sessionSQL, b.spec.Value, b.start, b.end).
			Scan(&b.calls, &b.unpriced, &b.spent); err != nil {
			return fmt.Errorf("restore budgets: session %s: %w", b.spec.Value, err)
		}
		// Calls of the window may have expired: what is left is a floor.
		b.incomplete = horizon.Valid && horizon.Int64 >= b.start
		if err := t.restoreLaterSession(ctx, db, b); err != nil {
			return err
		}
	}
	return nil
}

// restoreLaterSession adds a session's calls dated after its window (a
// sender's clock ahead: a few, if any) to the later windows they are in.
func (t *Tracker) restoreLaterSession(ctx context.Context, db *sql.DB, b *tracked) error {
	rows, err := db.QueryContext(ctx, "SELECT created_at, cost_usd, coalesce(cost_source, '') FROM "+codec.LLMTraces.Name+" WHERE session_key = ? AND created_at >= ?",
		b.spec.Value, b.end)
	if err != nil {
		return fmt.Errorf("restore budgets: session %s: %w", b.spec.Value, err)
	}
	defer rows.Close()
	for rows.Next() {
		var tr codec.Trace
		if err := rows.Scan(&tr.CreatedAt, &tr.CostUSD, &tr.CostSource); err != nil {
			return fmt.Errorf("restore budgets: session %s: %w", b.spec.Value, err)
		}
		if a := b.later(tr.CreatedAt, t.loc); a != nil {
			a.add(&tr)
		} else {
			t.Beyond.Add(1)
		}
	}
	return rows.Err()
}

// restoreAlerts marks the thresholds recorded for the current windows as
// alerted, and returns those the webhook has not taken.
func (t *Tracker) restoreAlerts(ctx context.Context, db *sql.DB, now int64) ([]Alert, error) {
	rows, err := db.QueryContext(ctx, "SELECT budget_id, limit_nanos, window_start, threshold_pct, created_at, webhook_at IS NULL FROM "+
		codec.BudgetAlertsTable+" WHERE window_end > ?", now)
	if err != nil {
		return nil, fmt.Errorf("restore budgets: alerts: %w", err)
	}
	defer rows.Close()
	var unsent []Alert
	for rows.Next() {
		var id string
		var limit, start, at int64
		var pct int
		var pending bool
		if err := rows.Scan(&id, &limit, &start, &pct, &at, &pending); err != nil {
			return nil, fmt.Errorf("restore budgets: alerts: %w", err)
		}
		for _, b := range t.budgets {
			if b.spec.ID != id || b.spec.Limit != limit || b.start != start {
				continue
			}
			for i, p := range b.pcts {
				if p == pct {
					b.alerted |= 1 << i
				}
			}
			if pending {
				unsent = append(unsent, Alert{Status: t.statusLocked(b), ThresholdPct: pct, At: at, Zone: t.loc})
			}
		}
	}
	return unsent, rows.Err()
}

// Zone returns the zone the database's rollups are dated in, as the daemon
// last recorded it: what report computes windows in.
func Zone(ctx context.Context, db *sql.DB) (*time.Location, error) {
	var zone string
	if err := db.QueryRowContext(ctx, "SELECT zone FROM "+codec.RollupStateTable+" WHERE id = 1").Scan(&zone); err != nil {
		return nil, fmt.Errorf("rollup zone: %w", err)
	}
	return time.LoadLocation(strings.TrimSpace(zone))
}
