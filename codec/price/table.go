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
	"strconv"
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

// file is the embedded JSON: see scripts/prices.mjs. It decodes in one
// pass, straight into the types lookups use.
type file struct {
	Version   string `json:"version"`
	Package   string `json:"package"`
	Generated string `json:"generated"`
	Providers []struct {
		ID       string   `json:"id"`
		Match    *match   `json:"match"`
		Fallback []string `json:"fallback"`
		Models   []struct {
			ID     string `json:"id"`
			Match  *match `json:"m"`
			Prices struct {
				In         *Rate `json:"in"`
				CacheRead  *Rate `json:"cr"`
				CacheWrite *Rate `json:"cw"`
				Out        *Rate `json:"out"`
				Reasoning  *Rate `json:"rsn"`
			} `json:"p"`
		} `json:"models"`
	} `json:"providers"`
}

var (
	embeddedOnce  sync.Once
	embeddedTable *Table
	embeddedErr   error
)

// Embedded returns the table built into the binary, parsed on first use
// (~11 ms, ~0.9 MiB kept; see BENCHMARKS.md). Every caller shares one
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
	var f file
	if err := json.NewDecoder(zr).Decode(&f); err != nil {
		return nil, fmt.Errorf("parse price table: %w", err)
	}
	t := &Table{Version: f.Version, Package: f.Package, Generated: f.Generated, data: data{byID: map[string]*provider{}}}
	for _, fp := range f.Providers {
		p := &provider{ID: fp.ID, Match: fp.Match, Fallback: fp.Fallback, Models: make([]*Model, 0, len(fp.Models))}
		if err := p.Match.compile(); err != nil {
			return nil, fmt.Errorf("provider %s: %w", p.ID, err)
		}
		for _, fm := range fp.Models {
			if err := fm.Match.compile(); err != nil {
				return nil, fmt.Errorf("model %s/%s: %w", p.ID, fm.ID, err)
			}
			pr := fm.Prices
			p.Models = append(p.Models, &Model{Provider: p.ID, ID: fm.ID, Version: f.Version, match: fm.Match,
				Prices: Prices{Input: pr.In, CacheRead: pr.CacheRead, CacheWrite: pr.CacheWrite, Output: pr.Out, Reasoning: pr.Reasoning}})
		}
		t.providers = append(t.providers, p)
		t.byID[p.ID] = p
	}
	return t, nil
}

// UnmarshalJSON reads the embedded form of a price: a number, or
// [base, [above, price], …] for tiered prices.
func (r *Rate) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] != '[' {
		n, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("price: want a number or [base, [above, price]...], got %s", b)
		}
		*r = Rate{Base: n}
		return nil
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil || len(parts) == 0 {
		return fmt.Errorf("price: want a number or [base, [above, price]...], got %s", b)
	}
	if err := json.Unmarshal(parts[0], &r.Base); err != nil {
		return fmt.Errorf("tier base: %w", err)
	}
	for _, p := range parts[1:] {
		var tier [2]float64
		if err := json.Unmarshal(p, &tier); err != nil {
			return fmt.Errorf("tier: %w", err)
		}
		r.Tiers = append(r.Tiers, Tier{Above: int64(tier[0]), PerMTok: tier[1]})
	}
	return nil
}
