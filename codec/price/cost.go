package price

// Prices are USD per million tokens; a nil Rate is not priced apart.
type Prices struct {
	Input      *Rate // uncached prompt tokens
	CacheRead  *Rate // nil: cache reads cost Input
	CacheWrite *Rate // nil: cache writes cost Input
	Output     *Rate
	Reasoning  *Rate // nil: reasoning tokens are output tokens
}

// Rate is a price per million tokens, with optional tiers chosen by the
// call's whole prompt size, as genai-prices applies them (the tier's price
// then holds for every token of that part).
type Rate struct {
	Base  float64
	Tiers []Tier // ascending Above
}

// Tier applies when the prompt has more than Above tokens.
type Tier struct {
	Above   int64
	PerMTok float64
}

func (r *Rate) perMTok(prompt int64) float64 {
	p := r.Base
	for _, t := range r.Tiers {
		if prompt > t.Above {
			p = t.PerMTok
		}
	}
	return p
}

// Usage is the token counts of one call, as wire protocol v1 has them:
// Prompt INCLUDES CacheRead and CacheWrite (OpenTelemetry GenAI semantics),
// Completion includes Reasoning.
type Usage struct {
	Prompt, Completion, CacheRead, CacheWrite, Reasoning int64
}

// Cost prices u. Cached tokens are charged once, at their cache rate: the
// uncached input is Prompt - CacheRead - CacheWrite (never below 0, so a
// client that reports cache counts outside the prompt is not charged them
// twice either).
func (p *Prices) Cost(u Usage) float64 {
	rate := func(r, fallback *Rate) float64 {
		if r == nil {
			r = fallback
		}
		if r == nil {
			return 0
		}
		return r.perMTok(u.Prompt)
	}
	uncached := max(u.Prompt-u.CacheRead-u.CacheWrite, 0)
	output, reasoning := u.Completion, int64(0)
	if p.Reasoning != nil {
		reasoning = min(u.Reasoning, u.Completion)
		output -= reasoning
	}
	usd := float64(uncached)*rate(p.Input, nil) +
		float64(u.CacheRead)*rate(p.CacheRead, p.Input) +
		float64(u.CacheWrite)*rate(p.CacheWrite, p.Input) +
		float64(output)*rate(p.Output, nil) +
		float64(reasoning)*rate(p.Reasoning, nil)
	return usd / 1e6
}

// Cost looks up provider and model and prices u; ok is false when the
// model is unpriced. version is the table version that held the price.
func (t *Table) Cost(provider, model string, u Usage) (usd float64, version string, ok bool) {
	m := t.Lookup(provider, model)
	if m == nil {
		return 0, "", false
	}
	return m.Prices.Cost(u), m.Version, true
}
