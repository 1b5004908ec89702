package logtail

import (
	"encoding/json"
	"strings"
	"time"
)

// subsystem finds the logger's subsystem and removes the argument that
// held it. OpenClaw's sub-loggers write their bindings as key "0", a JSON
// string such as {"subsystem":"gateway/channels/telegram"}; other binding
// fields go into metadata. A plain-string "0" is taken as the subsystem only
// when it looks like a name (no spaces) and a later string argument can be
// the message; otherwise it is an ordinary argument.
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
			if top == "" && isName(s) && hasStringAfter(args[1:], raw) {
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
	name, _ := b["subsystem"].(string)
	if name == "" {
		return top, args
	}
	delete(b, "subsystem")
	for k, v := range b {
		md[k] = v
	}
	if top != "" {
		name = top
	}
	return name, args[1:]
}

func isName(s string) bool {
	return s != "" && len(s) <= 128 && !strings.ContainsAny(s, " \t\r\n")
}

func hasStringAfter(args []arg, raw map[string]json.RawMessage) bool {
	if _, ok := asString(raw["message"]); ok {
		return true
	}
	for _, a := range args {
		if _, ok := asString(a.raw); ok {
			return true
		}
	}
	return false
}

// message is the "message" key (newer builds) or else the last numbered
// string argument, which it removes from args; tslog puts the text last.
func message(raw map[string]json.RawMessage, args []arg) (string, []arg) {
	if s, ok := asString(raw["message"]); ok {
		return s, args
	}
	for i := len(args) - 1; i >= 0; i-- {
		if s, ok := asString(args[i].raw); ok {
			return s, append(args[:i:i], args[i+1:]...)
		}
	}
	return "", args
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
