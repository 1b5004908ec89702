package view

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// summarySQL reads what a summary needs of each call in a window (the
// created_at index bounds the scan). The driver costs ~0.15 µs per column
// per row (measured on 1M rows; strings more), so the numbers are packed
// two to a column and the four names into one string, which the scan
// reads without allocating:
//
//	names   provider, model, agent, channel joined by \x1f (agent and
//	        channel from metadata; "" when absent or not JSON)
//	at      created_at*2 + 1 if the call failed (status error or timeout)
//	tokens  prompt<<32 | completion   (each clamped to 2^31-1; NULL is 0)
//	cache   cache_read<<32 | cache_write
//	times   (latency+1)<<32 | (ttft+1) (0 is NULL)
//	cost    cost_usd (NULL: unpriced)
//	err     error_type or status of a failed call, else NULL
//
// Metadata is JSON whenever the writer stored it; should a row hold
// anything else, json_extract fails the query and the scan is redone with
// summarySQLGuarded, which checks every row first (~0.4 s more on 1M rows).
const summarySQL = `SELECT
	provider || char(31) || model || char(31) || coalesce(json_extract(metadata, '$.agent_id'), '') || char(31) ||
		coalesce(json_extract(metadata, '$.channel'), ''),
	created_at * 2 + (status != 'ok'),
	(min(coalesce(prompt_tokens, 0), 2147483647) << 32) | min(coalesce(completion_tokens, 0), 2147483647),
	(min(coalesce(cache_read_tokens, 0), 2147483647) << 32) | min(coalesce(cache_write_tokens, 0), 2147483647),
	((min(coalesce(latency_ms, -1), 2147483646) + 1) << 32) | (min(coalesce(ttft_ms, -1), 2147483646) + 1),
	cost_usd,
	CASE WHEN status != 'ok' THEN coalesce(error_type, status) END
	FROM llm_traces WHERE created_at >= ? AND created_at < ?`

var summarySQLGuarded = strings.Replace(summarySQL, "json_extract(metadata,",
	"json_extract(CASE WHEN json_valid(metadata) THEN metadata END,", 2)

const (
	dayMS   = 24 * int64(time.Hour/time.Millisecond)
	low31   = 1<<32 - 1
	nameSep = "\x1f"
)

// aggregator folds rows into a Summary.
type aggregator struct {
	s                 *Summary // the window and bucket size; filled by finish
	totals            Stats
	fine              map[string]*fine // by the packed names
	models, providers map[string]*Stats
	agents, channels  map[string]*Stats
	days              map[int64]*Stats
	series            []Point
	seriesCost        []float64
	seriesPriced      []bool
	recent            []RecentError
	maxRecent         int
}

// fine is one provider, model, agent and channel: the groups its calls
// add to, resolved once.
type fine struct {
	modelName                       string
	model, provider, agent, channel *Stats
}

func newAggregator(s *Summary, buckets, recent int) *aggregator {
	a := &aggregator{s: s, fine: map[string]*fine{}, models: map[string]*Stats{}, providers: map[string]*Stats{},
		agents: map[string]*Stats{}, channels: map[string]*Stats{}, days: map[int64]*Stats{},
		series: make([]Point, buckets), seriesCost: make([]float64, buckets), seriesPriced: make([]bool, buckets),
		maxRecent: recent}
	for i := range a.series {
		a.series[i].Start = s.Since + int64(i)*s.BucketMS
	}
	return a
}

// call is one scanned row, unpacked.
type call struct {
	at                                 int64
	failed                             bool
	prompt, completion, cacheR, cacheW int64
	latency, ttft                      int64 // -1: NULL
	cost                               sql.NullFloat64
	errType                            sql.NullString
}

// scanTraces adds the calls in [from, to).
func (a *aggregator) scanTraces(ctx context.Context, q *sql.DB, from, to int64, guarded bool) error {
	query := summarySQL
	if guarded {
		query = summarySQLGuarded
	}
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
	for rows.Next() {
		if err := rows.Scan(&names, &at, &tok, &cache, &tm, &c.cost, &c.errType); err != nil {
			return fmt.Errorf("summary scan: %w", err)
		}
		c.at, c.failed = at>>1, at&1 == 1
		c.prompt, c.completion = tok>>32, tok&low31
		c.cacheR, c.cacheW = cache>>32, cache&low31
		c.latency, c.ttft = tm>>32-1, tm&low31-1
		f := a.fine[string(names)] // no allocation for the lookup
		if f == nil {
			f = a.newFine(string(names))
		}
		a.add(f, &c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("summary query: %w", err)
	}
	return nil
}

func (a *aggregator) newFine(names string) *fine {
	parts := strings.SplitN(names, nameSep, 4)
	for len(parts) < 4 {
		parts = append(parts, "")
	}
	f := &fine{modelName: parts[1],
		model:    group(a.models, parts[0]+nameSep+parts[1], parts[1], parts[0]),
		provider: group(a.providers, parts[0], parts[0], ""),
		agent:    group(a.agents, parts[2], parts[2], ""),
		channel:  group(a.channels, parts[3], parts[3], ""),
	}
	a.fine[names] = f
	return f
}

func group[K comparable](m map[K]*Stats, k K, key, provider string) *Stats {
	st := m[k]
	if st == nil {
		st = &Stats{Key: key, Provider: provider}
		m[k] = st
	}
	return st
}

func (a *aggregator) add(f *fine, c *call) {
	failed := c.failed
	for _, st := range [...]*Stats{&a.totals, f.model, f.provider, f.agent, f.channel, group(a.days, c.at/dayMS, "", "")} {
		st.Calls++
		if failed {
			st.Errors++
		}
		st.PromptTokens += c.prompt
		st.CompletionTokens += c.completion
		st.CacheReadTokens += c.cacheR
		st.CacheWriteTokens += c.cacheW
		if c.cost.Valid {
			st.PricedCalls++
			st.cost += c.cost.Float64
		} else {
			st.UnpricedCalls++
		}
		st.latency.add(c.latency) // -1 (NULL) is skipped
		st.ttft.add(c.ttft)
	}
	if i := (c.at - a.s.Since) / a.s.BucketMS; i >= 0 && int(i) < len(a.series) {
		p := &a.series[i]
		p.Calls++
		if failed {
			p.Errors++
		}
		if c.cost.Valid {
			a.seriesCost[i] += c.cost.Float64
			a.seriesPriced[i] = true
		} else {
			p.Unpriced++
		}
	}
	if failed {
		a.addRecent(RecentError{At: c.at, Kind: "trace", Type: "failed", Model: f.modelName, Message: c.errType.String})
	}
}

// addRecent keeps the newest maxRecent errors, newest first.
func (a *aggregator) addRecent(e RecentError) {
	if len(a.recent) == a.maxRecent && e.At <= a.recent[len(a.recent)-1].At {
		return
	}
	i, _ := slices.BinarySearchFunc(a.recent, e.At, func(r RecentError, at int64) int {
		switch {
		case r.At > at:
			return -1
		case r.At < at:
			return 1
		}
		return 0
	})
	a.recent = slices.Insert(a.recent, i, e)
	if len(a.recent) > a.maxRecent {
		a.recent = a.recent[:a.maxRecent]
	}
}

func (a *aggregator) scanErrors(ctx context.Context, q *sql.DB) error {
	rows, err := q.QueryContext(ctx, `SELECT error_type, count(*) FROM error_events
		WHERE created_at >= ? AND created_at < ? GROUP BY error_type`, a.s.Since, a.s.Until)
	if err != nil {
		return fmt.Errorf("summary errors: %w", err)
	}
	for rows.Next() {
		var typ string
		var n int64
		if err := rows.Scan(&typ, &n); err != nil {
			rows.Close()
			return fmt.Errorf("summary errors: %w", err)
		}
		a.s.ErrorEvents[typ] = n
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT created_at, error_type, coalesce(code, ''), message FROM error_events
		WHERE created_at >= ? AND created_at < ? ORDER BY created_at DESC LIMIT ?`, a.s.Since, a.s.Until, a.maxRecent)
	if err != nil {
		return fmt.Errorf("summary recent errors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e := RecentError{Kind: "error"}
		if err := rows.Scan(&e.At, &e.Type, &e.Code, &e.Message); err != nil {
			return fmt.Errorf("summary recent errors: %w", err)
		}
		a.addRecent(e)
	}
	return rows.Err()
}

// nanoRound rounds a sum of costs to a billionth of a dollar: float
// addition is not associative, and the same calls summed in another order
// (another split of the window) must show the same total.
func nanoRound(usd float64) float64 { return math.Round(usd*1e9) / 1e9 }
