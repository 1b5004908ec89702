package otlp

import (
	"fmt"

	"github.com/google/uuid"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/openclaw/openclaw-trace/codec"
)

// decodeRows reads a page's rows back into events through codec's table
// model, so the mapping reads the same fields ingest filled; what was said
// (prompt and completion text) is not sent, so not decoded. A row that
// does not decode is counted in bad and skipped: it would never decode
// later either.
func decodeRows(table *codec.Table, rows []codec.Row) (evs []codec.Event, bad int) {
	evs = make([]codec.Event, 0, len(rows))
	for _, r := range rows {
		ev, err := table.DecodeRowSkipContent(r.JSON)
		if err != nil {
			bad++
			continue
		}
		evs = append(evs, ev)
	}
	return evs, bad
}

// ids derives the span's trace and span ids from the row's trace_id, a
// UUIDv7: the trace id is its 16 bytes, the span id its last 8 (random
// bits), so a row sent again is the same span, not a new one.
func ids(traceID string) (pcommon.TraceID, pcommon.SpanID, error) {
	u, err := uuid.Parse(traceID)
	if err != nil {
		return pcommon.TraceID{}, pcommon.SpanID{}, fmt.Errorf("trace_id: %w", err)
	}
	var sid pcommon.SpanID
	copy(sid[:], u[8:])
	if sid.IsEmpty() {
		sid[7] = 1 // an all-zero span id is invalid in OTLP
	}
	return pcommon.TraceID(u), sid, nil
}

// msToTimestamp converts unix ms to OTLP's unix ns.
func msToTimestamp(ms int64) pcommon.Timestamp {
	return pcommon.Timestamp(uint64(ms) * 1e6)
}

// metaString returns the first of keys that metadata holds as a non-empty
// string.
func metaString(md map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := md[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// putMetadata copies metadata's scalar values as attributes under prefix
// (nested values are not flattened: attributes stay few and bounded),
// skipping keys already mapped to a convention attribute.
func putMetadata(attrs pcommon.Map, prefix string, md map[string]any, skip map[string]bool) {
	for k, v := range md {
		if skip[k] {
			continue
		}
		switch v := v.(type) {
		case string:
			attrs.PutStr(prefix+k, v)
		case bool:
			attrs.PutBool(prefix+k, v)
		case float64:
			if v == float64(int64(v)) {
				attrs.PutInt(prefix+k, int64(v))
			} else {
				attrs.PutDouble(prefix+k, v)
			}
		}
	}
}

func putOptInt(attrs pcommon.Map, key string, v *int64) {
	if v != nil {
		attrs.PutInt(key, *v)
	}
}

func putOptStr(attrs pcommon.Map, key string, v *string) {
	if v != nil {
		putStr(attrs, key, *v)
	}
}

// putStr sets a string attribute unless it is empty (an absent column).
func putStr(attrs pcommon.Map, key, v string) {
	if v != "" {
		attrs.PutStr(key, v)
	}
}
