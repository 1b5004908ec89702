package codec

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// referenceDecode decodes b with the msgpack library the codec used
// before it had its own decoder, as the oracle for the differential tests.
func referenceDecode(b []byte) (any, error) {
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	return dec.DecodeInterface()
}

// normalize maps the library's integer types onto the decoder's (int64,
// or uint64 above MaxInt64) and timestamps onto UTC, and reports whether
// the value holds something the decoder rejects by design: a map with a
// non-string key.
func normalize(v any) (any, bool) {
	switch v := v.(type) {
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), true
		}
		return v, true
	case time.Time:
		return v.UTC(), true
	case string:
		return validUTF8(v), true // the decoder's rule: invalid bytes become U+FFFD
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			n, ok := normalize(e)
			if !ok {
				return nil, false
			}
			k = validUTF8(k)
			if _, dup := out[k]; dup {
				// Two keys alike but for invalid bytes: the decoder keeps
				// the later one on the wire, an order the library's map
				// no longer has.
				return collapsedKeys{}, true
			}
			out[k] = n
		}
		return out, true
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			n, ok := normalize(e)
			if !ok {
				return nil, false
			}
			out[i] = n
		}
		return out, true
	case map[any]any:
		return nil, false
	}
	return v, true
}

// collapsedKeys stands for a map whose keys differ only in invalid UTF-8:
// any value the decoder made of it is taken.
type collapsedKeys struct{}

// sameValue is reflect.DeepEqual, except that NaN equals NaN.
func sameValue(a, b any) bool {
	if _, ok := b.(collapsedKeys); ok {
		return true
	}
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && (fa == fb || math.IsNaN(fa) && math.IsNaN(fb))
	}
	if fa, ok := a.(float32); ok {
		fb, ok := b.(float32)
		return ok && (fa == fb || fa != fa && fb != fb)
	}
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// checkAgainstReference fails if the decoder and the library disagree on
// b: both must accept it with the same value, or both reject it. The
// decoder may reject more (non-string keys, unknown extensions, anything
// the scan refuses); it must never accept what the library rejects, nor
// panic.
func checkAgainstReference(t *testing.T, b []byte) {
	t.Helper()
	got, err := decodeMsgpackValue(b)
	if err != nil {
		return // the library is not asked: unscanned headers make it allocate without bound
	}
	sameAsReference(t, b, got)
}

// sameAsReference fails unless the library accepts b and decodes it to got.
func sameAsReference(t *testing.T, b []byte, got any) {
	t.Helper()
	ref, rerr := referenceDecode(b)
	if rerr != nil {
		t.Fatalf("% x: decoder accepted %#v, library rejected it: %v", b, got, rerr)
	}
	want, ok := normalize(ref)
	if !ok {
		t.Fatalf("% x: decoder accepted %#v, which the library decodes with non-string keys", b, got)
	}
	if !sameValue(got, want) {
		t.Fatalf("% x: decoder = %#v, library = %#v", b, got, want)
	}
}

// msgpackValues are the library's encodings of the shapes the codec sees.
func msgpackValues(tb testing.TB) [][]byte {
	values := []any{
		map[string]any{},
		[]any{},
		manyKeys(20),
		make([]any, 70000),
		benchTrace(),
		[]any{benchTrace(), benchTrace()},
		map[string]any{"s8": strings.Repeat("a", 200), "s16": strings.Repeat("b", 70000), "bin": []byte("xyz"), "bin16": make([]byte, 300)},
		map[string]any{"i": []any{int8(-3), int16(-300), int32(-70000), int64(-1 << 40), int64(math.MinInt64), uint8(200), uint16(60000), uint32(1 << 31), uint64(1 << 63), uint64(math.MaxUint64), 5, -5, -32, -33, 127, 128}},
		map[string]any{"f": []any{float32(1.5), 2.5, math.Inf(-1), true, false, nil}},
		map[string]any{"nested": []any{map[string]any{"a": []any{map[string]any{"b": 1}}}}},
		map[string]any{"ts": time.Unix(1_700_000_000, 0), "ts64": time.Unix(1_700_000_000, 123_000_000), "ts96": time.Unix(1<<35, 5), "before1970": time.Unix(-5, 7)},
	}
	out := make([][]byte, len(values))
	for i, v := range values {
		out[i] = mustMsgpack(tb, v)
	}
	return out
}

// msgpackRejects are inputs the decoder refuses.
var msgpackRejects = []struct {
	name string
	in   []byte
}{
	{"integer key", []byte{0x81, 0x01, 0x02}},
	{"unknown extension", []byte{0x81, 0xa1, 'k', 0xd4, 5, 1}},
	{"timestamp of 1 byte", []byte{0x81, 0xa1, 'k', 0xd4, 0xff, 1}},
	{"reserved code", []byte{0x92, 0xc1, 0x01}},
	{"data after the value", []byte{0x80, 0x80}},
	{"huge map header", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}},
}

// TestMsgpackDecoderAgreesWithLibrary: every sample is valid msgpack the
// codec must read, so a rejection fails here (the fuzz target tolerates
// rejections; this test must not).
func TestMsgpackDecoderAgreesWithLibrary(t *testing.T) {
	for i, b := range msgpackValues(t) {
		got, err := decodeMsgpackValue(b)
		if err != nil {
			t.Errorf("sample %d (% .16x…): decoder rejected valid msgpack: %v", i, b, err)
			continue
		}
		sameAsReference(t, b, got)
	}
}

func TestMsgpackDecoderRejects(t *testing.T) {
	for _, tc := range msgpackRejects {
		if v, err := decodeMsgpackValue(tc.in); err == nil {
			t.Errorf("%s: decoded %#v, want an error", tc.name, v)
		}
	}
}

// FuzzMsgpackDecoder compares the decoder with the library on arbitrary
// bytes: `go test -fuzz FuzzMsgpackDecoder ./codec/`.
func FuzzMsgpackDecoder(f *testing.F) {
	for _, b := range msgpackValues(f) {
		if len(b) < 4096 {
			f.Add(b)
		}
	}
	for _, tc := range msgpackRejects {
		f.Add(tc.in)
	}
	f.Fuzz(checkAgainstReference)
}
