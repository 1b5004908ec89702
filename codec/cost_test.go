package codec

import (
	"fmt"
	"math"
	"testing"

	"github.com/openclaw/openclaw-trace/codec/price"
)

func TestParserPricesTraces(t *testing.T) {
	prices, err := price.NewLazy([]byte(`{"version":"site-1","models":[{"provider":"ollama","model":"llama3","input_mtok":1,"output_mtok":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	tableVersion := func() string { tb, _ := prices.Table(); return tb.Version }
	tests := []struct {
		name        string
		in          map[string]any
		wantSource  string
		wantCost    *float64
		wantVersion string
	}{
		{"supplied wins", obj("provider", "openai", "model", "gpt-4o", "prompt_tokens", int64(1000), "cost_usd", 0.5),
			CostSupplied, ptr(0.5), ""},
		{"supplied zero wins", obj("provider", "openai", "model", "gpt-4o", "prompt_tokens", int64(1000), "cost_usd", 0.0),
			CostSupplied, ptr(0.0), ""},
		{"table, cached tokens once", obj("provider", "openai", "model", "openai/gpt-4o", "prompt_tokens", int64(1000),
			"cache_read_tokens", int64(400), "completion_tokens", int64(100)),
			CostTable, ptr((600*2.5 + 400*1.25 + 100*10) / 1e6), tableVersion()},
		{"override", obj("provider", "ollama", "model", "llama3", "prompt_tokens", 1e6, "completion_tokens", 1e6),
			CostTable, ptr(3.0), "site-1"},
		{"unknown model", obj("provider", "ollama", "model", "mistral-7b", "prompt_tokens", int64(10)), CostUnpriced, nil, ""},
		{"no token counts", obj("provider", "openai", "model", "gpt-4o"), CostUnpriced, nil, ""},
	}
	for _, tt := range tests {
		p := &Parser{Now: NewParser().Now, Prices: prices, Unpriced: &Unpriced{}}
		tr, ferr := p.Trace(tt.in)
		if ferr != nil {
			t.Fatalf("%s: %v", tt.name, ferr)
		}
		gotV := ""
		if tr.PriceVersion != nil {
			gotV = *tr.PriceVersion
		}
		if tr.CostSource != tt.wantSource || gotV != tt.wantVersion ||
			(tr.CostUSD == nil) != (tt.wantCost == nil) || (tr.CostUSD != nil && math.Abs(*tr.CostUSD-*tt.wantCost) > 1e-12) {
			t.Errorf("%s: source %q cost %v version %q; want %q %v %q", tt.name, tr.CostSource, fmtp(tr.CostUSD), gotV,
				tt.wantSource, fmtp(tt.wantCost), tt.wantVersion)
		}
		wantCounted := 0
		if tt.wantSource == CostUnpriced {
			wantCounted = 1
		}
		if got := len(p.Unpriced.Counts()); got != wantCounted {
			t.Errorf("%s: %d unpriced counts, want %d", tt.name, got, wantCounted)
		}
	}
}

func fmtp(f *float64) string {
	if f == nil {
		return "NULL"
	}
	return fmt.Sprint(*f)
}

func TestUnpricedCountsBounded(t *testing.T) {
	var u Unpriced
	for i := range MaxUnpricedModels + 50 {
		u.Add("p", fmt.Sprintf("m%03d", i))
	}
	u.Add("p", "m000")
	c := u.Counts()
	if len(c) != MaxUnpricedModels+1 {
		t.Fatalf("%d entries, want %d", len(c), MaxUnpricedModels+1)
	}
	want := map[string]int64{"p/m000": 2, "other/other": 50}
	for _, e := range c {
		if w, ok := want[e.Provider+"/"+e.Model]; ok && e.Count != w {
			t.Errorf("%s/%s = %d, want %d", e.Provider, e.Model, e.Count, w)
		}
	}
	var nilU *Unpriced
	nilU.Add("p", "m") // a nil counter counts nothing and does not panic
	if nilU.Counts() != nil {
		t.Error("nil counter has counts")
	}
}

// A failed call that reports no usage has unknown tokens and cost, stored
// NULL as no_usage: OpenClaw writes a zero usage object (and cost 0) on a
// failed call, which must not read as a priced $0. Usage on a failed call,
// and a zero usage on a call that succeeded, keep their numbers.
func TestParserNoUsage(t *testing.T) {
	prices, err := price.NewLazy(nil)
	if err != nil {
		t.Fatal(err)
	}
	zeros := []any{"prompt_tokens", int64(0), "completion_tokens", int64(0), "cache_read_tokens", int64(0), "cache_write_tokens", int64(0), "total_tokens", int64(0)}
	kv := func(kv ...any) map[string]any {
		return obj(append([]any{"provider", "openai", "model", "gpt-4o"}, kv...)...)
	}
	tests := []struct {
		name       string
		in         map[string]any
		wantSource string
		wantCost   *float64
		wantPrompt *int64
		unpriced   int
	}{
		{"error, zero usage, cost 0 (OpenClaw)", kv(append([]any{"status", "error", "cost_usd", 0.0}, zeros...)...), CostNoUsage, nil, nil, 0},
		{"error, zero usage, no cost", kv(append([]any{"status", "error"}, zeros...)...), CostNoUsage, nil, nil, 0},
		{"timeout, nothing at all", kv("status", "timeout"), CostNoUsage, nil, nil, 0},
		{"error with tokens billed", kv("status", "error", "prompt_tokens", int64(120), "completion_tokens", int64(0)), CostTable, ptr(120 * 2.5 / 1e6), ptr(int64(120)), 0},
		{"error with a cost billed", kv(append([]any{"status", "error", "cost_usd", 0.002}, zeros...)...), CostSupplied, ptr(0.002), ptr(int64(0)), 0},
		{"ok, zero usage, cost 0", kv(append([]any{"cost_usd", 0.0}, zeros...)...), CostSupplied, ptr(0.0), ptr(int64(0)), 0},
		{"ok, nothing at all", kv(), CostUnpriced, nil, nil, 1},
	}
	for _, tt := range tests {
		p := &Parser{Now: NewParser().Now, Prices: prices, Unpriced: &Unpriced{}}
		tr, ferr := p.Trace(tt.in)
		if ferr != nil {
			t.Fatalf("%s: %v", tt.name, ferr)
		}
		if tr.CostSource != tt.wantSource || fmtp(tr.CostUSD) != fmtp(tt.wantCost) || fmtn(tr.PromptTokens) != fmtn(tt.wantPrompt) {
			t.Errorf("%s: source %q cost %s prompt %s; want %q %s %s", tt.name, tr.CostSource, fmtp(tr.CostUSD), fmtn(tr.PromptTokens),
				tt.wantSource, fmtp(tt.wantCost), fmtn(tt.wantPrompt))
		}
		if tt.wantSource == CostNoUsage {
			for _, n := range []*int64{tr.PromptTokens, tr.CompletionTokens, tr.TotalTokens, tr.CacheReadTokens, tr.CacheWriteTokens, tr.ReasoningTokens} {
				if n != nil {
					t.Errorf("%s: a token count is %d, want NULL", tt.name, *n)
				}
			}
		}
		if got := len(p.Unpriced.Counts()); got != tt.unpriced {
			t.Errorf("%s: %d unpriced counts, want %d", tt.name, got, tt.unpriced)
		}
	}
}

// Costs are stored at 1e-9 USD, supplied or from the table: float noise
// is not stored.
func TestParserRoundsCosts(t *testing.T) {
	prices, err := price.NewLazy([]byte(`{"version":"site-1","models":[{"provider":"mock","model":"m1","input_mtok":3,"output_mtok":15,"cache_read_mtok":0.3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"supplied noise", obj("provider", "p", "model", "m", "cost_usd", 0.004097699999999999), "0.0040977"},
		{"supplied below a nano-dollar", obj("provider", "p", "model", "m", "cost_usd", 4e-10), "0"},
		{"supplied half a nano-dollar up", obj("provider", "p", "model", "m", "cost_usd", 1.5e-9), "2e-09"},
		{"supplied large", obj("provider", "p", "model", "m", "cost_usd", 1234.5678901234), "1234.567890123"},
		// 801*3 + 200*0.3 + 101*15 = 3978 (µ$): 0.003978000000000001 in float64 arithmetic
		{"table noise", obj("provider", "mock", "model", "m1", "prompt_tokens", int64(1001), "cache_read_tokens", int64(200), "completion_tokens", int64(101)), "0.003978"},
	}
	for _, tt := range tests {
		p := &Parser{Now: NewParser().Now, Prices: prices}
		tr, ferr := p.Trace(tt.in)
		if ferr != nil {
			t.Fatalf("%s: %v", tt.name, ferr)
		}
		if got := fmtp(tr.CostUSD); got != tt.want {
			t.Errorf("%s: cost %s, want %s", tt.name, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want float64 }{{0.1 + 0.2, 0.3}, {1e300, 1e300}, {-0.004097699999999999, -0.0040977}} {
		if got := RoundUSD(tt.in); got != tt.want {
			t.Errorf("RoundUSD(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func fmtn(n *int64) string {
	if n == nil {
		return "NULL"
	}
	return fmt.Sprint(*n)
}
