package view

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// The summary is what `openclaw-trace report` prints and what GET
// /v1/summary (the dashboard's data) answers: one query over llm_traces
// in a time window, aggregated here. Costs are sums of cost_usd over the
// calls that have one; unpriced calls (cost_usd NULL) are counted, never
// added as $0.

// SummaryOptions choose the window and the detail of a summary.
type SummaryOptions struct {
	Since, Until time.Time // window [Since, Until)
	Buckets      int       // points in the time series; 0: DefaultSummaryBuckets
	RecentErrors int       // failed calls and error events listed; 0: DefaultRecentErrors
}

// Defaults of SummaryOptions.
const (
	DefaultSummaryBuckets = 24
	DefaultRecentErrors   = 10
)

// Summary is the aggregate of the calls in a window.
type Summary struct {
	Since        int64            `json:"since"` // unix ms, inclusive
	Until        int64            `json:"until"` // unix ms, exclusive
	Totals       Stats            `json:"totals"`
	ByModel      []Stats          `json:"by_model"`
	ByProvider   []Stats          `json:"by_provider"`
	ByAgent      []Stats          `json:"by_agent"`   // metadata.agent_id; "" when absent
	ByChannel    []Stats          `json:"by_channel"` // metadata.channel; "" when absent
	ByDay        []Stats          `json:"by_day"`     // UTC dates, oldest first
	BucketMS     int64            `json:"bucket_ms"`
	Series       []Point          `json:"series"`
	ErrorEvents  map[string]int64 `json:"error_events"`  // error_events rows in the window by error_type
	RecentErrors []RecentError    `json:"recent_errors"` // newest first
	Backlog      Backlog          `json:"backlog"`
}

// Stats aggregates the calls of one group (a model, a provider, …).
type Stats struct {
	Key              string   `json:"key"`
	Provider         string   `json:"provider,omitempty"` // set in ByModel
	Calls            int64    `json:"calls"`
	Errors           int64    `json:"errors"` // status error or timeout
	ErrorRate        float64  `json:"error_rate"`
	PromptTokens     int64    `json:"prompt_tokens"` // includes cache reads and writes
	CompletionTokens int64    `json:"completion_tokens"`
	CacheReadTokens  int64    `json:"cache_read_tokens"`
	CacheWriteTokens int64    `json:"cache_write_tokens"`
	CostUSD          *float64 `json:"cost_usd"` // of the priced calls; null when none is priced
	PricedCalls      int64    `json:"priced_calls"`
	UnpricedCalls    int64    `json:"unpriced_calls"`
	LatencyP50MS     *float64 `json:"latency_p50_ms"`
	LatencyP95MS     *float64 `json:"latency_p95_ms"`
	LatencyP99MS     *float64 `json:"latency_p99_ms"`
	TTFTP50MS        *float64 `json:"ttft_p50_ms"`

	latency, ttft hist
	cost          float64
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
	Type    string `json:"type"` // trace: status (error, timeout); error: error_type
	Code    string `json:"code,omitempty"`
	Model   string `json:"model,omitempty"`
	Message string `json:"message"`
}

// Backlog is what the sinks have not delivered yet, from the database.
type Backlog struct {
	Unsynced map[string]int64 `json:"unsynced"` // rows with synced = 0, by table
	Total    int64            `json:"total"`
	LastPush *PushInfo        `json:"last_push"` // newest push_log row; null before the first
	// Exports are the rows past each export stream's position (the OTLP
	// exporter's, in sink_positions), by stream and table. A stream that
	// has delivered nothing yet has no position and is not listed.
	Exports map[string]map[string]int64 `json:"exports"`
}

// PushInfo is one push attempt, from push_log.
type PushInfo struct {
	At         int64  `json:"at"`
	Status     string `json:"status"`
	HTTPStatus *int64 `json:"http_status"`
	Rows       int64  `json:"rows"`
	Error      string `json:"error,omitempty"`
}

// Summary aggregates the calls in opts' window (see Summary).
func (v *View) Summary(ctx context.Context, opts SummaryOptions) (*Summary, error) {
	if !opts.Since.Before(opts.Until) {
		return nil, errors.New("summary: since must be before until")
	}
	s := &Summary{Since: opts.Since.UnixMilli(), Until: opts.Until.UnixMilli(), Totals: Stats{Key: "total"},
		ErrorEvents: map[string]int64{}}
	n := opts.Buckets
	if n <= 0 {
		n = DefaultSummaryBuckets
	}
	s.BucketMS = max((s.Until-s.Since+int64(n)-1)/int64(n), 1)
	agg, err := v.scanParallel(ctx, s, n, cmp(opts.RecentErrors, DefaultRecentErrors))
	if err != nil {
		return nil, err
	}
	if err := agg.scanErrors(ctx, v.db); err != nil {
		return nil, err
	}
	agg.finish()
	if err := v.backlog(ctx, &s.Backlog); err != nil {
		return nil, err
	}
	return s, nil
}

// scanParallel scans the window in Workers equal slices of time and
// merges them.
func (v *View) scanParallel(ctx context.Context, s *Summary, buckets, recent int) (*aggregator, error) {
	workers := max(v.Workers, 1)
	aggs := make([]*aggregator, workers)
	// Slices of the calls' own span, not of the window: a week of calls
	// asked for with --since 300d would otherwise all fall in one slice.
	first, last, err := v.callSpan(ctx, s.Since, s.Until)
	if err != nil {
		return nil, err
	}
	span := last + 1 - first
	run := func(guarded bool) error {
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for i := range aggs {
			aggs[i] = newAggregator(s, buckets, recent)
			from, to := first+span*int64(i)/int64(workers), first+span*int64(i+1)/int64(workers)
			wg.Go(func() { errs[i] = aggs[i].scanTraces(ctx, v.db, from, to, guarded) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	err = run(false)
	if err != nil && strings.Contains(err.Error(), "malformed JSON") {
		err = run(true)
	}
	if err != nil {
		return nil, err
	}
	for _, b := range aggs[1:] {
		aggs[0].merge(b)
	}
	return aggs[0], nil
}

// callSpan returns the first and last created_at of the calls in
// [since, until), or since and until-1 when there are none. Each bound is
// one lookup in the created_at index (two queries: SQLite only takes that
// shortcut for a lone min or max).
func (v *View) callSpan(ctx context.Context, since, until int64) (first, last int64, err error) {
	const q = "SELECT %s(created_at) FROM llm_traces WHERE created_at >= ? AND created_at < ?"
	var lo, hi sql.NullInt64
	if err := v.db.QueryRowContext(ctx, fmt.Sprintf(q, "min"), since, until).Scan(&lo); err != nil {
		return 0, 0, fmt.Errorf("summary span: %w", err)
	}
	if err := v.db.QueryRowContext(ctx, fmt.Sprintf(q, "max"), since, until).Scan(&hi); err != nil {
		return 0, 0, fmt.Errorf("summary span: %w", err)
	}
	if !lo.Valid || !hi.Valid {
		return since, until - 1, nil
	}
	return lo.Int64, hi.Int64, nil
}

func cmp(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// sortStats orders groups by cost, then calls, then key: the expensive
// ones first.
func sortStats(st []Stats) {
	slices.SortFunc(st, func(a, b Stats) int {
		// Whole micro-dollars: sums taken in another order (another split
		// across workers) differ in the last bits and must not reorder.
		ac, bc := math.Round(a.cost*1e6), math.Round(b.cost*1e6)
		switch {
		case ac != bc:
			if ac > bc {
				return -1
			}
			return 1
		case a.Calls != b.Calls:
			if a.Calls > b.Calls {
				return -1
			}
			return 1
		case a.Key != b.Key:
			if a.Key < b.Key {
				return -1
			}
			return 1
		}
		if a.Provider < b.Provider {
			return -1
		}
		return 0
	})
}
