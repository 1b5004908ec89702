package codec

import (
	"encoding/json"
	"fmt"
	"math"
)

// The decoders give numbers different Go types: json.Number from JSON,
// sized ints and floats from msgpack. These turn any of them into the
// type a field wants, and name a value's JSON type in a field error.

// toInt returns v as an integer, or why it is not one.
func toInt(v any) (int64, string) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, ""
		}
		f, err := n.Float64()
		if err != nil {
			return 0, "must be an integer, got " + n.String()
		}
		return floatToInt(f)
	case int8:
		return int64(n), ""
	case int16:
		return int64(n), ""
	case int32:
		return int64(n), ""
	case int64:
		return n, ""
	case uint8:
		return int64(n), ""
	case uint16:
		return int64(n), ""
	case uint32:
		return int64(n), ""
	case uint64:
		if n > math.MaxInt64 {
			return 0, "integer out of range"
		}
		return int64(n), ""
	case float32:
		return floatToInt(float64(n))
	case float64:
		return floatToInt(n)
	}
	return 0, "must be an integer, got " + typeName(v)
}

// floatToInt takes a float only when it holds an integer exactly (up to
// 2^53 in magnitude).
func floatToInt(f float64) (int64, string) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Sprintf("must be an integer, got %v", f)
	}
	return int64(f), ""
}

// toFloat returns v as a float64, and whether it is a number.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float32:
		return float64(n), true
	case float64:
		return n, true
	}
	if i, err := toInt(v); err == "" {
		return float64(i), true
	}
	return 0, false
}

// typeName is v's type as a field error names it (JSON's names).
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case []byte:
		return "binary"
	case json.Number, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}
