package codec

import (
	"sort"
	"sync"

	"github.com/openclaw/openclaw-trace/codec/price"
)

// Cost sources stored in llm_traces.cost_source.
const (
	CostSupplied = "supplied" // the client sent cost_usd
	CostTable    = "table"    // priced from the price table (price_version says which)
	CostUnpriced = "unpriced" // no cost_usd and no price: cost_usd stays NULL, never $0
)

// Pricer prices one call; *price.Lazy and *price.Table are Pricers.
type Pricer interface {
	Cost(provider, model string, u price.Usage) (usd float64, version string, ok bool)
}

// price sets t's cost: a supplied cost_usd wins, then the price table;
// otherwise the trace is unpriced and counted. A trace without any token
// count is unpriced too: a table price of $0 for it would be a guess.
func (p *Parser) price(t *Trace) {
	if t.CostUSD != nil {
		t.CostSource = CostSupplied
		return
	}
	t.CostSource = CostUnpriced
	if p.Prices != nil && (t.PromptTokens != nil || t.CompletionTokens != nil) {
		u := price.Usage{Prompt: val(t.PromptTokens), Completion: val(t.CompletionTokens),
			CacheRead: val(t.CacheReadTokens), CacheWrite: val(t.CacheWriteTokens), Reasoning: val(t.ReasoningTokens)}
		if usd, version, ok := p.Prices.Cost(t.Provider, t.Model, u); ok {
			t.CostUSD, t.CostSource, t.PriceVersion = &usd, CostTable, &version
			return
		}
	}
	p.Unpriced.Add(t.Provider, t.Model)
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
