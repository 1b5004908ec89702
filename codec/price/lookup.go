package price

import (
	"regexp"
	"slices"
	"strings"
)

// aliases maps provider names that OpenClaw, SDKs and gateways use to the
// table's ids, where the table's own provider rules would miss them or
// pick the wrong one ("azure-openai" contains "openai").
var aliases = map[string]string{
	"gemini": "google", "vertex": "google", "vertex_ai": "google", "vertexai": "google",
	"google-vertex": "google", "google-gemini": "google", "google-genai": "google", "google-gemini-cli": "google",
	"bedrock": "aws", "amazon-bedrock": "aws", "aws-bedrock": "aws", "bedrock_converse": "aws",
	"azure-openai": "azure", "azure_openai": "azure", "azure_ai": "azure", "azure-ai": "azure",
	"xai": "x-ai", "grok": "x-ai",
	"together_ai": "together", "together-ai": "together", "togetherai": "together",
	"moonshot": "moonshotai", "kimi": "moonshotai",
	"mistralai": "mistral", "fireworks-ai": "fireworks", "fireworks_ai": "fireworks",
	"z-ai": "zai", "z.ai": "zai", "zhipu": "zhipuai",
	"copilot": "github-copilot", "openai-codex": "openai", "claude": "anthropic",
}

// Lookup finds the price of model as served by provider, or nil when
// neither the overrides nor the table know it. Names are matched
// case-insensitively; a "provider/model" ref, a date or version suffix
// (-2024-08-06, -20240806, @20241022, -latest) and provider aliases are
// tried as described in README.md. An unknown provider is not guessed from
// the model's name: a self-hosted "gpt-oss" is not OpenAI's.
func (t *Table) Lookup(provider, model string) *Model {
	pn, mn := strings.ToLower(strings.TrimSpace(provider)), strings.ToLower(strings.TrimSpace(model))
	key := pn + "\x00" + mn
	if v, ok := t.cache.Load(key); ok {
		return v.(*Model)
	}
	m := t.lookup(pn, mn)
	t.cachedMu.Lock()
	if t.cached < maxCached {
		if _, loaded := t.cache.LoadOrStore(key, m); !loaded {
			t.cached++
		}
	}
	t.cachedMu.Unlock()
	return m
}

func (t *Table) lookup(pn, mn string) *Model {
	cp := canon(pn)
	prefix, rest, ref := strings.Cut(mn, "/")
	if m := t.override(cp, mn); m != nil {
		return m
	}
	if ref {
		if m := t.override(canon(prefix), rest); m != nil {
			return m
		}
	}
	if m := t.overrides[cp+"\x00*"]; m != nil {
		return m
	}
	p := t.provider(pn)
	if p != nil {
		if m := t.inProvider(p, mn); m != nil {
			return m
		}
	}
	if !ref {
		return nil
	}
	// "openai/gpt-4o" sent as provider "openclaw" or "litellm": the ref
	// names the provider; "models/gemini-pro" does not, so the rest is
	// looked up under the given provider.
	if q := t.provider(prefix); q != nil {
		return t.inProvider(q, rest)
	}
	if p != nil {
		return t.inProvider(p, rest)
	}
	return nil
}

func (t *Table) override(provider, model string) *Model {
	if len(t.overrides) == 0 {
		return nil
	}
	for _, v := range variants(model) {
		if m := t.overrides[provider+"\x00"+v]; m != nil {
			return m
		}
	}
	return nil
}

// canon is how overrides name a provider: its alias's target, else the
// name itself. The table's broader provider rules are not used here, so
// an override for "my-openai-proxy" prices that name only, not openai.
func canon(name string) string {
	if id, ok := aliases[name]; ok {
		return id
	}
	return name
}

func (t *Table) provider(name string) *provider {
	if id, ok := aliases[name]; ok {
		name = id
	}
	if p := t.byID[name]; p != nil {
		return p
	}
	for _, p := range t.providers {
		if p.Match.ok(name) {
			return p
		}
	}
	return nil
}

// inProvider tries each variant of model against p's models in table
// order (first match wins, as in genai-prices), then p's fallback
// providers (azure serves openai's models).
func (t *Table) inProvider(p *provider, model string) *Model {
	vs := variants(model)
	for _, v := range vs {
		for _, m := range p.Models {
			if m.match.ok(v) {
				return m
			}
		}
	}
	for _, id := range p.Fallback {
		if fp := t.byID[id]; fp != nil {
			for _, v := range vs {
				for _, m := range fp.Models {
					if m.match.ok(v) {
						return m
					}
				}
			}
		}
	}
	return nil
}

var (
	compactDate = regexp.MustCompile(`-(20\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\b`)
	dateSuffix  = regexp.MustCompile(`[-@](20\d\d-?[01]\d-?[0-3]\d)$`)
)

// variants lists the names model is tried under, most exact first: as
// sent; with a compact date dashed (genai-prices' own rule); with "@"
// (Vertex's version separator) as "-"; without "-latest"; without a
// trailing date.
func variants(model string) []string {
	out := []string{model}
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(compactDate.ReplaceAllString(model, "-$1-$2-$3"))
	at := strings.ReplaceAll(model, "@", "-")
	add(at)
	add(compactDate.ReplaceAllString(at, "-$1-$2-$3"))
	base := strings.TrimSuffix(model, "-latest")
	add(base)
	add(dateSuffix.ReplaceAllString(base, ""))
	return out
}
