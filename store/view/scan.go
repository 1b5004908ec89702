package view

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

// scanSQL reads what an aggregator needs of each call in a window (the
// created_at index bounds the scan). The driver costs ~0.15 µs per column
// per row (measured on 1M rows; strings more), so the numbers are packed
// two to a column and the names into one string, which the scan reads
// without allocating:
//
//	names     the parts read, joined by \x1f ("" for an absent one)
//	at        created_at*2 + 1 if the call failed (status error or timeout)
//	tokens    prompt<<32 | completion   (each clamped to 2^31-1; NULL is 0)
//	cache     cache_read<<32 | cache_write
//	times     (latency+1)<<32 | (ttft+1) (0 is NULL)
//	cost      cost_usd (NULL: unpriced; -1: a failed call that reported
//	          no usage, neither priced nor unpriced)
//	reasoning reasoning_tokens
//	err       error_type or status of a failed call, else NULL; read
//	          only for recent errors (a column costs ~10% of a scan)
//
// A file from before the attribution columns (report does not migrate)
// has the names in metadata, read where it is valid JSON.
func scanSQL(parts []part, columns, withErr bool) string {
	names := "''"
	if len(parts) > 0 {
		exprs := make([]string, len(parts))
		for i, p := range parts {
			switch {
			case p == pProvider || p == pModel:
				exprs[i] = partColumns[p]
			case columns:
				exprs[i] = "coalesce(" + partColumns[p] + ", '')"
			default:
				exprs[i] = "coalesce(json_extract(CASE WHEN json_valid(metadata) THEN metadata END, '$." + partColumns[p] + "'), '')"
			}
		}
		names = strings.Join(exprs, " || char(31) || ")
	}
	cost := "cost_usd"
	if columns { // cost_source is older than the attribution columns
		cost = "CASE WHEN cost_usd IS NULL AND cost_source = '" + codec.CostNoUsage + "' THEN -1 ELSE cost_usd END"
	}
	errCol := ""
	if withErr {
		errCol = ",\n\tCASE WHEN status != 'ok' THEN coalesce(error_type, status) END"
	}
	return `SELECT ` + names + `,
	created_at * 2 + (status != 'ok'),
	(min(coalesce(prompt_tokens, 0), 2147483647) << 32) | min(coalesce(completion_tokens, 0), 2147483647),
	(min(coalesce(cache_read_tokens, 0), 2147483647) << 32) | min(coalesce(cache_write_tokens, 0), 2147483647),
	((min(coalesce(latency_ms, -1), 2147483646) + 1) << 32) | (min(coalesce(ttft_ms, -1), 2147483646) + 1),
	` + cost + `,
	min(coalesce(reasoning_tokens, 0), 2147483647)` + errCol + `
	FROM ` + codec.LLMTraces.Name + ` WHERE created_at >= ? AND created_at < ?`
}

const low32 = 1<<32 - 1

// call is one scanned row, unpacked.
type call struct {
	at                                            int64
	failed                                        bool
	prompt, completion, cacheR, cacheW, reasoning int64
	latency, ttft                                 int64 // -1: NULL
	cost                                          sql.NullFloat64
	errType                                       sql.NullString
}

// How a call's cost is known.
const (
	priced   = iota
	unpriced // tokens but no price: the sums are a lower bound
	noUsage  // a failed call that reported no usage: nothing to price
)

func (c *call) pricing() int {
	switch {
	case !c.cost.Valid:
		return unpriced
	case c.cost.Float64 < 0:
		return noUsage
	}
	return priced
}

// scanTraces adds the calls in [from, to).
func (a *aggregator) scanTraces(ctx context.Context, q *sql.DB, query string, from, to int64) error {
	rows, err := q.QueryContext(ctx, query, from, to)
	if err != nil {
		return fmt.Errorf("summary query: %w", err)
	}
	defer rows.Close()
	var (
		names              sql.RawBytes
		at, tok, cache, tm int64
		c                  call
	)
	dest := []any{&names, &at, &tok, &cache, &tm, &c.cost, &c.reasoning}
	if a.maxRecent > 0 {
		dest = append(dest, &c.errType)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("summary scan: %w", err)
		}
		c.at, c.failed = at>>1, at&1 == 1
		c.prompt, c.completion = tok>>32, tok&low32
		c.cacheR, c.cacheW = cache>>32, cache&low32
		c.latency, c.ttft = tm>>32-1, tm&low32-1
		f := a.fine[string(names)] // no allocation for the lookup
		if f == nil {
			f = a.fineFor(string(names))
		}
		a.add(f, &c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("summary query: %w", err)
	}
	return nil
}

func (a *aggregator) add(f *fine, c *call) {
	var day, hour string
	if a.timed {
		day, _, _ = a.days.Day(c.at)
		hour = a.hours.hour(c.at)
	}
	a.totals.add(c)
	for i := range a.groupings {
		a.statsAt(f, i, day, hour).add(c)
	}
	if i := a.bucket(c.at); i >= 0 {
		p := &a.series[i]
		p.Calls++
		if c.failed {
			p.Errors++
		}
		switch c.pricing() {
		case priced:
			a.seriesCost[i] += store.CostNanos(c.cost.Float64)
			a.seriesPriced[i] = true
		case unpriced:
			p.Unpriced++
		}
	}
	if c.failed && a.maxRecent > 0 {
		model := ""
		if a.modelPos >= 0 {
			model = f.names[a.modelPos]
		}
		a.addRecent(RecentError{At: c.at, Kind: "trace", Type: "failed", Model: model, Message: c.errType.String})
	}
}

func (st *Stats) add(c *call) {
	st.Calls++
	if c.failed {
		st.Errors++
	}
	st.PromptTokens += c.prompt
	st.CompletionTokens += c.completion
	st.CacheReadTokens += c.cacheR
	st.CacheWriteTokens += c.cacheW
	st.ReasoningTokens += c.reasoning
	switch c.pricing() {
	case priced:
		st.PricedCalls++
		st.costNanos += store.CostNanos(c.cost.Float64)
	case unpriced:
		st.UnpricedCalls++
	}
	st.latency.add(c.latency) // -1 (NULL) is skipped
	st.ttft.add(c.ttft)
}

func (a *aggregator) scanErrors(ctx context.Context, q *sql.DB, from, to int64) (map[string]int64, error) {
	counts := map[string]int64{}
	rows, err := q.QueryContext(ctx, `SELECT error_type, count(*) FROM `+codec.ErrorEvents.Name+`
		WHERE created_at >= ? AND created_at < ? GROUP BY error_type`, from, to)
	if err != nil {
		return nil, fmt.Errorf("summary errors: %w", err)
	}
	for rows.Next() {
		var typ string
		var n int64
		if err := rows.Scan(&typ, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("summary errors: %w", err)
		}
		counts[typ] = n
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT created_at, error_type, coalesce(code, ''), message FROM `+codec.ErrorEvents.Name+`
		WHERE created_at >= ? AND created_at < ? ORDER BY created_at DESC LIMIT ?`, from, to, a.maxRecent)
	if err != nil {
		return nil, fmt.Errorf("summary recent errors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e := RecentError{Kind: "error"}
		if err := rows.Scan(&e.At, &e.Type, &e.Code, &e.Message); err != nil {
			return nil, fmt.Errorf("summary recent errors: %w", err)
		}
		a.addRecent(e)
	}
	return counts, rows.Err()
}
