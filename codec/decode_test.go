package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/testkit/reap"
	"github.com/vmihailenco/msgpack/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(reap.Watch(m)) }

// mustMsgpack encodes v with the reference msgpack library.
func mustMsgpack(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		tb.Fatalf("msgpack.Marshal: %v", err)
	}
	return b
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("json.Marshal: %v", err)
	}
	return b
}

// manyKeys returns an object with n keys, so msgpack uses map16 past 15.
func manyKeys(n int) map[string]any {
	m := map[string]any{}
	for i := range n {
		m[strings.Repeat("k", i+1)] = i
	}
	return m
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Format
		wantErr bool
	}{
		{"json object", []byte(`{"a":1}`), JSON, false},
		{"json array", []byte(`[{}]`), JSON, false},
		{"json leading whitespace", []byte(" \t\r\n {}"), JSON, false},
		{"msgpack fixmap", mustMsgpack(t, map[string]any{"a": 1}), Msgpack, false},
		{"msgpack empty fixmap", []byte{0x80}, Msgpack, false},
		{"msgpack fixarray", mustMsgpack(t, []any{map[string]any{}}), Msgpack, false},
		{"msgpack map16", mustMsgpack(t, manyKeys(16)), Msgpack, false},
		{"msgpack array16", mustMsgpack(t, make([]any, 16)), Msgpack, false},
		{"msgpack map32 header", []byte{0xdf, 0, 0, 0, 0}, Msgpack, false},
		{"msgpack array32 header", []byte{0xdd, 0, 0, 0, 0}, Msgpack, false},
		{"empty", nil, 0, true},
		{"only whitespace", []byte("  \n"), 0, true},
		{"garbage", []byte("hello"), 0, true},
		{"json scalar", []byte(`"trace"`), 0, true},
		{"json null", []byte(`null`), 0, true},
		{"msgpack fixint", []byte{0x01}, 0, true},
		{"msgpack str8", []byte{0xd9, 1, 'a'}, 0, true},
		{"utf-8 bom", []byte("\xef\xbb\xbf{}"), 0, true},
		{"whitespace before msgpack", []byte{' ', 0x80}, Msgpack, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Sniff(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrUnknownFormat) {
				t.Errorf("Sniff(%q) error = %v, want ErrUnknownFormat", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Sniff(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{JSON: "json", Msgpack: "msgpack", 0: "unknown", 9: "unknown"} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d).String() = %q, want %q", f, got, want)
		}
	}
}

func TestDecode(t *testing.T) {
	obj := map[string]any{"provider": "openai", "n": 1}
	tests := []struct {
		name    string
		in      []byte
		format  Format
		wantLen int
		wantErr bool
	}{
		{"json object", []byte(`{"provider":"openai"}`), JSON, 1, false},
		{"json object trailing whitespace", []byte("{}\n\t "), JSON, 1, false},
		{"json array", []byte(`[{"a":1},{"b":2},{"c":3}]`), JSON, 3, false},
		{"json empty array", []byte(`[]`), JSON, 0, false},
		{"json array with non-object", []byte(`[{"a":1},2,"x",null]`), JSON, 4, false},
		{"json trailing data", []byte(`{"a":1}{"b":2}`), JSON, 0, true},
		{"json trailing garbage", []byte(`{"a":1} x`), JSON, 0, true},
		{"json trailing bracket", []byte(`{"a":1}]`), JSON, 0, true},
		{"json invalid", []byte(`{"a":}`), JSON, 0, true},
		{"json truncated", []byte(`{"a":1`), JSON, 0, true},
		{"json NaN literal", []byte(`{"cost_usd":NaN}`), JSON, 0, true},
		{"json scalar", []byte(`12`), JSON, 0, true},
		{"json null", []byte(`null`), JSON, 0, true},
		{"msgpack object", mustMsgpack(t, obj), Msgpack, 1, false},
		{"msgpack array", mustMsgpack(t, []any{obj, obj}), Msgpack, 2, false},
		{"msgpack array16", mustMsgpack(t, make([]any, 20)), Msgpack, 20, false},
		{"msgpack array with non-object", mustMsgpack(t, []any{obj, 7}), Msgpack, 2, false},
		{"msgpack trailing data", append(mustMsgpack(t, obj), 0x01), Msgpack, 0, true},
		{"msgpack two values", append(mustMsgpack(t, obj), mustMsgpack(t, obj)...), Msgpack, 0, true},
		{"msgpack truncated", mustMsgpack(t, obj)[:5], Msgpack, 0, true},
		{"msgpack truncated array", mustMsgpack(t, []any{obj, obj})[:10], Msgpack, 0, true},
		{"msgpack scalar", []byte{0x01}, Msgpack, 0, true},
		{"msgpack invalid code", []byte{0x81, 0xa1, 'a', 0xc1}, Msgpack, 0, true},
		{"msgpack non-string key", []byte{0x81, 0x01, 0x02}, Msgpack, 0, true},
		// Headers claiming more elements than bytes follow: the decoder
		// would allocate for the claimed count (64 GiB for array32).
		{"msgpack array32 of 2^32-1", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, Msgpack, 0, true},
		{"msgpack map32 of 2^32-1", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, Msgpack, 0, true},
		{"msgpack nested map32", []byte{0x91, 0x81, 0xa1, 'm', 0xdf, 0x0f, 0xff, 0xff, 0xff}, Msgpack, 0, true},
		{"msgpack str32 of 2^32-1", []byte{0x81, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xff}, Msgpack, 0, true},
		{"msgpack too deep", bytes.Repeat([]byte{0x91}, maxMsgpackDepth+2), Msgpack, 0, true},
		{"unknown format", []byte(`{}`), 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in, tt.format)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Decode error = %v, want error %v", err, tt.wantErr)
			}
			if len(got) != tt.wantLen {
				t.Errorf("Decode returned %d elements, want %d", len(got), tt.wantLen)
			}
		})
	}
}

// TestDecodeValues checks what the elements hold: JSON numbers stay exact
// (json.Number), msgpack keeps its own integer and float types, and NaN,
// which JSON cannot carry, arrives from msgpack as a float64.
func TestDecodeValues(t *testing.T) {
	got, err := Decode([]byte(`[{"n":12,"f":0.5,"s":"x","o":{"a":[1]}}, 3]`), JSON)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		map[string]any{"n": json.Number("12"), "f": json.Number("0.5"), "s": "x",
			"o": map[string]any{"a": []any{json.Number("1")}}},
		json.Number("3"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode JSON = %#v, want %#v", got, want)
	}

	got, err = Decode(mustMsgpack(t, map[string]any{"nan": math.NaN(), "inf": math.Inf(1), "n": 300}), Msgpack)
	if err != nil {
		t.Fatal(err)
	}
	m := got[0].(map[string]any)
	if f, ok := m["nan"].(float64); !ok || !math.IsNaN(f) {
		t.Errorf("msgpack nan = %#v, want float64 NaN", m["nan"])
	}
	if f, ok := m["inf"].(float64); !ok || !math.IsInf(f, 1) {
		t.Errorf("msgpack inf = %#v, want float64 +Inf", m["inf"])
	}
	if n, _ := toInt(m["n"]); n != 300 {
		t.Errorf("msgpack n = %#v, want 300", m["n"])
	}
}

// TestScanMsgpackAgreesWithDecoder runs the scanner over every encoding
// the reference library produces for the shapes the codec sees.
func TestScanMsgpackAgreesWithDecoder(t *testing.T) {
	for i, b := range msgpackValues(t) {
		if err := scanMsgpack(b); err != nil {
			t.Errorf("value %d: scanMsgpack = %v, want nil", i, err)
		}
		for cut := range min(len(b), 80) {
			if err := scanMsgpack(b[:cut]); err == nil {
				t.Errorf("value %d cut at %d: scanMsgpack = nil, want error", i, cut)
			}
			if v, err := decodeMsgpackValue(b[:cut]); err == nil {
				t.Errorf("value %d cut at %d: decoded %#v, want an error", i, cut, v)
			}
		}
	}
	// Extensions (msgpack's timestamp is ext -1) are skipped whole.
	for _, b := range [][]byte{
		{0xd6, 0xff, 0, 0, 0, 1},                                  // fixext4 timestamp32
		{0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 1},                      // fixext8
		{0xc7, 2, 5, 'a', 'b'},                                    // ext8
		{0xc8, 0, 1, 5, 'a'},                                      // ext16
		{0xc9, 0, 0, 0, 1, 5, 'a'},                                // ext32
		{0xd8, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // fixext16
	} {
		if err := scanMsgpack(b); err != nil {
			t.Errorf("scanMsgpack(% x) = %v, want nil", b, err)
		}
		if err := scanMsgpack(b[:len(b)-1]); err == nil {
			t.Errorf("scanMsgpack(% x) = nil, want error", b[:len(b)-1])
		}
	}
}
