package main

import (
	"io"
	"os"
	"strings"

	"github.com/openclaw/openclaw-trace/codec/price"
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

// writeCostMetrics adds the unpriced-trace counts to /metrics, one sample
// per provider and model (at most codec.MaxUnpricedModels, then "other").
func (m *Main) writeCostMetrics(w io.Writer) {
	f := &family{name: "traces_unpriced_total", typ: "counter",
		help: "Traces parsed with no cost_usd and no price in the table or OCT_PRICES_FILE (cost stays NULL), by provider and model; counted when parsed, so one later dropped is counted too."}
	for _, c := range m.Unpriced.Counts() {
		f.add("{provider="+promLabel(c.Provider)+",model="+promLabel(c.Model)+"}", c.Count)
	}
	f.write(w)
}

var promEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// promLabel quotes a label value for the Prometheus text format, whose
// only escapes are \\, \" and \n: Go's %q would write \t or \x01 for a
// model name from the network, and one bad escape fails the whole scrape.
func promLabel(s string) string {
	return `"` + promEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD")) + `"`
}
