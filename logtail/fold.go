package logtail

import (
	"context"
	"strings"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// A failed CLI command prints one block to stderr, which OpenClaw's console
// capture writes to the log as one line per console.error call:
//
//	[openclaw] The CLI command failed.        (or: Could not start the CLI.)
//	[openclaw] Reason: <error message>
//	[openclaw] Debug: set OPENCLAW_DEBUG=1 …  (or: Stack: and one line per frame)
//	[openclaw] Try: openclaw doctor
//	[openclaw] Help: openclaw --help
//
// The follower folds the block into the first line's event (one
// gateway_error with metadata reason, debug, stack, try, help), holding
// that event only while the block may go on: until Help (always last), a
// line that is not part of it, MaxFoldLines, or FoldWait at the end of a
// poll. Every other line passes straight through.

// DefaultFoldWait is how long a held CLI failure waits for the rest of its
// block, checked at the end of each poll: with the default poll interval a
// block cut by a poll is sent at most about 1 s after its first line. The
// CLI writes the whole block within milliseconds, so one poll nearly always
// reads it all and Help ends it at once.
const DefaultFoldWait = 500 * time.Millisecond

// MaxFoldLines bounds the lines folded into one event (a long stack).
const MaxFoldLines = 64

const cliPrefix = "[openclaw] "

// isCLIFailure reports the first line of the block. The console capture
// writes it with no subsystem.
func isCLIFailure(l *codec.Log) bool {
	return l.Subsystem == "" &&
		(l.Message == cliPrefix+"The CLI command failed." || l.Message == cliPrefix+"Could not start the CLI.")
}

// held is a CLI failure event waiting for the rest of its block.
type held struct {
	log   *codec.Log
	since time.Time
	lines int
	stack bool // after "Stack:", untagged lines are frames
	done  bool // Help was folded: send at the next chance
}

// fold adds l to the block and reports whether it belonged to it. The
// event's cursor moves to l's, so the saved position covers the whole block.
func (h *held) fold(l *codec.Log) bool {
	rest, ok := strings.CutPrefix(l.Message, cliPrefix)
	if !ok || l.Subsystem != "" || isCLIFailure(l) || h.lines >= MaxFoldLines {
		return false
	}
	h.lines++
	h.log.Cursor = l.Cursor
	switch {
	case strings.HasPrefix(rest, "Reason: "):
		h.add("reason", rest[len("Reason: "):])
	case strings.HasPrefix(rest, "Debug: "):
		h.add("debug", rest[len("Debug: "):])
	case rest == "Stack:":
		h.stack = true
	case strings.HasPrefix(rest, "Try: "):
		h.add("try", rest[len("Try: "):])
	case strings.HasPrefix(rest, "Help: "):
		h.add("help", rest[len("Help: "):])
		h.done = true
	case h.stack:
		h.add("stack", rest)
	default:
		h.add("detail", rest)
	}
	return true
}

// add sets field k, or appends v on a new line when it is already set.
func (h *held) add(k, v string) {
	md := h.log.Metadata
	if prev, ok := md[k].(string); ok {
		v = prev + "\n" + v
	}
	md[k] = v
}

// hold makes l the held event.
func (f *Follower) hold(l *codec.Log) {
	if l.Metadata == nil {
		l.Metadata = map[string]any{}
	}
	f.held = &held{log: l, since: f.now()}
}

// flushHeld sends the held event when its block is over: done, or (when
// expired is true) held for FoldWait. On a failed send it stays held, so
// it is not lost if the follower goes on.
func (f *Follower) flushHeld(ctx context.Context, expired bool) error {
	h := f.held
	if h == nil || !h.done && !(expired && f.now().Sub(h.since) >= f.FoldWait) {
		return nil
	}
	return f.sendHeld(ctx)
}

func (f *Follower) sendHeld(ctx context.Context) error {
	if f.held.lines > 0 {
		f.held.log.Metadata["folded_lines"] = f.held.lines
	}
	if err := f.send(ctx, f.held.log); err != nil {
		return err
	}
	f.Stats.Folded.Add(int64(f.held.lines))
	f.held = nil
	return nil
}
