package view

import (
	"math"
	"slices"
	"strings"
)

// merge adds b's calls to a; both cover parts of the same window and have
// the same groupings.
func (a *aggregator) merge(b *aggregator) {
	a.totals.merge(&b.totals)
	for i, g := range b.groupings {
		dst := a.groupings[i].m
		for k, st := range g.m {
			if d := dst[k]; d != nil {
				d.merge(st)
			} else {
				dst[k] = st
			}
		}
	}
	for i := range a.series {
		a.series[i].Calls += b.series[i].Calls
		a.series[i].Errors += b.series[i].Errors
		a.series[i].Unpriced += b.series[i].Unpriced
		a.seriesCost[i] += b.seriesCost[i]
		a.seriesPriced[i] = a.seriesPriced[i] || b.seriesPriced[i]
	}
	for _, e := range b.recent {
		a.addRecent(e)
	}
	// b's fines point into groups a now holds or has merged: a's own fines
	// stay valid; b is done.
}

func (st *Stats) merge(o *Stats) {
	st.Calls += o.Calls
	st.Errors += o.Errors
	st.PromptTokens += o.PromptTokens
	st.CompletionTokens += o.CompletionTokens
	st.CacheReadTokens += o.CacheReadTokens
	st.CacheWriteTokens += o.CacheWriteTokens
	st.ReasoningTokens += o.ReasoningTokens
	st.PricedCalls += o.PricedCalls
	st.UnpricedCalls += o.UnpricedCalls
	st.costNanos += o.costNanos
	st.latency.merge(&o.latency)
	st.ttft.merge(&o.ttft)
}

// finishSummary fills s from the aggregator's groupings (in Summary's
// order of them).
func (a *aggregator) finishSummary(s *Summary, topSessions int) {
	s.Totals = a.totals
	s.Totals.Key = "total"
	s.Totals.finish()
	lists := []*[]Stats{&s.ByModel, &s.ByProvider, &s.ByAgent, &s.ByChannel, &s.ByTrigger, &s.ByCron, &s.TopSessions, &s.ByDay}
	for i, g := range a.groupings {
		*lists[i] = g.collect()
	}
	s.TopSessions = slices.DeleteFunc(s.TopSessions, func(st Stats) bool { return st.Key == "" }) // no session is not one
	if len(s.TopSessions) > topSessions {
		s.TopSessions = s.TopSessions[:topSessions]
	}
	s.IdleBurn = idleBurn(s.ByTrigger, &s.Totals)
	s.Series = a.finishSeries()
	s.RecentErrors = a.recent
	if s.RecentErrors == nil {
		s.RecentErrors = []RecentError{}
	}
}

func (a *aggregator) finishSeries() []Point {
	for i := range a.series {
		if a.seriesPriced[i] {
			c := usd(a.seriesCost[i])
			a.series[i].CostUSD = &c
		}
	}
	if a.series == nil {
		return []Point{}
	}
	return a.series
}

// collect returns g's groups, finished and sorted: by period (oldest
// first) when g has one, then the expensive ones first.
func (g *grouping) collect() []Stats {
	out := make([]Stats, 0, len(g.m))
	for _, st := range g.m {
		g.label(st)
		st.finish()
		out = append(out, *st)
	}
	sortStats(out)
	if g.period != numDims {
		slices.SortStableFunc(out, func(a, b Stats) int { return strings.Compare(a.period, b.period) })
	}
	return out
}

// label names st: Key is its one name (a model's, with Provider beside
// it), or its names joined with " / "; Keys names each by dimension when
// g.keys is set.
func (g *grouping) label(st *Stats) {
	var names []string
	v := st.vals
	if g.keys {
		st.Keys = map[string]string{}
	}
	for _, d := range g.dims {
		if d == DimModel {
			st.Provider, v = v[0], v[1:]
			if g.keys {
				st.Keys["provider"] = st.Provider
			}
		}
		names = append(names, v[0])
		if g.keys {
			st.Keys[d.String()] = v[0]
		}
		v = v[1:]
	}
	st.Key = strings.Join(names, " / ")
}

func (st *Stats) finish() {
	if st.Calls > 0 {
		st.ErrorRate = float64(st.Errors) / float64(st.Calls)
	}
	if st.PricedCalls > 0 {
		c := usd(st.costNanos)
		st.CostUSD = &c
	}
	st.LatencyP50MS, st.LatencyP95MS, st.LatencyP99MS = st.latency.quantile(0.5), st.latency.quantile(0.95), st.latency.quantile(0.99)
	st.TTFTP50MS = st.ttft.quantile(0.5)
}

// usd is nano-dollars as dollars.
func usd(nanos int64) float64 { return float64(nanos) / 1e9 }

// sortStats orders groups by cost, then calls, then key: the expensive
// ones first.
func sortStats(st []Stats) {
	slices.SortFunc(st, func(a, b Stats) int {
		// Whole micro-dollars, as shown: groups that look equal order by
		// calls.
		ac, bc := math.Round(float64(a.costNanos)/1e3), math.Round(float64(b.costNanos)/1e3)
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
		return strings.Compare(a.Provider, b.Provider)
	})
}
