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
