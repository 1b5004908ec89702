package main

import (
	"os"

	"github.com/openclaw/openclaw-trace/codec/price"
	llmusage "github.com/openclaw/openclaw-trace/metrics/usage" // a test helper is named usage
)

// loadPrices returns the embedded price table plus the OCT_PRICES_FILE
// overrides at path ("" for none). The table itself is parsed on the
// first trace that needs it; the file is read and checked now.
func loadPrices(path string) (*price.Lazy, error) {
	if path == "" {
		return price.NewLazy(nil)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return price.NewLazy(b)
}

// costFamily is the unpriced-trace counts, one sample per provider and
// model (at most codec.MaxUnpricedModels, then "other").
func (m *Main) costFamily() *family {
	f := &family{name: "traces_unpriced_total", typ: counter,
		help: "Traces parsed with no cost_usd and no price in the table or OCT_PRICES_FILE (cost stays NULL), by provider and model; counted when parsed, so one later dropped is counted too."}
	for _, c := range m.Unpriced.Counts() {
		f.add(llmusage.Labels("provider", c.Provider, "model", c.Model), c.Count)
	}
	return f
}
