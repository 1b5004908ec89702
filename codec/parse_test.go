package codec

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const nowMS = 1_700_000_000_000

func testParser() *Parser {
	return &Parser{MaxTextBytes: DefaultMaxTextBytes, Now: func() time.Time { return time.UnixMilli(nowMS) }}
}

func ptr[T any](v T) *T { return &v }

// encodings turns a Go value into wire bytes: every table case runs through
// both, and must give the same result.
var encodings = []struct {
	format Format
	encode func(testing.TB, any) []byte
}{
	{JSON, mustJSON},
	{Msgpack, mustMsgpack},
}

// wire is the input of a parse case: a Go value encoded both ways, or raw
// JSON for what encoding/json cannot produce (12.0), or a Go value only
// msgpack can carry (NaN, Inf, uint64 above MaxInt64).
type wire struct {
	v       any
	rawJSON string
	only    Format
}

// inputs returns the decoded element of each encoding the case applies to.
func (w wire) inputs(t *testing.T) map[Format]any {
	t.Helper()
	out := map[Format]any{}
	if w.rawJSON != "" {
		out[JSON] = decodeOne(t, []byte(w.rawJSON))
		return out
	}
	for _, e := range encodings {
		if w.only == 0 || w.only == e.format {
			out[e.format] = decodeOne(t, e.encode(t, w.v))
		}
	}
	return out
}

// decodeOne sniffs and decodes b as the listeners do, and returns its one
// element.
func decodeOne(tb testing.TB, b []byte) any {
	tb.Helper()
	f, err := Sniff(b)
	if err != nil {
		tb.Fatalf("Sniff(%q): %v", b, err)
	}
	vals, err := Decode(b, f)
	if err != nil || len(vals) != 1 {
		tb.Fatalf("Decode(%q) = %d elements, %v; want 1", b, len(vals), err)
	}
	return vals[0]
}

// asJSON renders an event the way the store sees it: pointers as values,
// metadata numbers as numbers whatever their decoded Go type.
func asJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("json.Marshal(%#v): %v", v, err)
	}
	return string(b)
}

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// trace is a valid minimal trace plus kv.
func trace(kv ...any) map[string]any {
	return obj(append([]any{"type", "trace", "provider", "openai", "model", "gpt-4o"}, kv...)...)
}

func TestParserTraceValid(t *testing.T) {
	base := Trace{CreatedAt: nowMS, Provider: "openai", Model: "gpt-4o", Status: "ok", CostSource: CostUnpriced}
	with := func(f func(*Trace)) *Trace { tr := base; f(&tr); return &tr }
	tests := []struct {
		name string
		in   wire
		want *Trace
	}{
		{"minimal", wire{v: trace()}, &base},
		{"all fields", wire{v: trace(
			"input_text", "hello", "output_text", "world",
			"prompt_tokens", 100, "completion_tokens", 50, "total_tokens", 200,
			"cache_read_tokens", 10, "cache_write_tokens", 5, "reasoning_tokens", 7,
			"cost_usd", 0.0123, "latency_ms", 1500, "ttft_ms", 200,
			"status", "error", "error_type", "rate_limit", "ts", int64(1_690_000_000_123),
			"metadata", obj("session", "s1", "n", 3))},
			&Trace{CreatedAt: 1_690_000_000_123, Provider: "openai", Model: "gpt-4o",
				InputText: ptr("hello"), OutputText: ptr("world"),
				PromptTokens: ptr[int64](100), CompletionTokens: ptr[int64](50), TotalTokens: ptr[int64](200),
				CacheReadTokens: ptr[int64](10), CacheWriteTokens: ptr[int64](5), ReasoningTokens: ptr[int64](7),
				CostUSD: ptr(0.0123), CostSource: CostSupplied, LatencyMS: ptr[int64](1500), TTFTMS: ptr[int64](200),
				Status: "error", ErrorType: ptr("rate_limit"), Metadata: obj("session", "s1", "n", 3)}},
		{"total defaults to the sum", wire{v: trace("prompt_tokens", 100, "completion_tokens", 50)},
			with(func(tr *Trace) {
				tr.PromptTokens, tr.CompletionTokens, tr.TotalTokens = ptr[int64](100), ptr[int64](50), ptr[int64](150)
			})},
		{"total from prompt alone", wire{v: trace("prompt_tokens", 100)},
			with(func(tr *Trace) { tr.PromptTokens, tr.TotalTokens = ptr[int64](100), ptr[int64](100) })},
		{"total from completion alone", wire{v: trace("completion_tokens", 7)},
			with(func(tr *Trace) { tr.CompletionTokens, tr.TotalTokens = ptr[int64](7), ptr[int64](7) })},
		{"explicit total kept", wire{v: trace("prompt_tokens", 1, "completion_tokens", 1, "total_tokens", 5)},
			with(func(tr *Trace) {
				tr.PromptTokens, tr.CompletionTokens, tr.TotalTokens = ptr[int64](1), ptr[int64](1), ptr[int64](5)
			})},
		{"zero counts", wire{v: trace("prompt_tokens", 0, "latency_ms", 0, "cost_usd", 0)},
			with(func(tr *Trace) {
				tr.PromptTokens, tr.TotalTokens, tr.LatencyMS, tr.CostUSD = ptr[int64](0), ptr[int64](0), ptr[int64](0), ptr(0.0)
				tr.CostSource = CostSupplied
			})},
		{"integral float for integer", wire{v: trace("prompt_tokens", 12.0, "ts", 1_690_000_000_000.0)},
			with(func(tr *Trace) {
				tr.PromptTokens, tr.TotalTokens, tr.CreatedAt = ptr[int64](12), ptr[int64](12), 1_690_000_000_000
			})},
		{"integral float 12.0 in JSON", wire{rawJSON: `{"provider":"openai","model":"gpt-4o","prompt_tokens":12.0,"latency_ms":1e3}`},
			with(func(tr *Trace) {
				tr.PromptTokens, tr.TotalTokens, tr.LatencyMS = ptr[int64](12), ptr[int64](12), ptr[int64](1000)
			})},
		{"integral float32 in msgpack", wire{v: trace("ttft_ms", float32(64)), only: Msgpack},
			with(func(tr *Trace) { tr.TTFTMS = ptr[int64](64) })},
		{"large counts", wire{v: trace("reasoning_tokens", int64(math.MaxInt64))},
			with(func(tr *Trace) { tr.ReasoningTokens = ptr[int64](math.MaxInt64) })},
		{"uint64 count in msgpack", wire{v: trace("latency_ms", uint64(1<<40)), only: Msgpack},
			with(func(tr *Trace) { tr.LatencyMS = ptr[int64](1 << 40) })},
		{"cost as an integer", wire{v: trace("cost_usd", 2)}, with(func(tr *Trace) { tr.CostUSD, tr.CostSource = ptr(2.0), CostSupplied })},
		{"cost as float32", wire{v: trace("cost_usd", float32(0.5)), only: Msgpack}, with(func(tr *Trace) { tr.CostUSD, tr.CostSource = ptr(0.5), CostSupplied })},
		{"status timeout", wire{v: trace("status", "timeout")}, with(func(tr *Trace) { tr.Status, tr.CostSource = "timeout", CostNoUsage })},
		{"status ok", wire{v: trace("status", "ok")}, &base},
		{"null is absent", wire{v: trace("input_text", nil, "prompt_tokens", nil, "cost_usd", nil, "status", nil, "ts", nil, "metadata", nil)}, &base},
		{"empty texts", wire{v: trace("input_text", "", "output_text", "")},
			with(func(tr *Trace) { tr.InputText, tr.OutputText = ptr(""), ptr("") })},
		{"no type field", wire{v: obj("provider", "openai", "model", "gpt-4o")}, &base},
		{"unknown fields kept in metadata", wire{v: trace("session_id", "abc", "retries", 2, "tags", []any{"a"}, "extra", obj("k", true))},
			with(func(tr *Trace) {
				tr.Metadata = obj("session_id", "abc", "retries", 2, "tags", []any{"a"}, "extra", obj("k", true))
			})},
		{"unknown fields merged into metadata", wire{v: trace("metadata", obj("a", 1), "b", 2)},
			with(func(tr *Trace) { tr.Metadata = obj("a", 1, "b", 2) })},
		{"unknown field clashing with metadata", wire{v: trace("metadata", obj("user", "explicit"), "user", "top")},
			with(func(tr *Trace) { tr.Metadata = obj("user", "explicit", "_user", "top") })},
		{"unknown field clashing twice", wire{v: trace("metadata", obj("user", "explicit", "_user", "explicit2"), "user", "top")},
			with(func(tr *Trace) { tr.Metadata = obj("user", "explicit", "_user", "explicit2", "__user", "top") })},
		{"unknown fields clashing with each other's names", wire{v: trace("metadata", obj("x", 1), "x", 2, "_x", 3)},
			with(func(tr *Trace) { tr.Metadata = obj("x", 1, "_x", 3, "__x", 2) })},
		{"empty metadata", wire{v: trace("metadata", obj())}, with(func(tr *Trace) { tr.Metadata = obj() })},
	}
	for _, tt := range tests {
		for format, in := range tt.in.inputs(t) {
			t.Run(tt.name+"/"+format.String(), func(t *testing.T) {
				got, ferr := testParser().Trace(in)
				if ferr != nil {
					t.Fatalf("Trace() error = %v, want nil", ferr)
				}
				if g, w := asJSON(t, got), asJSON(t, tt.want); g != w {
					t.Errorf("Trace() =\n%s\nwant\n%s", g, w)
				}
			})
		}
	}
}

// TestParserTraceSameForBothEncodings parses one full trace from JSON and
// from msgpack and wants the same Trace.
func TestParserTraceSameForBothEncodings(t *testing.T) {
	in := trace("input_text", "héllo 😀", "prompt_tokens", 3, "completion_tokens", 4, "cost_usd", 1.25,
		"status", "timeout", "ts", 1_690_000_000_042, "metadata", obj("a", []any{1, "b"}), "unknown", obj("z", 1.5))
	var got []string
	for _, e := range encodings {
		tr, ferr := testParser().Trace(decodeOne(t, e.encode(t, in)))
		if ferr != nil {
			t.Fatalf("%v: %v", e.format, ferr)
		}
		got = append(got, asJSON(t, tr))
	}
	if got[0] != got[1] {
		t.Errorf("JSON gives\n%s\nmsgpack gives\n%s", got[0], got[1])
	}
}

func TestParserTraceInvalid(t *testing.T) {
	type tc struct {
		name  string
		in    wire
		field string
	}
	tests := []tc{
		{"missing provider", wire{v: obj("model", "m")}, "provider"},
		{"empty provider", wire{v: trace("provider", "")}, "provider"},
		{"null provider", wire{v: trace("provider", nil)}, "provider"},
		{"provider number", wire{v: trace("provider", 5)}, "provider"},
		{"provider bool", wire{v: trace("provider", true)}, "provider"},
		{"provider object", wire{v: trace("provider", obj())}, "provider"},
		{"provider binary", wire{v: trace("provider", []byte("openai")), only: Msgpack}, "provider"},
		{"missing model", wire{v: obj("provider", "p")}, "model"},
		{"empty model", wire{v: trace("model", "")}, "model"},
		{"model array", wire{v: trace("model", []any{"m"})}, "model"},
		{"input_text number", wire{v: trace("input_text", 1)}, "input_text"},
		{"output_text bool", wire{v: trace("output_text", false)}, "output_text"},
		{"cost_usd negative", wire{v: trace("cost_usd", -0.01)}, "cost_usd"},
		{"cost_usd string", wire{v: trace("cost_usd", "0.1")}, "cost_usd"},
		{"cost_usd bool", wire{v: trace("cost_usd", true)}, "cost_usd"},
		{"cost_usd NaN", wire{v: trace("cost_usd", math.NaN()), only: Msgpack}, "cost_usd"},
		{"cost_usd +Inf", wire{v: trace("cost_usd", math.Inf(1)), only: Msgpack}, "cost_usd"},
		{"cost_usd -Inf", wire{v: trace("cost_usd", math.Inf(-1)), only: Msgpack}, "cost_usd"},
		{"cost_usd float32 NaN", wire{v: trace("cost_usd", float32(math.NaN())), only: Msgpack}, "cost_usd"},
		{"cost_usd huge JSON number", wire{rawJSON: `{"provider":"p","model":"m","cost_usd":1e400}`}, "cost_usd"},
		{"status unknown", wire{v: trace("status", "fine")}, "status"},
		{"status empty", wire{v: trace("status", "")}, "status"},
		{"status upper case", wire{v: trace("status", "OK")}, "status"},
		{"status number", wire{v: trace("status", 1)}, "status"},
		{"error_type number", wire{v: trace("error_type", 5)}, "error_type"},
		{"metadata string", wire{v: trace("metadata", "x")}, "metadata"},
		{"metadata array", wire{v: trace("metadata", []any{1})}, "metadata"},
		{"metadata number", wire{v: trace("metadata", 5)}, "metadata"},
		{"sum overflows", wire{v: trace("prompt_tokens", int64(math.MaxInt64), "completion_tokens", 1)}, "total_tokens"},
	}
	for _, key := range []string{"prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens",
		"cache_write_tokens", "reasoning_tokens", "latency_ms", "ttft_ms", "ts"} {
		tests = append(tests,
			tc{key + " negative", wire{v: trace(key, -1)}, key},
			tc{key + " negative float", wire{v: trace(key, -3.0)}, key},
			tc{key + " fraction", wire{v: trace(key, 12.5)}, key},
			tc{key + " string", wire{v: trace(key, "12")}, key},
			tc{key + " bool", wire{v: trace(key, true)}, key},
			tc{key + " array", wire{v: trace(key, []any{1})}, key},
			tc{key + " object", wire{v: trace(key, obj())}, key},
			tc{key + " NaN", wire{v: trace(key, math.NaN()), only: Msgpack}, key},
			tc{key + " Inf", wire{v: trace(key, math.Inf(1)), only: Msgpack}, key},
			tc{key + " above 2^53 as float", wire{v: trace(key, 1e300)}, key},
			tc{key + " uint64 above MaxInt64", wire{v: trace(key, uint64(math.MaxUint64)), only: Msgpack}, key},
			tc{key + " JSON integer above MaxInt64", wire{rawJSON: `{"provider":"p","model":"m","` + key + `":99999999999999999999}`}, key},
			tc{key + " JSON fraction", wire{rawJSON: `{"provider":"p","model":"m","` + key + `":12.5}`}, key},
		)
	}
	for _, tt := range tests {
		for format, in := range tt.in.inputs(t) {
			t.Run(tt.name+"/"+format.String(), func(t *testing.T) {
				got, ferr := testParser().Trace(in)
				if ferr == nil {
					t.Fatalf("Trace() = %s, want error on %q", asJSON(t, got), tt.field)
				}
				if ferr.Field != tt.field {
					t.Errorf("Trace() error field = %q (%v), want %q", ferr.Field, ferr, tt.field)
				}
				if got != nil {
					t.Errorf("Trace() returned a trace with error %v", ferr)
				}
				if ferr.Error() != ferr.Field+": "+ferr.Msg {
					t.Errorf("Error() = %q", ferr.Error())
				}
			})
		}
	}
}

func TestParserNotAnObject(t *testing.T) {
	for _, v := range []any{nil, "x", json.Number("1"), []any{}, []any{map[string]any{}}} {
		if _, ferr := testParser().Trace(v); ferr == nil || ferr.Field != "" {
			t.Errorf("Trace(%#v) error = %v, want one on the whole event", v, ferr)
		}
		if _, ferr := testParser().Error(v); ferr == nil || ferr.Field != "" {
			t.Errorf("Error(%#v) error = %v, want one on the whole event", v, ferr)
		}
	}
}

// errorEvent is a valid minimal error plus kv.
func errorEvent(kv ...any) map[string]any {
	return obj(append([]any{"type", "error", "error_type", "crash", "message", "boom"}, kv...)...)
}

func TestParserErrorValid(t *testing.T) {
	base := Error{CreatedAt: nowMS, ErrorType: "crash", Message: "boom", Severity: "error"}
	with := func(f func(*Error)) *Error { e := base; f(&e); return &e }
	tests := []struct {
		name string
		in   wire
		want *Error
	}{
		{"minimal", wire{v: errorEvent()}, &base},
		{"all fields", wire{v: errorEvent("error_type", "llm_error", "message", "429 from upstream",
			"code", "rate_limit", "stack_trace", "at x\nat y", "severity", "critical", "ts", 1_690_000_000_005, "metadata", obj("a", 1))},
			&Error{CreatedAt: 1_690_000_000_005, ErrorType: "llm_error", Message: "429 from upstream", Code: ptr("rate_limit"),
				StackTrace: ptr("at x\nat y"), Severity: "critical", Metadata: obj("a", 1)}},
		{"system_error warning", wire{v: errorEvent("error_type", "system_error", "severity", "warning")},
			with(func(e *Error) { e.ErrorType, e.Severity = "system_error", "warning" })},
		{"code of our own", wire{v: errorEvent("code", "gpu_melted")}, with(func(e *Error) { e.Code = ptr("gpu_melted") })},
		{"unknown fields kept", wire{v: errorEvent("pid", 42, "metadata", obj("pid", 1))},
			with(func(e *Error) { e.Metadata = obj("pid", 1, "_pid", 42) })},
		{"integral float ts", wire{v: errorEvent("ts", 1_690_000_000_007.0)}, with(func(e *Error) { e.CreatedAt = 1_690_000_000_007 })},
	}
	for _, tt := range tests {
		for format, in := range tt.in.inputs(t) {
			t.Run(tt.name+"/"+format.String(), func(t *testing.T) {
				got, ferr := testParser().Error(in)
				if ferr != nil {
					t.Fatalf("Error() error = %v, want nil", ferr)
				}
				if g, w := asJSON(t, got), asJSON(t, tt.want); g != w {
					t.Errorf("Error() =\n%s\nwant\n%s", g, w)
				}
			})
		}
	}
}

func TestParserErrorInvalid(t *testing.T) {
	tests := []struct {
		name  string
		in    wire
		field string
	}{
		{"missing error_type", wire{v: obj("message", "m")}, "error_type"},
		{"null error_type", wire{v: errorEvent("error_type", nil)}, "error_type"},
		{"empty error_type", wire{v: errorEvent("error_type", "")}, "error_type"},
		{"unknown error_type", wire{v: errorEvent("error_type", "oops")}, "error_type"},
		{"error_type number", wire{v: errorEvent("error_type", 1)}, "error_type"},
		{"missing message", wire{v: obj("error_type", "crash")}, "message"},
		{"empty message", wire{v: errorEvent("message", "")}, "message"},
		{"message number", wire{v: errorEvent("message", 5)}, "message"},
		{"message object", wire{v: errorEvent("message", obj())}, "message"},
		{"bad severity", wire{v: errorEvent("severity", "fatal")}, "severity"},
		{"severity number", wire{v: errorEvent("severity", 3)}, "severity"},
		{"code number", wire{v: errorEvent("code", 429)}, "code"},
		{"code bool", wire{v: errorEvent("code", true)}, "code"},
		{"stack_trace array", wire{v: errorEvent("stack_trace", []any{"a"})}, "stack_trace"},
		{"ts negative", wire{v: errorEvent("ts", -1)}, "ts"},
		{"ts string", wire{v: errorEvent("ts", "2024-01-01")}, "ts"},
		{"ts fraction", wire{v: errorEvent("ts", 1.5)}, "ts"},
		{"metadata string", wire{v: errorEvent("metadata", "x")}, "metadata"},
	}
	for _, tt := range tests {
		for format, in := range tt.in.inputs(t) {
			t.Run(tt.name+"/"+format.String(), func(t *testing.T) {
				got, ferr := testParser().Error(in)
				if ferr == nil {
					t.Fatalf("Error() = %s, want error on %q", asJSON(t, got), tt.field)
				}
				if ferr.Field != tt.field {
					t.Errorf("Error() error field = %q (%v), want %q", ferr.Field, ferr, tt.field)
				}
			})
		}
	}
}

func TestParserDefaultNowAndCap(t *testing.T) {
	p := NewParser()
	if p.MaxTextBytes != DefaultMaxTextBytes || p.Now == nil {
		t.Fatalf("NewParser() = %+v", p)
	}
	before := time.Now().UnixMilli()
	tr, ferr := p.Trace(trace())
	after := time.Now().UnixMilli()
	if ferr != nil {
		t.Fatal(ferr)
	}
	if tr.CreatedAt < before || tr.CreatedAt > after {
		t.Errorf("CreatedAt = %d, want within [%d, %d]", tr.CreatedAt, before, after)
	}
	// A zero MaxTextBytes means the default cap.
	long := strings.Repeat("a", DefaultMaxTextBytes+1)
	tr, ferr = (&Parser{Now: time.Now}).Trace(trace("input_text", long))
	if ferr != nil {
		t.Fatal(ferr)
	}
	if got := len(*tr.InputText); got != DefaultMaxTextBytes {
		t.Errorf("len(input_text) = %d with MaxTextBytes 0, want %d", got, DefaultMaxTextBytes)
	}
}

func TestTruncation(t *testing.T) {
	const limit = 10
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"ascii under", "abc", "abc"},
		{"ascii at limit", "0123456789", "0123456789"},
		{"ascii over by one", "0123456789X", "0123456789"},
		{"ascii far over", strings.Repeat("x", 1000), strings.Repeat("x", limit)},
		{"2-byte rune fits exactly", "aaaaaaaaé", "aaaaaaaaé"},
		{"2-byte rune straddles", "aaaaaaaaaé", "aaaaaaaaa"},
		{"2-byte runes only", strings.Repeat("é", 6), strings.Repeat("é", 5)},
		{"3-byte rune straddles", "aaaaaaaa€", "aaaaaaaa"},
		{"4-byte rune fits exactly", "aaaaaa😀", "aaaaaa😀"},
		{"4-byte rune straddles by 1", "aaaaaaa😀", "aaaaaaa"},
		{"4-byte rune straddles by 3", "aaaaaaaaa😀", "aaaaaaaaa"},
		{"4-byte runes only", strings.Repeat("😀", 3), strings.Repeat("😀", 2)},
		{"rune after limit", "0123456789😀", "0123456789"},
	}
	for _, tt := range tests {
		for _, e := range encodings {
			t.Run(tt.name+"/"+e.format.String(), func(t *testing.T) {
				p := testParser()
				p.MaxTextBytes = limit
				in := trace("input_text", tt.in, "output_text", tt.in)
				tr, ferr := p.Trace(decodeOne(t, e.encode(t, in)))
				if ferr != nil {
					t.Fatal(ferr)
				}
				for _, got := range []string{*tr.InputText, *tr.OutputText} {
					if got != tt.want {
						t.Errorf("truncated %q to %q, want %q", tt.in, got, tt.want)
					}
				}
				var want map[string]any
				if len(tt.in) > limit {
					want = obj("truncated", obj("input_text", len(tt.in), "output_text", len(tt.in)))
				}
				if g, w := asJSON(t, tr.Metadata), asJSON(t, want); g != w {
					t.Errorf("metadata = %s, want %s", g, w)
				}
			})
		}
	}
}

// TestTruncationNeverSplits cuts strings of every rune width at every limit:
// the result is valid UTF-8, a prefix, within the limit, and the longest
// such prefix.
func TestTruncationNeverSplits(t *testing.T) {
	s := "aé€😀b😀€éa" + strings.Repeat("😀é", 5)
	for limit := 1; limit <= len(s)+1; limit++ {
		p := testParser()
		p.MaxTextBytes = limit
		tr, ferr := p.Trace(trace("input_text", s))
		if ferr != nil {
			t.Fatal(ferr)
		}
		got := *tr.InputText
		if !utf8.ValidString(got) || !strings.HasPrefix(s, got) || len(got) > limit {
			t.Fatalf("limit %d: got %q (%d bytes)", limit, got, len(got))
		}
		if rest := s[len(got):]; rest != "" {
			_, size := utf8.DecodeRuneInString(rest)
			if len(got)+size <= limit {
				t.Errorf("limit %d: got %q, the next rune would still fit", limit, got)
			}
		}
	}
}

// TestTruncationInvalidUTF8 feeds msgpack strings that are not UTF-8: a
// long run of continuation bytes must not be cut down to nothing.
func TestTruncationInvalidUTF8(t *testing.T) {
	p := testParser()
	p.MaxTextBytes = 10
	in := strings.Repeat("\x80", 100)
	tr, ferr := p.Trace(decodeOne(t, mustMsgpack(t, trace("input_text", in))))
	if ferr != nil {
		t.Fatal(ferr)
	}
	got := *tr.InputText
	if len(got) < 10-(utf8.UTFMax-1) || len(got) > 10 {
		t.Errorf("truncated 100 invalid bytes to %d bytes, want %d..10", len(got), 10-(utf8.UTFMax-1))
	}
}

func TestTruncationErrorAndMetadata(t *testing.T) {
	p := testParser()
	p.MaxTextBytes = 4
	for _, e := range encodings {
		in := errorEvent("message", "ééé", "stack_trace", "abcdef", "metadata", obj("truncated", "mine", "k", 1))
		got, ferr := p.Error(decodeOne(t, e.encode(t, in)))
		if ferr != nil {
			t.Fatal(ferr)
		}
		want := &Error{CreatedAt: nowMS, ErrorType: "crash", Message: "éé", StackTrace: ptr("abcd"), Severity: "error",
			Metadata: obj("k", 1, "_truncated", "mine", "truncated", obj("message", 6, "stack_trace", 6))}
		if g, w := asJSON(t, got), asJSON(t, want); g != w {
			t.Errorf("%v: Error() =\n%s\nwant\n%s", e.format, g, w)
		}
	}
}

// TestToInt covers every integer type msgpack decodes to.
func TestToInt(t *testing.T) {
	tests := []struct {
		in      any
		want    int64
		wantErr bool
	}{
		{int8(-8), -8, false}, {int16(-16), -16, false}, {int32(-32), -32, false}, {int64(-64), -64, false},
		{uint8(8), 8, false}, {uint16(16), 16, false}, {uint32(32), 32, false}, {uint64(64), 64, false},
		{uint64(math.MaxUint64), 0, true}, {float32(2), 2, false}, {float32(2.5), 0, true},
		{2.0, 2, false}, {math.NaN(), 0, true}, {math.Inf(-1), 0, true}, {float64(1 << 54), 0, true},
		{json.Number("7"), 7, false}, {json.Number("7.0"), 7, false}, {json.Number("x"), 0, true},
		{"7", 0, true}, {true, 0, true}, {nil, 0, true}, {[]byte{1}, 0, true},
	}
	for _, tt := range tests {
		got, err := toInt(tt.in)
		if (err != "") != tt.wantErr || got != tt.want {
			t.Errorf("toInt(%#v) = %d, %q; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
