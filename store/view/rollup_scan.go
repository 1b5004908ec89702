package view

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/openclaw/openclaw-trace/store"

	"github.com/openclaw/openclaw-trace/codec"
)

// rollupRow is one row of the daily rollups.
type rollupRow struct {
	day                                           string
	names                                         [6]string // provider, model, agent, channel, trigger, cron
	calls, failures                               int64
	prompt, completion, cacheR, cacheW, reasoning int64
	costNanos, unpriced, first                    int64
	lat, ttft                                     [store.LatencyBuckets]int64
}

// rollupSQL reads the rollups of the days [?, ?].
var rollupSQL = "SELECT " + strings.Join(store.RollupKeyColumns, ", ") + ", " + strings.Join(store.RollupSumColumns, ", ") +
	", first_at, " + strings.Join(store.RollupLatencyColumns, ", ") + ", " + strings.Join(store.RollupTTFTColumns, ", ") +
	" FROM " + codec.RollupsTable + " WHERE day >= ? AND day <= ?"

// scanRollups adds the rollups of the days [from, to].
func (a *aggregator) scanRollups(ctx context.Context, q *sql.DB, from, to string) error {
	rows, err := q.QueryContext(ctx, rollupSQL, from, to)
	if err != nil {
		return fmt.Errorf("rollup query: %w", err)
	}
	defer rows.Close()
	var r rollupRow
	dest := []any{&r.day}
	for i := range r.names {
		dest = append(dest, &r.names[i])
	}
	dest = append(dest, &r.calls, &r.failures, &r.prompt, &r.completion, &r.cacheR, &r.cacheW, &r.reasoning,
		&r.costNanos, &r.unpriced, &r.first)
	for i := range r.lat {
		dest = append(dest, &r.lat[i])
	}
	for i := range r.ttft {
		dest = append(dest, &r.ttft[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("rollup scan: %w", err)
		}
		a.addRollup(&r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rollup query: %w", err)
	}
	return nil
}

// addRollup adds one day's group: to every grouping but those that need
// what rollups do not keep, under RolledUp for a session and the whole
// day for an hour.
func (a *aggregator) addRollup(r *rollupRow) {
	names := make([]string, len(a.parts))
	for i, p := range a.parts {
		if p == pSession {
			names[i] = RolledUp
		} else {
			names[i] = r.names[p]
		}
	}
	f := a.fineFor(strings.Join(names, nameSep))
	a.totals.addRollup(r)
	for i, g := range a.groupings {
		if !g.skipRollups {
			a.statsAt(f, i, r.day, r.day+" "+RolledUp).addRollup(r)
		}
	}
	if i := a.bucket(max(r.first, a.w.since)); i >= 0 {
		p := &a.series[i]
		p.Calls += r.calls
		p.Errors += r.failures
		p.Unpriced += r.unpriced
		if r.calls > r.unpriced {
			a.seriesCost[i] += r.costNanos
			a.seriesPriced[i] = true
		}
	}
}

func (st *Stats) addRollup(r *rollupRow) {
	st.Calls += r.calls
	st.Errors += r.failures
	st.PromptTokens += r.prompt
	st.CompletionTokens += r.completion
	st.CacheReadTokens += r.cacheR
	st.CacheWriteTokens += r.cacheW
	st.ReasoningTokens += r.reasoning
	st.PricedCalls += r.calls - r.unpriced
	st.UnpricedCalls += r.unpriced
	st.costNanos += r.costNanos
	for i := range r.lat {
		st.latency.addN(store.LatencyBucketValue(i), r.lat[i])
		st.ttft.addN(store.LatencyBucketValue(i), r.ttft[i])
	}
}
