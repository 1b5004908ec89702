package codec

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// DefaultMaxTextBytes caps input_text, output_text, message and stack_trace.
const DefaultMaxTextBytes = 16384

// FieldError says which field of an event is invalid and why.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Parser turns decoded objects into validated events.
type Parser struct {
	MaxTextBytes int              // 0 means DefaultMaxTextBytes
	Now          func() time.Time // default time of an event without ts
	// Prices, when set, prices traces that carry no cost_usd (see cost.go);
	// Unpriced, when set, counts the traces left without a cost.
	Prices   Pricer
	Unpriced *Unpriced
	// MaxMetadataKeys and MaxMetadataBytes cap an event's metadata
	// (metadata.go); 0 means the default. Unknown, when set, counts the
	// top-level fields no field of the event's type reads, by name, and
	// Trimmed the events whose metadata was cut.
	MaxMetadataKeys  int
	MaxMetadataBytes int
	Unknown          *UnknownFields
	Trimmed          *Trimmed
}

// NewParser returns a Parser with the default text cap and the wall clock.
func NewParser() *Parser {
	return &Parser{MaxTextBytes: DefaultMaxTextBytes, Now: time.Now}
}

// object wraps one decoded object and remembers which keys were read, so
// the others can be kept in metadata.
type object struct {
	m         map[string]any
	used      []string // keys read; a slice, since the known keys are few
	usedBuf   [32]string
	truncated map[string]any
	unknown   []string // top-level keys no field read, sorted (metadata)
	p         *Parser
}

func (p *Parser) newObject(v any) (*object, *FieldError) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fieldErr("", "event is not an object")
	}
	o := objects.Get().(*object)
	o.m, o.p = m, p
	o.used = append(o.usedBuf[:0], "type")
	return o, nil
}

// objects recycles parse state: one per event, on the intake's hot path.
var objects = sync.Pool{New: func() any { return new(object) }}

// release returns o to the pool once its event is parsed; nothing parsed
// keeps a reference to o itself.
func (o *object) release() {
	*o = object{}
	objects.Put(o)
}

func (o *object) get(key string) (any, bool) {
	if !slices.Contains(o.used, key) {
		o.used = append(o.used, key)
	}
	v, ok := o.m[key]
	if v == nil {
		return nil, false // null is absent
	}
	return v, ok
}

func (o *object) requiredString(key string) (string, *FieldError) {
	s, err := o.optString(key)
	if err != nil {
		return "", err
	}
	if s == nil || *s == "" {
		return "", fieldErr(key, "required non-empty string")
	}
	return *s, nil
}

func (o *object) optString(key string) (*string, *FieldError) {
	v, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fieldErr(key, "must be a string, got %s", typeName(v))
	}
	return &s, nil
}

// optText reads a string and cuts it at MaxTextBytes without splitting a
// UTF-8 sequence; the original length is recorded under metadata.truncated.
func (o *object) optText(key string) (*string, *FieldError) {
	s, err := o.optString(key)
	if err != nil || s == nil {
		return s, err
	}
	limit := o.p.MaxTextBytes
	if limit <= 0 {
		limit = DefaultMaxTextBytes
	}
	t, cut := CutText(*s, limit)
	if !cut {
		return s, nil
	}
	if o.truncated == nil {
		o.truncated = map[string]any{}
	}
	o.truncated[key] = len(*s)
	return &t, nil
}

func (o *object) enum(key, def string, allowed ...string) (string, *FieldError) {
	s, err := o.optString(key)
	if err != nil {
		return "", err
	}
	if s == nil {
		return def, nil
	}
	for _, a := range allowed {
		if *s == a {
			return a, nil
		}
	}
	return "", fieldErr(key, "must be one of %v, got %q", allowed, *s)
}

func (o *object) optCount(key string) (*int64, *FieldError) {
	v, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	n, err := toInt(v)
	if err != "" {
		return nil, fieldErr(key, "%s", err)
	}
	if n < 0 {
		return nil, fieldErr(key, "must be >= 0, got %d", n)
	}
	return &n, nil
}

func (o *object) optAmount(key string) (*float64, *FieldError) {
	v, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	f, isNum := toFloat(v)
	if n, isJSON := v.(json.Number); !isNum && isJSON { // 1e999: a number float64 cannot hold
		return nil, fieldErr(key, "must be a finite number >= 0, got %s (out of range)", n)
	}
	if !isNum {
		return nil, fieldErr(key, "must be a number, got %s", typeName(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return nil, fieldErr(key, "must be a finite number >= 0, got %v", f)
	}
	return &f, nil
}

// Bounds of ts, unix milliseconds. Below minMillis (1973-03-03 in ms; in
// seconds, the year 5138) a ts was sent in seconds; more than maxAhead of
// the daemon's clock it is a mistake too (microseconds, a bad clock), and
// a row dated centuries ahead would outlive every retention pass.
const (
	minMillis = 100_000_000_000
	maxAhead  = 24 * time.Hour
)

func (o *object) timestamp() (int64, *FieldError) {
	v, ok := o.get("ts")
	if !ok {
		return o.p.Now().UnixMilli(), nil
	}
	ts, reason := toInt(v)
	if t, isTime := v.(time.Time); isTime { // msgpack's timestamp extension
		ts, reason = t.UnixMilli(), ""
	}
	now := o.p.Now()
	switch {
	case reason != "":
		return 0, fieldErr("ts", "%s", reason)
	case ts < 0:
		return 0, fieldErr("ts", "must be >= 0, got %d", ts)
	case ts < minMillis:
		return 0, fieldErr("ts", "must be unix milliseconds; %d looks like seconds (%s): send %d",
			ts, time.Unix(ts, 0).UTC().Format(time.RFC3339), ts*1000)
	case ts > now.Add(maxAhead).UnixMilli():
		return 0, fieldErr("ts", "must be unix milliseconds at most a day ahead of the daemon's clock (%d, %s); got %d",
			now.UnixMilli(), now.UTC().Format(time.RFC3339), ts)
	}
	return ts, nil
}

// metadata returns the metadata object merged with every key no field
// read, cut to the caps (metadata.go), plus the truncation record. Unknown
// keys never overwrite explicit metadata: on a clash they are kept under
// "_"+key, or "__"+key when that is taken too, and so on. The truncation
// record owns "truncated"; an explicit value there moves aside the same
// way. The unknown keys are counted and kept, sorted, in o.unknown.
func (o *object) metadata() (map[string]any, *FieldError) {
	var md map[string]any
	if v, ok := o.get("metadata"); ok {
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, fieldErr("metadata", "must be an object, got %s", typeName(v))
		}
		md = m
	}
	// Unknown keys are distinct, so a clash in this pass is with explicit
	// metadata. The clashing keys are renamed in sorted order: map order
	// would make the names, and which value a name gets, vary by run.
	var clashes []string
	for k, v := range o.m {
		if slices.Contains(o.used, k) {
			continue
		}
		o.unknown = append(o.unknown, k)
		o.p.Unknown.Add(k)
		if md == nil {
			md = map[string]any{}
		}
		if _, clash := md[k]; clash {
			clashes = append(clashes, k)
			continue
		}
		md[k] = v
	}
	slices.Sort(clashes)
	for _, k := range clashes {
		md[freeKey(md, k)] = o.m[k]
	}
	slices.Sort(o.unknown)
	md, cut := o.capMetadata(md)
	if cut != nil {
		if o.truncated == nil {
			o.truncated = map[string]any{}
		}
		o.truncated["metadata"] = cut
	}
	if o.truncated != nil {
		if md == nil {
			md = map[string]any{}
		}
		if v, clash := md["truncated"]; clash {
			md[freeKey(md, "truncated")] = v
		}
		md["truncated"] = o.truncated
	}
	return md, nil
}

// unknownFields is the unknown top-level keys, nil when none; release
// drops o's reference, so the event owns the slice.
func (o *object) unknownFields() []string { return o.unknown }

// freeKey prefixes k with "_" until it names no key of md.
func freeKey(md map[string]any, k string) string {
	for {
		k = "_" + k
		if _, taken := md[k]; !taken {
			return k
		}
	}
}
