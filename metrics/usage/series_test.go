package usage

import (
	"fmt"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

func ptr[T any](v T) *T { return &v }

// scrape writes s and returns its samples: series (name and labels) to value.
func scrape(t testing.TB, s *Series) (map[string]string, string) {
	t.Helper()
	var b strings.Builder
	s.WritePrometheus(&b)
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			t.Fatalf("line without a value: %q", l)
		}
		if _, dup := out[l[:i]]; dup {
			t.Errorf("series twice: %s", l[:i])
		}
		out[l[:i]] = l[i+1:]
	}
	return out, b.String()
}

func call(model string, f func(t *codec.Trace)) codec.Event {
	t := &codec.Trace{Provider: "anthropic", Model: model, Status: "ok",
		Attribution: codec.Attribution{AgentID: "main", Channel: "telegram", Trigger: "user"}}
	if f != nil {
		f(t)
	}
	return codec.Event{Trace: t}
}

const lbl = `provider="anthropic",model="opus",agent="main",channel="telegram",trigger="user"`

func TestSeriesCounts(t *testing.T) {
	s := NewSeries(10)
	s.Add([]codec.Event{
		call("opus", func(t *codec.Trace) {
			t.PromptTokens, t.CompletionTokens, t.CacheReadTokens = ptr[int64](100), ptr[int64](20), ptr[int64](7)
			t.CostUSD, t.LatencyMS, t.TTFTMS = ptr(0.1), ptr[int64](700), ptr[int64](90)
		}),
		{Error: &codec.Error{ErrorType: "crash"}}, // not a call
		call("opus", func(t *codec.Trace) {
			t.PromptTokens, t.CacheWriteTokens, t.ReasoningTokens = ptr[int64](1), ptr[int64](3), ptr[int64](5)
			t.CostUSD, t.LatencyMS = ptr(0.2), ptr[int64](2500)
			t.Status, t.ErrorType = "error", ptr("rate_limit")
		}),
	})
	s.Add([]codec.Event{
		call("opus", func(t *codec.Trace) { t.Status = "timeout"; t.LatencyMS = ptr[int64](400_000) }),
		call("opus", func(t *codec.Trace) { t.Status, t.ErrorType = "error", ptr("rate_limit") }),
	})
	got, page := scrape(t, s)
	want := map[string]string{
		CallsName + "{" + lbl + "}":                     "4",
		TokensName + "{" + lbl + `,kind="input"}`:       "101",
		TokensName + "{" + lbl + `,kind="output"}`:      "20",
		TokensName + "{" + lbl + `,kind="cache_read"}`:  "7",
		TokensName + "{" + lbl + `,kind="cache_write"}`: "3",
		TokensName + "{" + lbl + `,kind="reasoning"}`:   "5",
		CostName + "{" + lbl + "}":                      "0.3", // exact: summed in nano-dollars
		UnpricedName + "{" + lbl + "}":                  "2",
		FailedName + "{" + lbl + `,code="rate_limit"}`:  "2",
		FailedName + "{" + lbl + `,code="timeout"}`:     "1",
		LatencyName + "_bucket{" + lbl + `,le="0.5"}`:   "0",
		LatencyName + "_bucket{" + lbl + `,le="1"}`:     "1",
		LatencyName + "_bucket{" + lbl + `,le="4"}`:     "2",
		LatencyName + "_bucket{" + lbl + `,le="300"}`:   "2",
		LatencyName + "_bucket{" + lbl + `,le="+Inf"}`:  "3",
		LatencyName + "_sum{" + lbl + "}":               "403.2",
		LatencyName + "_count{" + lbl + "}":             "3",
		TTFTName + "_bucket{" + lbl + `,le="0.1"}`:      "1",
		TTFTName + "_count{" + lbl + "}":                "1",
		FoldedName + `{series="calls"}`:                 "0",
		LabelSetsName + `{series="calls"}`:              "1",
		LabelSetsName + `{series="failed_calls"}`:       "2",
		LabelLimitName: "10",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", page)
	}
}

// TestSeriesUnpricedHasNoCost: a label set whose calls all lack a cost
// shows no cost series at all, never $0.
func TestSeriesUnpricedHasNoCost(t *testing.T) {
	s := NewSeries(10)
	s.Add([]codec.Event{call("opus", nil)})
	got, _ := scrape(t, s)
	if v, ok := got[CostName+"{"+lbl+"}"]; ok {
		t.Errorf("cost of an unpriced call shown as %s", v)
	}
	if got[UnpricedName+"{"+lbl+"}"] != "1" {
		t.Errorf("unpriced = %q, want 1", got[UnpricedName+"{"+lbl+"}"])
	}
}

// TestSeriesFoldsBeyondCap: 10,000 model names, a cap of 100 label sets:
// each family holds 100 (99 names and "other"), the fold counter says how
// many calls went to "other", and no call is lost.
func TestSeriesFoldsBeyondCap(t *testing.T) {
	const names, limit = 10_000, 100
	s := NewSeries(limit)
	for i := range names {
		s.Add([]codec.Event{call(fmt.Sprintf("model-%05d", i), func(t *codec.Trace) {
			t.PromptTokens, t.LatencyMS, t.CostUSD = ptr[int64](1), ptr[int64](100), ptr(0.001)
			t.Status, t.ErrorType = "error", ptr(fmt.Sprintf("code-%d", i%3))
		})})
	}
	got, page := scrape(t, s)
	sets := map[string]int{}
	var calls int
	for series, v := range got {
		name, _, _ := strings.Cut(series, "{")
		sets[name]++
		if name == CallsName {
			var n int
			fmt.Sscan(v, &n)
			calls += n
		}
	}
	for _, name := range []string{CallsName, TokensName, CostName, LatencyName + "_count", FailedName} {
		if sets[name] != limit {
			t.Errorf("%s: %d label sets, want %d", name, sets[name], limit)
		}
	}
	if calls != names {
		t.Errorf("calls summed over label sets = %d, want %d", calls, names)
	}
	otherCalls := CallsName + `{provider="other",model="other",agent="other",channel="other",trigger="other"}`
	checks := map[string]string{
		FoldedName + `{series="calls"}`: fmt.Sprint(names - (limit - 1)),
		otherCalls:                      fmt.Sprint(names - (limit - 1)),
		// 99 names × 1 code each fill failed_calls at 99 label sets.
		FoldedName + `{series="failed_calls"}`:    fmt.Sprint(names - (limit - 1)),
		LabelSetsName + `{series="calls"}`:        fmt.Sprint(limit),
		LabelSetsName + `{series="failed_calls"}`: fmt.Sprint(limit),
	}
	for k, v := range checks {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// Bounded: ~40 lines a label set, whatever the flood.
	if lines := strings.Count(page, "\n"); lines > limit*40 {
		t.Errorf("%d lines for %d label sets", lines, limit)
	}
}

// TestSeriesHostileNames: label values from the network are escaped as
// the text format wants, made valid UTF-8 and clipped.
func TestSeriesHostileNames(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	cases := []struct{ model, want string }{
		{`quote"d`, `quote\"d`},
		{`back\slash`, `back\\slash`},
		{"new\nline", `new\nline`},
		{"tab\tctl\x01", "tab\tctl\x01"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{`trail\`, `trail\\`},
		{long, strings.Repeat("é", MaxLabelBytes/2)},
		{"", ""},
	}
	s := NewSeries(100)
	for _, c := range cases {
		s.Add([]codec.Event{call(c.model, nil)})
	}
	got, page := scrape(t, s)
	for _, c := range cases {
		series := CallsName + `{provider="anthropic",model="` + c.want + `",agent="main",channel="telegram",trigger="user"}`
		if got[series] != "1" {
			t.Errorf("model %q: no %s in:\n%s", c.model, series, page)
		}
	}
	if strings.Count(page, "\n") != len(strings.Split(strings.TrimSuffix(page, "\n"), "\n")) {
		t.Errorf("a raw newline inside a line")
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc", "abc"},
		{strings.Repeat("a", 200), strings.Repeat("a", MaxLabelBytes)},
		{strings.Repeat("a", 127) + "é", strings.Repeat("a", 127)}, // é would pass the cap: cut before it
		{"\xff", "\uFFFD"},
	} {
		if got := clip(c.in); got != c.want {
			t.Errorf("clip(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLabels(t *testing.T) {
	for _, c := range []struct {
		pairs []string
		want  string
	}{
		{nil, ""},
		{[]string{"budget", "all"}, `{budget="all"}`},
		{[]string{"a", `x"\` + "\n", "b", "\xff"}, `{a="x\"\\\n",b="` + "\uFFFD" + `"}`},
		{[]string{"long", strings.Repeat("z", 300)}, `{long="` + strings.Repeat("z", MaxLabelBytes) + `"}`},
	} {
		if got := Labels(c.pairs...); got != c.want {
			t.Errorf("Labels(%q) = %s, want %s", c.pairs, got, c.want)
		}
	}
}
