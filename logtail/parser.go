// Package logtail follows the OpenClaw gateway log (tslog JSON lines, one
// file per day, size-rotated to .1.log …) and turns its lines into log
// events for the writer, resuming from a saved position so that no line is
// stored twice or lost across rotations and restarts.
package logtail

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// MaxLineBytes caps one line. Longer lines are stored cut to this size as
// kind other, with their original length in metadata.truncated.line, so a
// runaway line cannot blow up memory or the row.
const MaxLineBytes = 64 << 10

// Parse turns one log line (newline excluded) into a Log. It never fails:
// a line that is not a JSON object is kept whole as kind other with no
// level, and isJSON is false so the caller can count the fallback.
func Parse(line []byte, now time.Time) (l *codec.Log, isJSON bool) {
	if len(line) > MaxLineBytes {
		return longLine(line, len(line), now), false
	}
	line = bytes.TrimRight(line, "\r\n")
	t := bytes.TrimSpace(line)
	var raw map[string]json.RawMessage
	if len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &raw) != nil {
		return plainLine(line, now), false
	}
	return fromJSON(raw, now), true
}

// longLine keeps the first MaxLineBytes of an oversized line, cut back to a
// rune boundary, unparsed: a cut JSON object is not JSON any more. head
// holds at least MaxLineBytes+1 bytes of the line, n its full length.
func longLine(head []byte, n int, now time.Time) *codec.Log {
	cut, _ := codec.CutText(head, MaxLineBytes)
	l := plainLine(cut, now)
	l.Metadata = map[string]any{"truncated": map[string]any{"line": n}}
	return l
}

func plainLine(line []byte, now time.Time) *codec.Log {
	return &codec.Log{
		CreatedAt: now.UnixMilli(),
		Kind:      codec.KindOther,
		Message:   strings.ToValidUTF8(string(line), "\uFFFD"),
	}
}

// arg is one numbered key ("0", "1", …): tslog's positional arguments.
type arg struct {
	key string
	idx int
	raw json.RawMessage
}

func fromJSON(raw map[string]json.RawMessage, now time.Time) *codec.Log {
	l := &codec.Log{Metadata: map[string]any{}}
	ctxChannel, isString := asString(raw["channel"])
	for k, v := range raw {
		if _, err := strconv.Atoi(k); err != nil && !knownKeys[k] && (k != "channel" || !isString) {
			l.Metadata[k] = decodeAny(v)
		}
	}
	args := numbered(raw)
	l.Subsystem, args = subsystem(raw, args, l.Metadata)
	l.Message, args = message(raw, args)
	for _, a := range args {
		addArg(l.Metadata, a)
	}
	m := decodeMeta(raw["_meta"])
	l.Level = m.level()
	l.CreatedAt = createdAt(raw["time"], m.Date, now)
	classify(l)
	if l.Channel == "" {
		l.Channel = ctxChannel
	}
	if len(l.Metadata) == 0 {
		l.Metadata = nil
	}
	return l
}

// knownKeys are top-level keys read into columns; any other key is kept in
// metadata so nothing the gateway wrote is lost. "message" is a flattened
// copy of the arguments. A string "channel" (the run's channel, when the
// log call had one) fills the channel column when the subsystem names none.
var knownKeys = map[string]bool{"message": true, "_meta": true, "time": true, "subsystem": true}

// numbered returns the numbered keys in argument order.
func numbered(raw map[string]json.RawMessage) []arg {
	var args []arg
	for k, v := range raw {
		if i, err := strconv.Atoi(k); err == nil && i >= 0 {
			args = append(args, arg{key: k, idx: i, raw: v})
		}
	}
	for i := 1; i < len(args); i++ { // insertion sort: a line has few args
		for j := i; j > 0 && args[j].idx < args[j-1].idx; j-- {
			args[j], args[j-1] = args[j-1], args[j]
		}
	}
	return args
}

func decodeAny(raw json.RawMessage) any {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	return v
}

func asString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}
