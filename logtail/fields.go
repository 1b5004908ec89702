package logtail

import (
	"encoding/json"
	"strings"
	"time"
)

// subsystem finds the logger's subsystem and removes the argument that
// held it. OpenClaw's sub-loggers write their bindings as key "0", a JSON
// string such as {"subsystem":"gateway/channels/telegram"}; some name a
// "module" instead ({"module":"cron","storeKey":…}), taken as the subsystem
// when there is no "subsystem". The other binding fields go into metadata.
// A plain-string "0" is taken as the subsystem only when it looks like a
// name (no spaces) and a later string argument can be the message;
// otherwise it is an ordinary argument.
func subsystem(raw map[string]json.RawMessage, args []arg, md map[string]any) (string, []arg) {
	top, _ := asString(raw["subsystem"])
	if len(args) == 0 || args[0].idx != 0 {
		return top, args
	}
	a := args[0]
	obj := a.raw
	s, isString := asString(a.raw)
	if isString {
		if !strings.HasPrefix(s, "{") {
			if top == "" && isName(s) && hasStringAfter(s, args[1:], raw) {
				return s, args[1:]
			}
			return top, args
		}
		obj = json.RawMessage(s)
	}
	var b map[string]any
	if json.Unmarshal(obj, &b) != nil {
		return top, args
	}
	name := bindingName(b)
	if name == "" && !hasStringAfter(s, args[1:], raw) {
		return top, args // no name and nothing after it: maybe the text itself
	}
	for k, v := range b {
		md[k] = v
	}
	if top != "" {
		name = top
	}
	return name, args[1:]
}

// bindingName takes "subsystem", else "module", out of b.
func bindingName(b map[string]any) string {
	for _, k := range []string{"subsystem", "module"} {
		if name, ok := b[k].(string); ok && name != "" {
			delete(b, k)
			return name
		}
	}
	return ""
}

func isName(s string) bool {
	return s != "" && len(s) <= 128 && !strings.ContainsAny(s, " \t\r\n")
}

// hasStringAfter reports whether a text other than first follows: a later
// string argument, or a "message" key that is not just first again (newer
// builds copy a lone argument into "message").
func hasStringAfter(first string, args []arg, raw map[string]json.RawMessage) bool {
	for _, a := range args {
		if _, ok := asString(a.raw); ok {
			return true
		}
	}
	m, ok := asString(raw["message"])
	return ok && m != first
}

// message is the last numbered string argument, which it removes from
// args: tslog puts the text last, after any object of fields. The
// top-level "message" key that newer builds add is only the fallback: it
// flattens every argument, so a line whose fields object comes after the
// text ({"1":"slow SQLite session write","2":{…}}) has the object's JSON in
// it.
func message(raw map[string]json.RawMessage, args []arg) (string, []arg) {
	for i := len(args) - 1; i >= 0; i-- {
		if s, ok := asString(args[i].raw); ok {
			return s, append(args[:i:i], args[i+1:]...)
		}
	}
	s, _ := asString(raw["message"])
	return s, args
}

// addArg keeps one argument that is not the subsystem or the message. The
// fields of an object argument ({"1":{"status":500,…}}) are merged into md,
// so they can be queried as metadata.status rather than metadata["1"].status;
// a field whose name is already taken stays under the argument's number.
// Any other argument is kept under its number.
func addArg(md map[string]any, a arg) {
	var obj map[string]any
	if len(a.raw) == 0 || a.raw[0] != '{' || json.Unmarshal(a.raw, &obj) != nil {
		md[a.key] = decodeAny(a.raw)
		return
	}
	var taken map[string]any
	for k, v := range obj {
		if _, dup := md[k]; dup {
			if taken == nil {
				taken = map[string]any{}
			}
			taken[k] = v
			continue
		}
		md[k] = v
	}
	if taken != nil {
		md[a.key] = taken
	}
}

// meta is the part of tslog's _meta we read.
type meta struct {
	LogLevelName string   `json:"logLevelName"`
	LogLevelID   *float64 `json:"logLevelId"`
	Date         string   `json:"date"`
}

func decodeMeta(raw json.RawMessage) meta {
	var m meta
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m) // a broken _meta only loses level and date
	}
	return m
}

// level is stored lower-case (info, warn, …), the words OCT_LOG_MIN_LEVEL
// uses; tslog's SILLY is folded into trace.
func (m meta) level() string {
	if m.LogLevelName != "" {
		n := strings.ToLower(m.LogLevelName)
		if n == "silly" {
			return "trace"
		}
		return n
	}
	if m.LogLevelID != nil {
		return levelFromID(*m.LogLevelID)
	}
	return ""
}

// createdAt is the line's own time (local with offset), else _meta.date
// (UTC), else now; a number is taken as unix ms.
func createdAt(t json.RawMessage, date string, now time.Time) int64 {
	if s, ok := asString(t); ok {
		if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return ts.UnixMilli()
		}
	} else {
		var ms float64
		if len(t) > 0 && json.Unmarshal(t, &ms) == nil && ms > 0 {
			return int64(ms)
		}
	}
	if ts, err := time.Parse(time.RFC3339Nano, date); err == nil {
		return ts.UnixMilli()
	}
	return now.UnixMilli()
}
