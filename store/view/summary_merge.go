package view

import (
	"slices"
	"time"
)

// finish computes rates, costs and percentiles and sorts the groups.
func (a *aggregator) finish() {
	a.s.Totals = a.totals
	a.s.Totals.Key = "total"
	a.s.Totals.finish()
	a.s.ByModel = collect(a.models)
	a.s.ByProvider = collect(a.providers)
	a.s.ByAgent = collect(a.agents)
	a.s.ByChannel = collect(a.channels)
	days := make([]int64, 0, len(a.days))
	for d := range a.days {
		days = append(days, d)
	}
	slices.Sort(days)
	a.s.ByDay = make([]Stats, 0, len(days))
	for _, d := range days {
		st := a.days[d]
		st.Key = time.UnixMilli(d * dayMS).UTC().Format(time.DateOnly)
		st.finish()
		a.s.ByDay = append(a.s.ByDay, *st)
	}
	for i := range a.series {
		if a.seriesPriced[i] {
			c := nanoRound(a.seriesCost[i])
			a.series[i].CostUSD = &c
		}
	}
	a.s.Series = a.series
	a.s.RecentErrors = a.recent
	if a.s.RecentErrors == nil {
		a.s.RecentErrors = []RecentError{}
	}
}

func collect[K comparable](m map[K]*Stats) []Stats {
	out := make([]Stats, 0, len(m))
	for _, st := range m {
		st.finish()
		out = append(out, *st)
	}
	sortStats(out)
	return out
}

func (st *Stats) finish() {
	if st.Calls > 0 {
		st.ErrorRate = float64(st.Errors) / float64(st.Calls)
	}
	if st.PricedCalls > 0 {
		c := nanoRound(st.cost)
		st.CostUSD = &c
	}
	st.LatencyP50MS, st.LatencyP95MS, st.LatencyP99MS = st.latency.quantile(0.5), st.latency.quantile(0.95), st.latency.quantile(0.99)
	st.TTFTP50MS = st.ttft.quantile(0.5)
}

// merge adds b's calls to a; both cover parts of the same window.
func (a *aggregator) merge(b *aggregator) {
	a.totals.merge(&b.totals)
	for _, m := range [...][2]map[string]*Stats{{a.models, b.models}, {a.providers, b.providers},
		{a.agents, b.agents}, {a.channels, b.channels}} {
		for k, st := range m[1] {
			group(m[0], k, st.Key, st.Provider).merge(st)
		}
	}
	for k, st := range b.days {
		group(a.days, k, "", "").merge(st)
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
}

func (st *Stats) merge(o *Stats) {
	st.Calls += o.Calls
	st.Errors += o.Errors
	st.PromptTokens += o.PromptTokens
	st.CompletionTokens += o.CompletionTokens
	st.CacheReadTokens += o.CacheReadTokens
	st.CacheWriteTokens += o.CacheWriteTokens
	st.PricedCalls += o.PricedCalls
	st.UnpricedCalls += o.UnpricedCalls
	st.cost += o.cost
	st.latency.merge(&o.latency)
	st.ttft.merge(&o.ttft)
}
