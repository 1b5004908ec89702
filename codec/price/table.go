// Package price knows what an LLM call costs: an embedded, versioned price
// table (generated from @pydantic/genai-prices, see README.md) plus
// optional overrides, looked up by provider and model with the
// normalisations real names need. It is pure: it takes a provider, a model
// and token counts and knows nothing of the pipeline.
package price

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

//go:embed prices.json.gz
var embedded []byte

// Table is a price table. It is safe for concurrent use.
type Table struct {
	// Version names the embedded data (e.g. "genai-prices-0.1.8"); each
	// model carries the version of the table that priced it.
	Version   string
	Package   string // npm package and version the data came from
	Generated string // date the embedded file was generated

	data
	cache sync.Map // lookup key -> *Model (nil: unpriced); see Lookup
	// cached counts entries in cache, bounded by maxCached.
	cachedMu sync.Mutex
	cached   int
}

// data is what a Table looks prices up in.
type data struct {
	providers []*provider
	byID      map[string]*provider
	overrides map[string]*Model // key: provider "\x00" model ("*" = any model)
}

// maxCached bounds the lookup cache: names come from the network, so an
// unbounded map would let a sender grow the process without limit.
const maxCached = 4096

type provider struct {
	ID       string
	Match    *match   // provider names this rule accepts beside the id
	Fallback []string // providers whose models this one also serves
	Models   []*Model
}

// Model is one priced model: its id in the table and its prices in USD per
// million tokens.
type Model struct {
	Provider string
	ID       string
	Version  string // table version that holds this price
	Prices   Prices
	match    *match
}

// file is the embedded JSON: see scripts/prices.mjs.
type file struct {
	Version   string `json:"version"`
	Package   string `json:"package"`
	Generated string `json:"generated"`
	Providers []struct {
		ID       string               `json:"id"`
		Match    *match               `json:"match"`
		Fallback []string             `json:"fallback"`
		Models   [][3]json.RawMessage `json:"models"`
	} `json:"providers"`
}

var (
	embeddedOnce  sync.Once
	embeddedTable *Table
	embeddedErr   error
)

// Embedded returns the table built into the binary, parsed on first use
// (~16 ms, ~0.9 MiB kept; see BENCHMARKS.md). Every caller shares one
// parse; WithOverrides returns a new table.
func Embedded() (*Table, error) {
	embeddedOnce.Do(func() { embeddedTable, embeddedErr = parseEmbedded(embedded) })
	return embeddedTable, embeddedErr
}

func parseEmbedded(gz []byte) (*Table, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("read price table: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read price table: %w", err)
	}
	var f file
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("parse price table: %w", err)
	}
	t := &Table{Version: f.Version, Package: f.Package, Generated: f.Generated, data: data{byID: map[string]*provider{}}}
	for _, fp := range f.Providers {
		p := &provider{ID: fp.ID, Match: fp.Match, Fallback: fp.Fallback}
		if err := p.Match.compile(); err != nil {
			return nil, fmt.Errorf("provider %s: %w", p.ID, err)
		}
		for _, fm := range fp.Models {
			m := &Model{Provider: p.ID, Version: f.Version}
			var pr compactPrices
			if err := json.Unmarshal(fm[0], &m.ID); err != nil {
				return nil, fmt.Errorf("provider %s: model id: %w", p.ID, err)
			}
			if err := json.Unmarshal(fm[1], &m.match); err != nil {
				return nil, fmt.Errorf("model %s/%s: match: %w", p.ID, m.ID, err)
			}
			if err := m.match.compile(); err != nil {
				return nil, fmt.Errorf("model %s/%s: %w", p.ID, m.ID, err)
			}
			if err := json.Unmarshal(fm[2], &pr); err != nil {
				return nil, fmt.Errorf("model %s/%s: prices: %w", p.ID, m.ID, err)
			}
			m.Prices = pr.prices()
			p.Models = append(p.Models, m)
		}
		t.providers = append(t.providers, p)
		t.byID[p.ID] = p
	}
	return t, nil
}

// compactPrices is the embedded form: a number, or [base, [start, price]…]
// for tiered prices.
type compactPrices struct {
	In, CacheRead, CacheWrite, Out, Reasoning *Rate
}

func (c *compactPrices) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for key, dst := range map[string]**Rate{"in": &c.In, "cr": &c.CacheRead, "cw": &c.CacheWrite, "out": &c.Out, "rsn": &c.Reasoning} {
		v, ok := m[key]
		if !ok {
			continue
		}
		r, err := parseRate(v)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		*dst = r
	}
	return nil
}

func parseRate(b []byte) (*Rate, error) {
	var n float64
	if json.Unmarshal(b, &n) == nil {
		return &Rate{Base: n}, nil
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil || len(parts) == 0 {
		return nil, fmt.Errorf("want a number or [base, [start, price]...]")
	}
	r := &Rate{}
	if err := json.Unmarshal(parts[0], &r.Base); err != nil {
		return nil, fmt.Errorf("tier base: %w", err)
	}
	for _, p := range parts[1:] {
		var tier [2]float64
		if err := json.Unmarshal(p, &tier); err != nil {
			return nil, fmt.Errorf("tier: %w", err)
		}
		r.Tiers = append(r.Tiers, Tier{Above: int64(tier[0]), PerMTok: tier[1]})
	}
	return r, nil
}

func (c *compactPrices) prices() Prices {
	return Prices{Input: c.In, CacheRead: c.CacheRead, CacheWrite: c.CacheWrite, Output: c.Out, Reasoning: c.Reasoning}
}
