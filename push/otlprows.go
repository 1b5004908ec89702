package push

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The rows as the store pages them: one JSON object per row, keyed by
// column (the same objects the push sends), decoded here into what the
// OTLP mapping reads. Decoding the JSON keeps the exporter independent of
// the store's Go types.

type traceRow struct {
	TraceID          string         `json:"trace_id"`
	CreatedAt        int64          `json:"created_at"`
	Provider         string         `json:"provider"`
	Model            string         `json:"model"`
	PromptTokens     *int64         `json:"prompt_tokens"`
	CompletionTokens *int64         `json:"completion_tokens"`
	TotalTokens      *int64         `json:"total_tokens"`
	CacheReadTokens  *int64         `json:"cache_read_tokens"`
	CacheWriteTokens *int64         `json:"cache_write_tokens"`
	ReasoningTokens  *int64         `json:"reasoning_tokens"`
	CostUSD          *float64       `json:"cost_usd"`
	CostSource       *string        `json:"cost_source"` // supplied | table | unpriced
	PriceVersion     *string        `json:"price_version"`
	LatencyMS        *int64         `json:"latency_ms"`
	TTFTMS           *int64         `json:"ttft_ms"`
	Status           string         `json:"status"`
	ErrorType        *string        `json:"error_type"`
	Metadata         map[string]any `json:"metadata"`
}

type errorRow struct {
	TraceID    string         `json:"trace_id"`
	CreatedAt  int64          `json:"created_at"`
	ErrorType  string         `json:"error_type"`
	Message    string         `json:"message"`
	Code       *string        `json:"code"`
	StackTrace *string        `json:"stack_trace"`
	Severity   string         `json:"severity"`
	Metadata   map[string]any `json:"metadata"`
}

type logRow struct {
	TraceID   string         `json:"trace_id"`
	CreatedAt int64          `json:"created_at"`
	Kind      string         `json:"kind"`
	Subsystem *string        `json:"subsystem"`
	Channel   *string        `json:"channel"`
	Level     *string        `json:"level"`
	Message   *string        `json:"message"`
	Metadata  map[string]any `json:"metadata"`
}

type metricRow struct {
	TraceID      string         `json:"trace_id"`
	CreatedAt    int64          `json:"created_at"`
	CPUPercent   *float64       `json:"cpu_pct"`
	MemCurrent   *int64         `json:"mem_current_bytes"`
	MemLimit     *int64         `json:"mem_limit_bytes"`
	MemRSS       *int64         `json:"mem_rss_bytes"`
	DiskTotal    *int64         `json:"disk_total_bytes"`
	DiskUsed     *int64         `json:"disk_used_bytes"`
	DiskFree     *int64         `json:"disk_free_bytes"`
	DiskPercent  *float64       `json:"disk_pct"`
	IOReadBytes  *int64         `json:"io_read_bytes"`
	IOWriteBytes *int64         `json:"io_write_bytes"`
	Metadata     map[string]any `json:"metadata"`
}

// decodeRows decodes the rows of a page; a row that does not decode is
// returned in bad (counted and skipped: it would never decode later).
func decodeRows[T any](rows []Row) (good []T, bad int) {
	good = make([]T, 0, len(rows))
	for _, r := range rows {
		var v T
		if err := json.Unmarshal(r.JSON, &v); err != nil {
			bad++
			continue
		}
		good = append(good, v)
	}
	return good, bad
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
	if v != nil && *v != "" {
		attrs.PutStr(key, *v)
	}
}
