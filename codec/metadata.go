package codec

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// Caps on one event's metadata, explicit metadata and unknown top-level
// fields together: without them a 777 KB trace of 50,000 keys was stored
// whole, and eight clients sending such traces took the daemon to 196 MB.
const (
	DefaultMaxMetadataKeys  = 128
	DefaultMaxMetadataBytes = 16384
	// MaxUnknownNames bounds the field names UnknownFields counts apart;
	// the rest are counted as "other" (names come from the network).
	MaxUnknownNames = 50
	// maxUnknownName is the longest name counted apart.
	maxUnknownName = 64
)

// UnknownFields counts top-level fields that no field of their event's
// type reads, by name: they are kept in metadata, and a misspelt
// "promt_tokens" is seen here instead of silently leaving a trace
// unpriced. The zero value is ready; a nil *UnknownFields counts nothing.
type UnknownFields struct {
	mu sync.Mutex
	n  map[string]int64
}

// Add counts one event's unknown field name.
func (u *UnknownFields) Add(name string) {
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n == nil {
		u.n = map[string]int64{}
	}
	if _, ok := u.n[name]; !ok && (len(u.n) >= MaxUnknownNames || !plainName(name)) {
		name = "other"
	}
	u.n[name]++
}

// Counts returns the counts by name.
func (u *UnknownFields) Counts() map[string]int64 {
	if u == nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]int64, len(u.n))
	for k, v := range u.n {
		out[k] = v
	}
	return out
}

// plainName reports whether a field name is counted under its own name: a
// short run of letters, digits, '_', '-' and '.', so it is a safe label.
func plainName(s string) bool {
	if s == "" || len(s) > maxUnknownName || s == "other" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Trimmed counts events whose metadata was cut to the caps (Events) and
// the top-level metadata keys dropped from them (Keys).
type Trimmed struct {
	Events atomic.Int64
	Keys   atomic.Int64
}

// capMetadata keeps md within the keys and bytes caps: keys in sorted
// order while they fit, the rest dropped. It returns md itself when it
// fits, else a new map and what the original held (keys, bytes), for the
// truncation record.
func (o *object) capMetadata(md map[string]any) (map[string]any, map[string]any) {
	maxKeys, maxBytes := o.p.MaxMetadataKeys, o.p.MaxMetadataBytes
	if maxKeys <= 0 {
		maxKeys = DefaultMaxMetadataKeys
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMetadataBytes
	}
	total := jsonSize(md, maxBytes+1)
	if len(md) <= maxKeys && total <= maxBytes {
		return md, nil
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	kept := make(map[string]any, min(len(md), maxKeys))
	size := 2 // {}
	for _, k := range keys {
		n := len(k) + 4 + jsonSize(md[k], maxBytes+1) // "k":v,
		if len(kept) < maxKeys && size+n <= maxBytes {
			kept[k] = md[k]
			size += n
		}
	}
	if t := o.p.Trimmed; t != nil {
		t.Events.Add(1)
		t.Keys.Add(int64(len(md) - len(kept)))
	}
	if total > maxBytes {
		total = jsonSize(md, -1)
	}
	return kept, map[string]any{"keys": len(md), "bytes": total}
}

// numberSize is the length of a msgpack number written as JSON, so an
// event is cut the same whichever encoding carried it.
func numberSize(v any) int {
	var buf [32]byte
	if i, reason := toInt(v); reason == "" {
		return len(strconv.AppendInt(buf[:0], i, 10))
	}
	if f, ok := toFloat(v); ok {
		return len(strconv.AppendFloat(buf[:0], f, 'g', -1, 64))
	}
	return 32 // a timestamp, RFC 3339
}

// jsonSize estimates the bytes of v encoded as JSON (escapes aside), and
// stops counting once past limit (-1: no limit), which bounds the walk of
// a huge value to the bytes that matter.
func jsonSize(v any, limit int) int {
	n := 0
	var walk func(v any)
	walk = func(v any) {
		if limit >= 0 && n > limit {
			return
		}
		switch v := v.(type) {
		case string:
			n += len(v) + 2
		case json.Number:
			n += len(v)
		case map[string]any:
			n += 2 + max(len(v)-1, 0) // {} and the commas
			for k, e := range v {
				n += len(k) + 3 // "k":
				walk(e)
			}
		case []any:
			n += 2 + max(len(v)-1, 0)
			for _, e := range v {
				walk(e)
			}
		case []byte:
			n += (len(v)+2)/3*4 + 2 // base64
		case nil:
			n += 4
		case bool:
			n += 5
		default: // msgpack's numbers, as JSON writes them; timestamps
			n += numberSize(v)
		}
	}
	walk(v)
	return n
}
