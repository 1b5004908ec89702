package codec

import (
	"math"
	"sort"
	"sync"

	"github.com/openclaw/openclaw-trace/codec/price"
)

// Cost sources stored in llm_traces.cost_source.
const (
	CostSupplied = "supplied" // the client sent cost_usd
	CostTable    = "table"    // priced from the price table (price_version says which)
	CostUnpriced = "unpriced" // no cost_usd and no price: cost_usd stays NULL, never $0
	CostNoUsage  = "no_usage" // a failed call that reported no usage: tokens and cost NULL
)

// Pricer prices one call; *price.Lazy and *price.Table are Pricers.
type Pricer interface {
	Cost(provider, model string, u price.Usage) (usd float64, version string, ok bool)
}

// price sets t's cost: a supplied cost_usd wins, then the price table;
// otherwise the trace is unpriced and counted. A trace without any token
// count is unpriced too: a table price of $0 for it would be a guess.
// A failed call that reports no tokens and no cost (OpenClaw writes a zero
// usage object on a failed call) used nothing anyone can tell: its tokens
// and cost are unknown, stored NULL as no_usage, never a priced $0.
// Costs are rounded to 1e-9 USD, so float noise (0.004097699999999999)
// is not stored and sums of nano-dollars are exact.
func (p *Parser) price(t *Trace) {
	if t.Status != "ok" && noUsage(t) {
		t.PromptTokens, t.CompletionTokens, t.TotalTokens = nil, nil, nil
		t.CacheReadTokens, t.CacheWriteTokens, t.ReasoningTokens = nil, nil, nil
		t.CostUSD, t.CostSource = nil, CostNoUsage
		return
	}
	if t.CostUSD != nil {
		usd := RoundUSD(*t.CostUSD)
		t.CostUSD, t.CostSource = &usd, CostSupplied
		return
	}
	t.CostSource = CostUnpriced
	if p.Prices != nil && (t.PromptTokens != nil || t.CompletionTokens != nil) {
		u := price.Usage{Prompt: val(t.PromptTokens), Completion: val(t.CompletionTokens),
			CacheRead: val(t.CacheReadTokens), CacheWrite: val(t.CacheWriteTokens), Reasoning: val(t.ReasoningTokens)}
		if usd, version, ok := p.Prices.Cost(t.Provider, t.Model, u); ok {
			usd = RoundUSD(usd)
			t.CostUSD, t.CostSource, t.PriceVersion = &usd, CostTable, &version
			return
		}
	}
	p.Unpriced.Add(t.Provider, t.Model)
}

// noUsage reports whether t has no token count above 0 and no cost above 0.
func noUsage(t *Trace) bool {
	for _, n := range []*int64{t.PromptTokens, t.CompletionTokens, t.TotalTokens,
		t.CacheReadTokens, t.CacheWriteTokens, t.ReasoningTokens} {
		if val(n) != 0 {
			return false
		}
	}
	return t.CostUSD == nil || *t.CostUSD == 0
}

// maxRoundUSD is where rounding to 1e-9 stops meaning anything: above it a
// float64's step is already coarser than a nano-dollar.
const maxRoundUSD = 1 << 53 / 1e9

// RoundUSD rounds usd to the nearest 1e-9 USD (a nano-dollar), the
// precision costs are stored and summed at.
func RoundUSD(usd float64) float64 {
	if !(math.Abs(usd) < maxRoundUSD) {
		return usd
	}
	return math.Round(usd*1e9) / 1e9
}

func val(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

// MaxUnpricedModels bounds the models Unpriced counts apart; the rest are
// counted under provider and model "other" (names come from the network).
const MaxUnpricedModels = 100

// Unpriced counts traces that were accepted without a cost, per provider
// and model. The zero value is ready; a nil *Unpriced counts nothing.
type Unpriced struct {
	mu sync.Mutex
	n  map[[2]string]int64
}

// Add counts one unpriced trace of provider and model.
func (u *Unpriced) Add(provider, model string) {
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n == nil {
		u.n = map[[2]string]int64{}
	}
	k := [2]string{provider, model}
	if _, ok := u.n[k]; !ok && len(u.n) >= MaxUnpricedModels {
		k = [2]string{"other", "other"}
	}
	u.n[k]++
}

// UnpricedCount is one provider and model's count.
type UnpricedCount struct {
	Provider, Model string
	Count           int64
}

// Counts returns the counts sorted by provider and model.
func (u *Unpriced) Counts() []UnpricedCount {
	if u == nil {
		return nil
	}
	u.mu.Lock()
	out := make([]UnpricedCount, 0, len(u.n))
	for k, n := range u.n {
		out = append(out, UnpricedCount{k[0], k[1], n})
	}
	u.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		return out[i].Model < out[j].Model
	})
	return out
}
