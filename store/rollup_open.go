package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

func (db *DB) rollupKeysPerDay() int {
	if db.RollupKeysPerDay > 0 {
		return db.RollupKeysPerDay
	}
	return DefaultRollupKeysPerDay
}

func (db *DB) zone() *time.Location {
	if db.Location == nil {
		return time.UTC
	}
	return db.Location
}

// openRollups records the rollups' zone and, the first time after the
// migration that created them, adds every call already stored to them.
// A zone other than the recorded one applies from now on: days already
// rolled up keep the dates of the old zone (PreviousZone says which).
func (db *DB) openRollups(ctx context.Context) error {
	return db.writeTurn(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var zone string
		var backfill bool
		if err := conn.QueryRowContext(ctx, "SELECT zone, backfill FROM "+codec.RollupStateTable+" WHERE id = 1").Scan(&zone, &backfill); err != nil {
			return fmt.Errorf("read rollup state: %w", err)
		}
		if backfill {
			return db.backfillRollups(ctx, conn)
		}
		if zone == db.zone().String() {
			return nil
		}
		if _, err := conn.ExecContext(ctx, "UPDATE "+codec.RollupStateTable+" SET zone = ? WHERE id = 1", db.zone().String()); err != nil {
			return fmt.Errorf("record rollup zone: %w", err)
		}
		db.PreviousZone = zone
		return nil
	})
}

// backfillSQL reads what a rollup needs of every stored call.
var backfillSQL = "SELECT created_at, provider, model, coalesce(agent_id, ''), coalesce(channel, ''), coalesce(trigger, ''), " +
	"coalesce(cron_job_id, ''), status, prompt_tokens, completion_tokens, cache_read_tokens, cache_write_tokens, " +
	"reasoning_tokens, cost_usd, coalesce(cost_source, ''), latency_ms, ttft_ms FROM " + codec.LLMTraces.Name

// backfillRollups adds the calls stored before rollups existed, in one
// transaction with clearing the flag: a crash leaves it to the next Open.
func (db *DB) backfillRollups(ctx context.Context, conn *sql.Conn) error {
	start := time.Now()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("backfill rollups: %w", err)
	}
	defer tx.Rollback()
	r := newRollups(db.zone(), db.rollupKeysPerDay(), func(string) (map[rollupKey]bool, error) {
		return map[rollupKey]bool{}, nil // the table is new and empty
	})
	n, err := scanCalls(ctx, tx, r)
	if err != nil {
		return fmt.Errorf("backfill rollups: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, upsertRollupSQL)
	if err != nil {
		return fmt.Errorf("backfill rollups: %w", err)
	}
	defer stmt.Close()
	err = r.flush(func(args []driver.NamedValue) error {
		vals := make([]any, len(args))
		for i, a := range args {
			vals[i] = a.Value
		}
		_, err := stmt.ExecContext(ctx, vals...)
		return err
	})
	if err != nil {
		return fmt.Errorf("backfill rollups: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+codec.RollupStateTable+" SET backfill = 0, zone = ? WHERE id = 1", db.zone().String()); err != nil {
		return fmt.Errorf("backfill rollups: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("backfill rollups: %w", err)
	}
	db.BackfilledCalls, db.BackfillTook = n, time.Since(start)
	return nil
}

// scanCalls adds every stored call to r and returns how many there were.
func scanCalls(ctx context.Context, tx *sql.Tx, r *rollups) (int64, error) {
	rows, err := tx.QueryContext(ctx, backfillSQL)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	var t codec.Trace
	for rows.Next() {
		t = codec.Trace{}
		if err := rows.Scan(&t.CreatedAt, &t.Provider, &t.Model, &t.AgentID, &t.Channel, &t.Trigger, &t.CronJobID,
			&t.Status, &t.PromptTokens, &t.CompletionTokens, &t.CacheReadTokens, &t.CacheWriteTokens,
			&t.ReasoningTokens, &t.CostUSD, &t.CostSource, &t.LatencyMS, &t.TTFTMS); err != nil {
			return n, err
		}
		if err := r.add(&t); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}
