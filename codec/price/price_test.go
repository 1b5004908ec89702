package price

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func embeddedT(t *testing.T) *Table {
	t.Helper()
	tb, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestEmbeddedVersion(t *testing.T) {
	tb := embeddedT(t)
	if !strings.HasPrefix(tb.Version, "genai-prices-") || !strings.HasPrefix(tb.Package, "@pydantic/genai-prices@") || tb.Generated == "" {
		t.Fatalf("version %q package %q generated %q", tb.Version, tb.Package, tb.Generated)
	}
	if len(tb.providers) < 20 {
		t.Fatalf("only %d providers", len(tb.providers))
	}
}

func TestLookupNormalisation(t *testing.T) {
	tb := embeddedT(t)
	tests := []struct {
		provider, model string
		wantProvider    string // "" = unpriced
		wantID          string
	}{
		{"openai", "gpt-4o", "openai", "gpt-4o"},
		{"OpenAI", " GPT-4o ", "openai", "gpt-4o"},
		{"openai", "gpt-4o-2024-08-06", "openai", "gpt-4o"},
		{"openai", "gpt-4o-2024-05-13", "openai", "gpt-4o-2024-05-13"}, // a snapshot with its own price
		{"openai", "gpt-4o-2031-01-01", "openai", "gpt-4o"},            // unknown snapshot: the base model
		{"openai", "gpt-4o-mini", "openai", "gpt-4o-mini"},
		{"openclaw", "openai/gpt-4o", "openai", "gpt-4o"}, // provider/model ref
		{"openai", "openai/gpt-4o", "openai", "gpt-4o"},
		{"openrouter", "openai/gpt-4o", "openrouter", "openai/gpt-4o"}, // openrouter's own ids
		{"azure", "gpt-4o", "openai", "gpt-4o"},                        // azure falls back to openai's models
		{"anthropic", "claude-3-5-sonnet-20241022", "anthropic", "claude-3-5-sonnet"},
		{"anthropic", "claude-3-5-sonnet-latest", "anthropic", "claude-3-5-sonnet"},
		{"vertex", "claude-3-5-sonnet@20241022", "google", "claude-3-5-sonnet"},
		{"gemini", "gemini-2.5-pro", "google", "gemini-2.5-pro"},
		{"google-vertex", "gemini-2.5-pro", "google", "gemini-2.5-pro"},
		{"google", "models/gemini-2.5-pro", "google", "gemini-2.5-pro"}, // SDK resource name
		{"bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", "aws", "regional.anthropic.claude-3-5-sonnet-20241022-v2:0"},
		{"amazon-bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", "aws", "regional.anthropic.claude-3-5-sonnet-20241022-v2:0"},
		{"xai", "grok-3", "x-ai", "grok-3"},
		{"ollama", "llama3.1:8b", "", ""},
		{"ollama", "gpt-4o", "", ""}, // a self-hosted name is not OpenAI's price
		{"openai", "no-such-model", "", ""},
	}
	for _, tt := range tests {
		m := tb.Lookup(tt.provider, tt.model)
		var gotP, gotID string
		if m != nil {
			gotP, gotID = m.Provider, m.ID
		}
		if gotP != tt.wantProvider || gotID != tt.wantID {
			t.Errorf("Lookup(%q, %q) = %s/%s, want %s/%s", tt.provider, tt.model, gotP, gotID, tt.wantProvider, tt.wantID)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestCostKnownPrices(t *testing.T) {
	tb := embeddedT(t)
	tests := []struct {
		name, provider, model string
		u                     Usage
		want                  float64
	}{
		// gpt-4o: $2.50 / $10 per million input / output.
		{"gpt-4o 1M in 1M out", "openai", "gpt-4o", Usage{Prompt: 1e6, Completion: 1e6}, 12.5},
		{"gpt-4o input only", "openai", "gpt-4o", Usage{Prompt: 1000}, 0.0025},
		// cache read $1.25: 600 uncached + 400 cached, never the 400 twice.
		{"gpt-4o cached", "openai", "gpt-4o", Usage{Prompt: 1000, CacheRead: 400, Completion: 100},
			(600*2.5 + 400*1.25 + 100*10) / 1e6},
		// claude 3.5 sonnet: in 3, cache read 0.3, cache write 3.75, out 15.
		{"claude cache read+write", "anthropic", "claude-3-5-sonnet-20241022",
			Usage{Prompt: 10000, CacheRead: 6000, CacheWrite: 3000, Completion: 500},
			(1000*3 + 6000*0.3 + 3000*3.75 + 500*15) / 1e6},
		// cache counts larger than the prompt: uncached clamps at 0.
		{"cache beyond prompt", "anthropic", "claude-3-5-sonnet", Usage{Prompt: 100, CacheRead: 200},
			200 * 0.3 / 1e6},
		// no cache price: cached tokens cost input.
		{"no cache price", "openai", "gpt-4o-2024-05-13", Usage{Prompt: 1000, CacheRead: 500}, 1000 * 5.0 / 1e6},
		// tiers: gemini-2.5-pro input 1.25 up to 200k prompt tokens, 2.5 above.
		{"tier low", "google", "gemini-2.5-pro", Usage{Prompt: 100000, Completion: 1000}, (100000*1.25 + 1000*10) / 1e6},
		{"tier high", "google", "gemini-2.5-pro", Usage{Prompt: 300000, Completion: 1000}, (300000*2.5 + 1000*15) / 1e6},
		// reasoning priced apart (sonar-deep-research: out 8, reasoning 3).
		{"reasoning apart", "perplexity", "sonar-deep-research", Usage{Prompt: 1000, Completion: 3000, Reasoning: 2000},
			(1000*2 + 1000*8 + 2000*3) / 1e6},
		// more reasoning than completion (a client counting them apart):
		// never more reasoning tokens than the completion has.
		{"reasoning beyond completion", "perplexity", "sonar-deep-research", Usage{Completion: 1000, Reasoning: 5000},
			1000 * 3.0 / 1e6},
		// reasoning not priced apart: part of the output.
		{"reasoning in output", "openai", "gpt-4o", Usage{Completion: 3000, Reasoning: 2000}, 3000 * 10.0 / 1e6},
	}
	for _, tt := range tests {
		got, _, ok := tb.Cost(tt.provider, tt.model, tt.u)
		if !ok || !near(got, tt.want) {
			t.Errorf("%s: Cost = %v, %v; want %v", tt.name, got, ok, tt.want)
		}
	}
	if _, _, ok := tb.Cost("ollama", "llama3.1:8b", Usage{Prompt: 10}); ok {
		t.Error("unpriced model priced")
	}
}

func TestOverrides(t *testing.T) {
	base := embeddedT(t)
	tb, err := base.WithOverridesFile(filepath.Join("testdata", "overrides.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		provider, model string
		u               Usage
		want            float64
		wantVersion     string
	}{
		{"ollama", "llama3.1:8b", Usage{Prompt: 1e6, Completion: 1e6}, 0.3, "site-prices-1"},
		{"vllm", "anything-at-all", Usage{Prompt: 1e6, Completion: 1e6}, 0, "site-prices-1"},
		{"openai", "gpt-4o-2024-08-06", Usage{Prompt: 1000, CacheRead: 400}, (600*2 + 400*0.5) / 1e6, "site-prices-1"},
		{"openclaw", "openai/gpt-4o", Usage{Completion: 1e6}, 8, "site-prices-1"},
		{"anthropic", "claude-3-5-sonnet", Usage{Completion: 1e6}, 15, base.Version}, // not overridden
		// an override names its provider as written, or an alias's target
		{"my-openai-proxy", "gpt-4o", Usage{Completion: 1e6}, 1, "site-prices-1"},
		{"google", "gemini-2.5-flash", Usage{Prompt: 1e6}, 0.05, "site-prices-1"},
		{"vertex", "gemini-2.5-flash", Usage{Prompt: 1e6}, 0.05, "site-prices-1"}, // vertex is an alias of google too
		{"openai", "gpt-4o", Usage{Completion: 1e6}, 8, "site-prices-1"},          // the proxy's entry is not openai's
	}
	for _, tt := range tests {
		got, v, ok := tb.Cost(tt.provider, tt.model, tt.u)
		if !ok || !near(got, tt.want) || v != tt.wantVersion {
			t.Errorf("Cost(%s, %s) = %v %q %v; want %v %q", tt.provider, tt.model, got, v, ok, tt.want, tt.wantVersion)
		}
	}
	// The base table is unchanged.
	if got, _, _ := base.Cost("openai", "gpt-4o", Usage{Completion: 1e6}); !near(got, 10) {
		t.Errorf("base table changed: %v", got)
	}
}

func TestOverridesBad(t *testing.T) {
	base := embeddedT(t)
	tests := []struct{ body, want string }{
		{`not json`, "parse"},
		{`{"models": []}`, "models: want at least one entry"},
		{`{"models": [{"model": "x", "input_mtok": 1}]}`, "models[0].provider"},
		{`{"models": [{"provider": "p", "input_mtok": 1}]}`, "models[0].model"},
		{`{"models": [{"provider": "p", "model": "m"}]}`, "models[0].input_mtok"},
		{`{"models": [{"provider": "p", "model": "m", "input_mtok": 1}, {"provider": "p", "model": "m", "output_mtok": -1}]}`, "models[1].output_mtok: must be a finite number >= 0"},
		{`{"models": [{"provider": "p", "model": "m", "input_mtk": 1}]}`, `unknown field "input_mtk"`},
	}
	for _, tt := range tests {
		_, err := base.WithOverrides([]byte(tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("WithOverrides(%s) = %v, want error containing %q", tt.body, err, tt.want)
		}
	}
	if _, err := base.WithOverridesFile(filepath.Join(t.TempDir(), "missing.json")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

func TestVersionDefaultsToHash(t *testing.T) {
	tb, err := embeddedT(t).WithOverrides([]byte(`{"models":[{"provider":"p","model":"m","input_mtok":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := tb.Lookup("p", "m"); m == nil || !strings.HasPrefix(m.Version, "file-") || len(m.Version) != 17 {
		t.Fatalf("got %+v", m)
	}
}

func TestLookupCacheBounded(t *testing.T) {
	tb, err := parseEmbedded(embedded)
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxCached + 100 {
		tb.Lookup("openai", "no-such-"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune(i)))
	}
	if tb.cached > maxCached {
		t.Fatalf("cache holds %d > %d", tb.cached, maxCached)
	}
	if m := tb.Lookup("openai", "gpt-4o"); m == nil || m.ID != "gpt-4o" {
		t.Fatalf("lookup after a full cache: %+v", m)
	}
}

func BenchmarkLookupCached(b *testing.B) {
	tb, _ := Embedded()
	for b.Loop() {
		tb.Lookup("openai", "gpt-4o")
	}
}

func BenchmarkLookupUncachedOpenRouter(b *testing.B) {
	tb, _ := Embedded()
	for b.Loop() {
		tb.lookup("openrouter", "z-ai/glm-unknown")
	}
}

func BenchmarkParseEmbedded(b *testing.B) {
	for b.Loop() {
		if _, err := parseEmbedded(embedded); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLazy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "overrides.json"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLazy(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, v, ok := l.Cost("ollama", "llama3.1:8b", Usage{Prompt: 1e6}); !ok || !near(got, 0.1) || v != "site-prices-1" {
		t.Errorf("override: %v %q %v", got, v, ok)
	}
	if got, _, ok := l.Cost("openai", "gpt-4o-mini", Usage{Prompt: 1e6}); !ok || !near(got, 0.15) {
		t.Errorf("table: %v %v", got, ok)
	}
	if _, err := NewLazy([]byte(`{"models":[{"provider":"p"}]}`)); err == nil || !strings.Contains(err.Error(), "models[0].model") {
		t.Errorf("bad overrides: %v", err)
	}
}
