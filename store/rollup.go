package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// Daily rollups keep what spend and usage reports need of every call for
// much longer than the raw rows (OCT_ROLLUP_RETENTION against
// OCT_RETENTION_DAYS): one row of llm_rollups per day (a date in
// DB.Location) × provider × model × agent × channel × trigger × cron job,
// with calls, failures, tokens by kind, cost in nano-dollars, unpriced
// calls and two latency digests (rollup_digest.go). The writer adds each
// batch's calls to them in the transaction that inserts the calls, so a
// crash can neither count a call twice nor lose one; Open adds the calls
// stored before rollups existed, once.

// DefaultRollupKeysPerDay bounds the rollup rows of one day: the names
// come from the network. Calls of a group beyond it are counted in the
// day's overflow row, whose names are all RollupOther. A row takes
// ~190-250 bytes on disk, so a day at most ~0.4 MB, 400 days ~160 MB; a
// gateway with 50 combinations a day keeps 400 days in ~5 MB
// (TestRollupSize measures it).
const DefaultRollupKeysPerDay = 2000

// RollupOther is every name of a day's overflow row.
const RollupOther = "(other)"

// RollupKeyColumns are the rollup key's columns, in rollupKey's order;
// RollupSumColumns the counters, in rollupRow.sums' order.
var (
	RollupKeyColumns = []string{"day", "provider", "model", "agent_id", "channel", "trigger", "cron_job_id"}
	RollupSumColumns = []string{"calls", "failures", "prompt_tokens", "completion_tokens", "cache_read_tokens",
		"cache_write_tokens", "reasoning_tokens", "cost_nanos", "unpriced_calls"}
	RollupLatencyColumns = latencyColumns("lat")
	RollupTTFTColumns    = latencyColumns("ttft")
)

// Indexes into rollupRow.sums.
const (
	sumCalls = iota
	sumFailures
	sumPrompt
	sumCompletion
	sumCacheRead
	sumCacheWrite
	sumReasoning
	sumCostNanos
	sumUnpriced
	numSums
)

type rollupKey [7]string

type rollupRow struct {
	sums        [numSums]int64
	first, last int64
	lat, ttft   [LatencyBuckets]int64
}

// rollups adds calls up by rollup key: the part of one transaction.
type rollups struct {
	days    Days
	maxKeys int
	rows    map[rollupKey]*rollupRow
	// known holds the keys stored for the days last written, loaded from
	// the database on a day's first call, so the cap is checked without a
	// query per call. A key of a transaction that rolls back stays known:
	// the cap may then be passed by the few keys of one failed batch.
	known map[string]map[rollupKey]bool
	load  func(day string) (map[rollupKey]bool, error)
}

func newRollups(loc *time.Location, maxKeys int, load func(day string) (map[rollupKey]bool, error)) *rollups {
	return &rollups{days: Days{Location: loc}, maxKeys: maxKeys, rows: map[rollupKey]*rollupRow{},
		known: map[string]map[rollupKey]bool{}, load: load}
}

// clampTokens bounds one call's tokens as the summary does, so sums of
// days cannot overflow.
func clampTokens(p *int64) int64 {
	if p == nil {
		return 0
	}
	return min(max(*p, 0), math.MaxInt32)
}

// CostNanos is a cost in whole nano-dollars.
func CostNanos(usd float64) int64 {
	return int64(math.Round(min(usd, math.MaxInt64/1e9) * 1e9))
}

// add counts one call.
func (r *rollups) add(t *codec.Trace) error {
	day, _, _ := r.days.Day(t.CreatedAt)
	k := rollupKey{day, t.Provider, t.Model, t.AgentID, t.Channel, t.Trigger, t.CronJobID}
	row := r.rows[k]
	if row == nil {
		var err error
		if k, err = r.admit(k); err != nil {
			return err
		}
		if row = r.rows[k]; row == nil {
			row = &rollupRow{first: t.CreatedAt, last: t.CreatedAt}
			r.rows[k] = row
		}
	}
	row.first, row.last = min(row.first, t.CreatedAt), max(row.last, t.CreatedAt)
	s := &row.sums
	s[sumCalls]++
	if t.Status != "ok" {
		s[sumFailures]++
	}
	s[sumPrompt] += clampTokens(t.PromptTokens)
	s[sumCompletion] += clampTokens(t.CompletionTokens)
	s[sumCacheRead] += clampTokens(t.CacheReadTokens)
	s[sumCacheWrite] += clampTokens(t.CacheWriteTokens)
	s[sumReasoning] += clampTokens(t.ReasoningTokens)
	if t.CostUSD != nil {
		s[sumCostNanos] += CostNanos(*t.CostUSD)
	} else if t.CostSource != codec.CostNoUsage {
		// A failed call that reported no usage is unknown, not unpriced:
		// nothing was billed that a price could be missing for.
		s[sumUnpriced]++
	}
	if t.LatencyMS != nil {
		row.lat[LatencyBucket(*t.LatencyMS)]++
	}
	if t.TTFTMS != nil {
		row.ttft[LatencyBucket(*t.TTFTMS)]++
	}
	return nil
}

// admit returns k if its day has room for it (or holds it already), else
// the day's overflow key.
func (r *rollups) admit(k rollupKey) (rollupKey, error) {
	day := k[0]
	known := r.known[day]
	if known == nil {
		var err error
		if known, err = r.load(day); err != nil {
			return k, fmt.Errorf("rollup keys of %s: %w", day, err)
		}
		if len(r.known) >= 4 { // days written at once: today, yesterday, a late straggler
			clear(r.known)
		}
		r.known[day] = known
	}
	if known[k] {
		return k, nil
	}
	if len(known) >= r.maxKeys {
		k = rollupKey{day, RollupOther, RollupOther, RollupOther, RollupOther, RollupOther, RollupOther}
	}
	known[k] = true
	return k, nil
}

// upsertRollupSQL adds one group's counts to its row, creating it.
var upsertRollupSQL = func() string {
	cols := append(append(append(append(append([]string{}, RollupKeyColumns...), RollupSumColumns...),
		"first_at", "last_at"), RollupLatencyColumns...), RollupTTFTColumns...)
	sets := make([]string, 0, len(cols))
	for _, c := range cols[len(RollupKeyColumns):] {
		switch c {
		case "first_at":
			sets = append(sets, "first_at = min(first_at, excluded.first_at)")
		case "last_at":
			sets = append(sets, "last_at = max(last_at, excluded.last_at)")
		default:
			sets = append(sets, c+" = "+c+" + excluded."+c)
		}
	}
	return "INSERT INTO " + codec.RollupsTable + " (" + strings.Join(cols, ", ") + ") VALUES (?" +
		strings.Repeat(", ?", len(cols)-1) + ") ON CONFLICT (" + strings.Join(RollupKeyColumns, ", ") +
		") DO UPDATE SET " + strings.Join(sets, ", ")
}()

// flush upserts every group counted since the last flush with exec, and
// forgets them.
func (r *rollups) flush(exec func(args []driver.NamedValue) error) error {
	args := make([]driver.NamedValue, 0, len(RollupKeyColumns)+numSums+2+2*LatencyBuckets)
	for k, row := range r.rows {
		args = args[:0]
		add := func(v any) { args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v}) }
		for _, s := range k {
			add(s)
		}
		for _, n := range row.sums {
			add(n)
		}
		add(row.first)
		add(row.last)
		for _, n := range row.lat {
			add(n)
		}
		for _, n := range row.ttft {
			add(n)
		}
		if err := exec(args); err != nil {
			return fmt.Errorf("upsert rollup: %w", err)
		}
	}
	clear(r.rows)
	return nil
}

// rollupKeys loads the keys stored for day.
func (db *DB) rollupKeys(ctx context.Context, day string) (map[rollupKey]bool, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT "+strings.Join(RollupKeyColumns, ", ")+" FROM "+codec.RollupsTable+" WHERE day = ?", day)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := map[rollupKey]bool{}
	for rows.Next() {
		var k rollupKey
		if err := rows.Scan(&k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6]); err != nil {
			return nil, err
		}
		keys[k] = true
	}
	return keys, rows.Err()
}
