package price

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
)

// overrideFile is the format of OCT_PRICES_FILE (see README.md).
type overrideFile struct {
	Version string          `json:"version"`
	Models  []overrideModel `json:"models"`
}

type overrideModel struct {
	Provider       string   `json:"provider"`
	Model          string   `json:"model"` // "*": every model of the provider
	InputMTok      *float64 `json:"input_mtok"`
	CacheReadMTok  *float64 `json:"cache_read_mtok"`
	CacheWriteMTok *float64 `json:"cache_write_mtok"`
	OutputMTok     *float64 `json:"output_mtok"`
	ReasoningMTok  *float64 `json:"reasoning_mtok"`
}

// WithOverridesFile returns a copy of t whose lookups try the prices in
// the JSON file at path first. The error names the entry and field.
func (t *Table) WithOverridesFile(path string) (*Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return t.WithOverrides(b)
}

// WithOverrides is WithOverridesFile on the file's bytes. Models priced by
// the overrides carry the file's "version", or "file-" and a hash of the
// file when it has none, so a price change shows in price_version.
func (t *Table) WithOverrides(b []byte) (*Table, error) {
	models, err := parseOverrides(b)
	if err != nil {
		return nil, err
	}
	nt := &Table{Version: t.Version, Package: t.Package, Generated: t.Generated,
		data: data{providers: t.providers, byID: t.byID, overrides: map[string]*Model{}}}
	for _, m := range models {
		m.Provider = canon(m.Provider)
		nt.overrides[m.Provider+"\x00"+m.ID] = m
	}
	return nt, nil
}

// parseOverrides validates an overrides file without the embedded table.
func parseOverrides(b []byte) ([]*Model, error) {
	var f overrideFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(f.Models) == 0 {
		return nil, fmt.Errorf("models: want at least one entry")
	}
	version := f.Version
	if version == "" {
		sum := sha256.Sum256(b)
		version = "file-" + hex.EncodeToString(sum[:6])
	}
	models := make([]*Model, 0, len(f.Models))
	for i, om := range f.Models {
		m, err := om.model(version)
		if err != nil {
			return nil, fmt.Errorf("models[%d].%w", i, err)
		}
		models = append(models, m)
	}
	return models, nil
}

func (om *overrideModel) model(version string) (*Model, error) {
	p, m := strings.ToLower(strings.TrimSpace(om.Provider)), strings.ToLower(strings.TrimSpace(om.Model))
	if p == "" {
		return nil, fmt.Errorf("provider: required non-empty string")
	}
	if m == "" {
		return nil, fmt.Errorf("model: required non-empty string (\"*\" for every model)")
	}
	if om.InputMTok == nil && om.OutputMTok == nil {
		return nil, fmt.Errorf("input_mtok: input_mtok or output_mtok required")
	}
	out := &Model{Provider: p, ID: m, Version: version}
	for _, f := range []struct {
		name string
		v    *float64
		dst  **Rate
	}{
		{"input_mtok", om.InputMTok, &out.Prices.Input},
		{"cache_read_mtok", om.CacheReadMTok, &out.Prices.CacheRead},
		{"cache_write_mtok", om.CacheWriteMTok, &out.Prices.CacheWrite},
		{"output_mtok", om.OutputMTok, &out.Prices.Output},
		{"reasoning_mtok", om.ReasoningMTok, &out.Prices.Reasoning},
	} {
		if f.v == nil {
			continue
		}
		if math.IsNaN(*f.v) || math.IsInf(*f.v, 0) || *f.v < 0 {
			return nil, fmt.Errorf("%s: must be a finite number >= 0, got %v", f.name, *f.v)
		}
		*f.dst = &Rate{Base: *f.v}
	}
	return out, nil
}
