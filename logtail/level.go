package logtail

import (
	"fmt"
	"strings"
)

// Level is a tslog severity, ordered so that a minimum can be compared.
type Level int

// The levels OpenClaw's tslog writes, lowest first (tslog ids 1..6; SILLY,
// id 0, is folded into trace).
const (
	LevelTrace Level = iota + 1
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
	LevelFatal
)

// DefaultMinLevel is the minimum level kept when none is configured.
const DefaultMinLevel = LevelInfo

var levelNames = map[string]Level{
	"silly": LevelTrace, "trace": LevelTrace, "debug": LevelDebug,
	"info": LevelInfo, "warn": LevelWarn, "warning": LevelWarn,
	"error": LevelError, "fatal": LevelFatal,
}

// ParseLevel reads a configured minimum level (debug, info, warn, error;
// trace and fatal are accepted too), case-insensitively.
func ParseLevel(s string) (Level, error) {
	if l, ok := levelNames[strings.ToLower(strings.TrimSpace(s))]; ok {
		return l, nil
	}
	return 0, fmt.Errorf("unknown log level %q", s)
}

func (l Level) String() string {
	switch l {
	case LevelTrace:
		return "trace"
	case LevelDebug:
		return "debug"
	case LevelInfo:
		return "info"
	case LevelWarn:
		return "warn"
	case LevelError:
		return "error"
	case LevelFatal:
		return "fatal"
	}
	return ""
}

// Allows reports whether a line whose stored level is name passes the
// minimum l. Lines with no level or one we do not know always pass: we
// cannot tell they are noise, and dropping them would lose data silently.
func (l Level) Allows(name string) bool {
	got, ok := levelNames[name]
	return !ok || got >= l
}

// levelFromID maps tslog's numeric _meta.logLevelId, used when a line has
// no logLevelName.
func levelFromID(id float64) string {
	if id < 0 || id > 6 || id != float64(int(id)) {
		return ""
	}
	if id == 0 {
		return "trace"
	}
	return Level(id).String()
}
