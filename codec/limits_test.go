package codec

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// ts is unix milliseconds: one that reads as seconds, or lies more than a
// day ahead, is refused naming the field. Before, 1764944000 (seconds) was
// stored as 1970-01-21 and math.MaxInt64 was stored, never to expire.
func TestTimestampBounds(t *testing.T) {
	day := int64(24 * time.Hour / time.Millisecond)
	tests := []struct {
		name    string
		in      wire
		want    int64  // CreatedAt when accepted
		errWant string // a part of the message when refused
	}{
		{"milliseconds", wire{v: trace("ts", int64(nowMS-5))}, nowMS - 5, ""},
		{"23 hours ahead", wire{v: trace("ts", int64(nowMS+day-3600_000))}, nowMS + day - 3600_000, ""},
		{"msgpack timestamp", wire{v: trace("ts", time.UnixMilli(nowMS-7)), only: Msgpack}, nowMS - 7, ""},
		{"seconds", wire{v: trace("ts", 1764944000)}, 0, "looks like seconds (2025-12-05T14:13:20Z): send 1764944000000"},
		{"zero", wire{v: trace("ts", 0)}, 0, "looks like seconds"},
		{"a day and a minute ahead", wire{v: trace("ts", int64(nowMS+day+60_000))}, 0, "at most a day ahead"},
		{"microseconds", wire{v: trace("ts", int64(nowMS*1000))}, 0, "at most a day ahead"},
		{"int64 max", wire{v: trace("ts", int64(math.MaxInt64))}, 0, "at most a day ahead"},
		{"msgpack timestamp far ahead", wire{v: trace("ts", time.UnixMilli(nowMS+2*day)), only: Msgpack}, 0, "at most a day ahead"},
	}
	for _, tt := range tests {
		for format, in := range tt.in.inputs(t) {
			t.Run(tt.name+"/"+format.String(), func(t *testing.T) {
				got, ferr := testParser().Trace(in)
				if tt.errWant == "" {
					if ferr != nil || got.CreatedAt != tt.want {
						t.Fatalf("Trace() = %+v, %v; want created_at %d", got, ferr, tt.want)
					}
					return
				}
				if ferr == nil || ferr.Field != "ts" || !strings.Contains(ferr.Msg, tt.errWant) {
					t.Fatalf("Trace() error = %v, want on ts, saying %q", ferr, tt.errWant)
				}
			})
		}
	}
}

// A JSON number too large for a float64 is refused as out of range; it was
// refused with "must be a number, got number".
func TestAmountOutOfRange(t *testing.T) {
	_, ferr := testParser().Trace(decodeOne(t, []byte(`{"provider":"p","model":"m","cost_usd":1e999}`)))
	if ferr == nil || ferr.Field != "cost_usd" {
		t.Fatalf("error = %v, want on cost_usd", ferr)
	}
	if want := "must be a finite number >= 0, got 1e999 (out of range)"; ferr.Msg != want {
		t.Errorf("message = %q, want %q", ferr.Msg, want)
	}
}

func metadataKeys(n int) map[string]any {
	md := map[string]any{}
	for i := range n {
		md[fmt.Sprintf("key_%05d", i)] = i
	}
	return md
}

// metadataOf is md with the unknown fields kv merged in, as stored.
func metadataOf(md map[string]any, kv []any) map[string]any {
	out := map[string]any{}
	for k, v := range md {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// Metadata is cut to the key and byte caps, keys kept in sorted order, the
// original's size recorded under truncated.metadata and counted. Before, a
// trace with 50,000 metadata keys was stored whole (677 KB).
func TestMetadataCaps(t *testing.T) {
	big := strings.Repeat("v", 20000)
	tests := []struct {
		name      string
		md        map[string]any
		extra     []any // unknown top-level fields
		wantKeys  int   // keys kept, the truncation record aside
		wantFirst string
		cut       bool
	}{
		{"small metadata kept whole", obj("a", 1, "b", "x"), nil, 2, "a", false},
		{"50,000 keys", metadataKeys(50000), nil, DefaultMaxMetadataKeys, "key_00000", true},
		{"unknown fields count too", metadataKeys(100), []any{"zz1", 1, "zz2", 2, "zz3", 3, "zz4", 4, "zz5", 5, "zz6", 6,
			"zz7", 7, "zz8", 8, "zz9", 9, "zza", 10, "zzb", 11, "zzc", 12, "zzd", 13, "zze", 14, "zzf", 15, "zzg", 16,
			"zzh", 17, "zzi", 18, "zzj", 19, "zzk", 20, "zzl", 21, "zzm", 22, "zzn", 23, "zzo", 24, "zzp", 25, "zzq", 26,
			"zzr", 27, "zzs", 28, "zzt", 29}, DefaultMaxMetadataKeys, "key_00000", true},
		{"one value over the byte cap", obj("a", 1, "huge", big, "z", 2), nil, 2, "a", true},
		{"nested value over the byte cap", obj("a", obj("deep", []any{big})), nil, 0, "", true},
	}
	for _, tt := range tests {
		for _, e := range encodings {
			t.Run(tt.name+"/"+e.format.String(), func(t *testing.T) {
				p := testParser()
				p.Trimmed = &Trimmed{}
				in := trace(append([]any{"metadata", tt.md}, tt.extra...)...)
				tr, ferr := p.Trace(decodeOne(t, e.encode(t, in)))
				if ferr != nil {
					t.Fatal(ferr)
				}
				md := tr.Metadata
				rec, _ := md["truncated"].(map[string]any)
				delete(md, "truncated")
				if len(md) != tt.wantKeys {
					t.Errorf("kept %d keys, want %d", len(md), tt.wantKeys)
				}
				if tt.wantFirst != "" && md[tt.wantFirst] == nil {
					t.Errorf("%q not kept: keys go in sorted order", tt.wantFirst)
				}
				if b, _ := json.Marshal(md); len(b) > DefaultMaxMetadataBytes {
					t.Errorf("kept metadata is %d bytes of JSON, over %d", len(b), DefaultMaxMetadataBytes)
				}
				if !tt.cut {
					if rec != nil || p.Trimmed.Events.Load() != 0 {
						t.Errorf("truncated = %v, trimmed %d: want nothing", rec, p.Trimmed.Events.Load())
					}
					return
				}
				orig, _ := rec["metadata"].(map[string]any)
				total := len(tt.md) + len(tt.extra)/2
				if b, _ := json.Marshal(metadataOf(tt.md, tt.extra)); orig["keys"] != total || orig["bytes"] != len(b) {
					t.Errorf("truncated.metadata = %v, want keys %d and bytes %d", orig, total, len(b))
				}
				if got, want := p.Trimmed.Keys.Load(), int64(total-tt.wantKeys); p.Trimmed.Events.Load() != 1 || got != want {
					t.Errorf("trimmed events %d keys %d, want 1 and %d", p.Trimmed.Events.Load(), got, want)
				}
			})
		}
	}
}

// Unknown top-level fields stay in metadata, are named on the event and
// counted by name: a misspelt promt_tokens is seen. Names are bounded.
func TestUnknownFields(t *testing.T) {
	p := testParser()
	p.Unknown = &UnknownFields{}
	tr, ferr := p.Trace(decodeOne(t, mustJSON(t, trace("promt_tokens", 12, "completion_tokens", 3, "zeta", 1))))
	if ferr != nil {
		t.Fatal(ferr)
	}
	if want := []string{"promt_tokens", "zeta"}; !slices.Equal(tr.Unknown, want) {
		t.Errorf("Unknown = %v, want %v", tr.Unknown, want)
	}
	if tr.Metadata["promt_tokens"] == nil {
		t.Errorf("metadata = %v: the unknown field is not kept", tr.Metadata)
	}
	e, _ := p.Error(decodeOne(t, mustJSON(t, errorEvent("severity", "warning", "sevrity", "x"))))
	if !slices.Equal(e.Unknown, []string{"sevrity"}) {
		t.Errorf("error Unknown = %v", e.Unknown)
	}
	for i := range MaxUnknownNames + 10 {
		p.Trace(decodeOne(t, mustJSON(t, trace(fmt.Sprintf("f%d", i), 1))))
	}
	p.Trace(decodeOne(t, mustJSON(t, trace("bad name\n", 1))))
	got := p.Unknown.Counts()
	if got["promt_tokens"] != 1 || got["sevrity"] != 1 {
		t.Errorf("counts = %v, want promt_tokens and sevrity 1", got)
	}
	// 3 names, then MaxUnknownNames+10: 13 of those and the bad one are other.
	if len(got) != MaxUnknownNames+1 || got["other"] != 14 {
		t.Errorf("%d names, other = %d; want %d names and 14 under other", len(got), got["other"], MaxUnknownNames+1)
	}
}

// Invalid UTF-8 is replaced with U+FFFD, byte for byte, over msgpack as
// over JSON (encoding/json's own rule); msgpack stored it raw.
func TestInvalidUTF8SameOnBothEncodings(t *testing.T) {
	bad := "a\xffb\xe2\x82c" // a lone byte, and a cut 3-byte sequence
	want := "a\uFFFDb\uFFFD\uFFFDc"
	jsonBody := []byte(`{"provider":"p","model":"` + bad + `","input_text":"` + bad + `","metadata":{"` + bad + `":"` + bad + `"}}`)
	mpBody := mustMsgpack(t, trace("model", bad, "input_text", bad, "metadata", obj(bad, bad)))
	for name, body := range map[string][]byte{"json": jsonBody, "msgpack": mpBody} {
		tr, ferr := testParser().Trace(decodeOne(t, body))
		if ferr != nil {
			t.Fatalf("%s: %v", name, ferr)
		}
		if tr.Model != want || *tr.InputText != want || tr.Metadata[want] != want {
			t.Errorf("%s: model %q, input_text %q, metadata %q; want %q everywhere", name, tr.Model, *tr.InputText, tr.Metadata, want)
		}
	}
}
