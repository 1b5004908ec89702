package view

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// The summary is what `openclaw-trace report` prints and what GET
// /v1/summary (the dashboard's data) answers: the calls of a time window,
// from raw rows where they are kept and from daily rollups before that,
// aggregated here. Costs are sums over the calls that have one; unpriced
// calls (cost_usd NULL) are counted, never added as $0. "errors" are
// failed calls (status error or timeout) everywhere; error events (table
// error_events) are counted apart.

// SummaryOptions choose the window and the detail of a summary.
type SummaryOptions struct {
	Since, Until time.Time // window [Since, Until)
	Buckets      int       // points in the time series; 0: DefaultSummaryBuckets
	RecentErrors int       // failed calls and error events listed; 0: DefaultRecentErrors
	TopSessions  int       // sessions listed, by cost; 0: DefaultTopSessions
}

// Defaults of SummaryOptions.
const (
	DefaultSummaryBuckets = 24
	DefaultRecentErrors   = 10
	DefaultTopSessions    = 10
)

// Summary is the aggregate of the calls in a window.
type Summary struct {
	Since        int64            `json:"since"` // unix ms, inclusive
	Until        int64            `json:"until"` // unix ms, exclusive
	Totals       Stats            `json:"totals"`
	ByModel      []Stats          `json:"by_model"`
	ByProvider   []Stats          `json:"by_provider"`
	ByAgent      []Stats          `json:"by_agent"`   // "" when the call named none
	ByChannel    []Stats          `json:"by_channel"` // "" when the call named none
	ByTrigger    []Stats          `json:"by_trigger"` // "" when the call named none
	ByCron       []Stats          `json:"by_cron"`    // cron jobs; "" for calls of none
	TopSessions  []Stats          `json:"top_sessions"`
	ByDay        []Stats          `json:"by_day"` // dates in Coverage.Zone, oldest first
	IdleBurn     IdleBurn         `json:"idle_burn"`
	BucketMS     int64            `json:"bucket_ms"`
	Series       []Point          `json:"series"`
	ErrorEvents  map[string]int64 `json:"error_events"`  // error_events rows in the window by error_type
	RecentErrors []RecentError    `json:"recent_errors"` // newest first
	Backlog      Backlog          `json:"backlog"`
	Coverage     Coverage         `json:"coverage"`
}

// Stats aggregates the calls of one group (a model, a provider, …).
type Stats struct {
	Key string `json:"key"`
	// Keys names the group by dimension, in a breakdown (a model's has
	// "model" and "provider").
	Keys             map[string]string `json:"keys,omitempty"`
	Provider         string            `json:"provider,omitempty"` // set in ByModel
	Calls            int64             `json:"calls"`
	Errors           int64             `json:"errors"` // failed calls: status error or timeout
	ErrorRate        float64           `json:"error_rate"`
	PromptTokens     int64             `json:"prompt_tokens"` // includes cache reads and writes
	CompletionTokens int64             `json:"completion_tokens"`
	CacheReadTokens  int64             `json:"cache_read_tokens"`
	CacheWriteTokens int64             `json:"cache_write_tokens"`
	ReasoningTokens  int64             `json:"reasoning_tokens"`
	CostUSD          *float64          `json:"cost_usd"` // of the priced calls; null when none is priced
	PricedCalls      int64             `json:"priced_calls"`
	UnpricedCalls    int64             `json:"unpriced_calls"`
	LatencyP50MS     *float64          `json:"latency_p50_ms"`
	LatencyP95MS     *float64          `json:"latency_p95_ms"`
	LatencyP99MS     *float64          `json:"latency_p99_ms"`
	TTFTP50MS        *float64          `json:"ttft_p50_ms"`

	latency, ttft hist
	costNanos     int64
	vals          []string // the key's names, in the grouping's order
	period        string   // the day or hour label, when the grouping has one
}

// Point is one bucket of the time series.
type Point struct {
	Start    int64    `json:"start"` // unix ms
	Calls    int64    `json:"calls"`
	Errors   int64    `json:"errors"`
	CostUSD  *float64 `json:"cost_usd"`
	Unpriced int64    `json:"unpriced_calls"`
}

// RecentError is a failed call or an error event.
type RecentError struct {
	At      int64  `json:"at"`
	Kind    string `json:"kind"` // "trace" (a failed call) or "error" (an error event)
	Type    string `json:"type"` // trace: "failed"; error: error_type
	Code    string `json:"code,omitempty"`
	Model   string `json:"model,omitempty"`
	Message string `json:"message"` // trace: error_type, else status
}

// Summary aggregates the calls in opts' window (see Summary).
func (v *View) Summary(ctx context.Context, opts SummaryOptions) (*Summary, error) {
	if !opts.Since.Before(opts.Until) {
		return nil, errors.New("summary: since must be before until")
	}
	st, err := v.state(ctx)
	if err != nil {
		return nil, err
	}
	s := &Summary{Since: opts.Since.UnixMilli(), Until: opts.Until.UnixMilli()}
	n := cmp(opts.Buckets, DefaultSummaryBuckets)
	s.BucketMS = max((s.Until-s.Since+int64(n)-1)/int64(n), 1)
	w := &window{since: s.Since, until: s.Until, bucketMS: s.BucketMS, loc: st.loc}
	p := st.plan(s.Since, s.Until, false) // raw rows wherever they are: sessions, errors and the series need them
	s.Coverage = st.coverage(p)
	groupings := [][]Dim{{DimModel}, {DimProvider}, {DimAgent}, {DimChannel}, {DimTrigger}, {DimCron}, {DimSession}, {DimDay}}
	recent := cmp(opts.RecentErrors, DefaultRecentErrors)
	agg, err := v.aggregate(ctx, st, p, w, groupings, n, recent, func(a *aggregator) {
		a.groupings[6].skipRollups = true // rollups know no session
	})
	if err != nil {
		return nil, err
	}
	// Error events are not rolled up: those of the window still stored.
	if s.ErrorEvents, err = agg.scanErrors(ctx, v.db, s.Since, s.Until); err != nil {
		return nil, err
	}
	agg.finishSummary(s, cmp(opts.TopSessions, DefaultTopSessions))
	if err := v.backlog(ctx, &s.Backlog); err != nil {
		return nil, err
	}
	return s, nil
}

// aggregate scans the plan's raw rows in Workers slices and its rollup
// days, and returns one aggregator holding them all. setup adjusts each
// new aggregator.
func (v *View) aggregate(ctx context.Context, st *state, p plan, w *window, groupings [][]Dim, buckets, recent int,
	setup func(*aggregator)) (*aggregator, error) {
	newAgg := func() *aggregator {
		a := newAggregator(w, groupings, buckets, recent)
		if setup != nil {
			setup(a)
		}
		return a
	}
	agg := newAgg()
	for _, r := range p.rawRanges() {
		if err := v.scanParallel(ctx, agg, newAgg, scanSQL(agg.parts, st.columns, recent > 0), r[0], r[1]); err != nil {
			return nil, err
		}
	}
	if p.rollFrom != "" {
		if err := agg.scanRollups(ctx, v.db, p.rollFrom, p.rollTo); err != nil {
			return nil, err
		}
	}
	return agg, nil
}

// scanParallel scans [since, until) in Workers slices of the calls' own
// span (not of the window: a week of calls asked for with --since 300d
// would otherwise all fall in one slice) and merges them into agg.
func (v *View) scanParallel(ctx context.Context, agg *aggregator, newAgg func() *aggregator, query string, since, until int64) error {
	first, last, err := v.callSpan(ctx, since, until)
	if err != nil {
		return err
	}
	workers := max(v.Workers, 1)
	aggs := make([]*aggregator, workers)
	aggs[0] = agg
	errs := make([]error, workers)
	span := last + 1 - first
	done := make(chan int, workers)
	for i := range aggs {
		if i > 0 {
			aggs[i] = newAgg()
		}
		from, to := first+span*int64(i)/int64(workers), first+span*int64(i+1)/int64(workers)
		go func() { errs[i] = aggs[i].scanTraces(ctx, v.db, query, from, to); done <- i }()
	}
	for range aggs {
		<-done
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, b := range aggs[1:] {
		agg.merge(b)
	}
	return nil
}

// callSpan returns the first and last created_at of the calls in
// [since, until), or since and until-1 when there are none. Each bound is
// one lookup in the created_at index (two queries: SQLite only takes that
// shortcut for a lone min or max).
func (v *View) callSpan(ctx context.Context, since, until int64) (first, last int64, err error) {
	q := "SELECT %s(created_at) FROM " + codec.LLMTraces.Name + " WHERE created_at >= ? AND created_at < ?"
	var lo, hi *int64
	if err := v.db.QueryRowContext(ctx, fmt.Sprintf(q, "min"), since, until).Scan(&lo); err != nil {
		return 0, 0, fmt.Errorf("summary span: %w", err)
	}
	if err := v.db.QueryRowContext(ctx, fmt.Sprintf(q, "max"), since, until).Scan(&hi); err != nil {
		return 0, 0, fmt.Errorf("summary span: %w", err)
	}
	if lo == nil || hi == nil {
		return since, until - 1, nil
	}
	return *lo, *hi, nil
}

func cmp(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
