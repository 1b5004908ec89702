package logtail

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// cliLine is a console-captured stderr line as OpenClaw writes it: no
// subsystem, level ERROR, the text in "0".
func cliLine(msg string) string {
	return fmt.Sprintf(`{"0":%q,"_meta":{"logLevelId":5,"logLevelName":"ERROR","name":"openclaw"},"time":"2026-12-02T15:07:16.581+00:00","message":%q}`+"\n", msg, msg)
}

func cliLines(msgs ...string) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(cliLine(m))
	}
	return b.String()
}

var cliBlock = []string{
	"[openclaw] The CLI command failed.",
	"[openclaw] Reason: ENOTDIR: not a directory",
	"[openclaw] Debug: set OPENCLAW_DEBUG=1 to include the stack trace.",
	"[openclaw] Try: openclaw doctor",
	"[openclaw] Help: openclaw --help",
}

// clock is a settable Now for the follower.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// pollEvents runs one Poll and returns its events.
func (ts *tester) pollEvents() []*codec.Log {
	ts.t.Helper()
	if err := ts.f.Poll(context.Background()); err != nil {
		ts.t.Fatalf("poll: %v", err)
	}
	var out []*codec.Log
	for len(ts.ch) > 0 {
		ev := <-ts.ch
		ts.checkEvent(ev)
		out = append(out, ev.Log)
	}
	return out
}

func messages(ls []*codec.Log) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Message)
	}
	return out
}

// TestFoldCLIFailure: the block becomes one event whose cursor is after
// Help; the lines around it pass through in order.
func TestFoldCLIFailure(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, line("before")+cliLines(cliBlock...)+line("after"))
	ts := newTester(t, path)
	got := ts.pollEvents()
	equal(t, "events", messages(got), []string{"before", cliBlock[0], "after"})
	cli := got[1]
	want := map[string]any{"rule": RuleCLIFailure, "reason": "ENOTDIR: not a directory",
		"debug": "set OPENCLAW_DEBUG=1 to include the stack trace.", "try": "openclaw doctor",
		"help": "openclaw --help", "folded_lines": 4}
	if cli.Kind != codec.KindGatewayError || fmt.Sprint(cli.Metadata) != fmt.Sprint(want) {
		t.Errorf("got %s %v, want gateway_error %v", cli.Kind, cli.Metadata, want)
	}
	end := int64(len(line("before") + cliLines(cliBlock...)))
	if cli.Cursor.Offset != end {
		t.Errorf("cursor offset %d, want %d (after Help)", cli.Cursor.Offset, end)
	}
	if st := statsOf(ts.f); st.LinesRead != 7 || st.Emitted != 3 || st.Folded != 4 {
		t.Errorf("stats %+v", st)
	}
}

// TestFoldAcrossPolls: a block cut by a poll is held, not sent in halves;
// Help ends it without waiting for FoldWait.
func TestFoldAcrossPolls(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, cliLines(cliBlock[:2]...))
	ts := newTester(t, path)
	if got := ts.pollEvents(); len(got) != 0 {
		t.Fatalf("sent before the block ended: %q", messages(got))
	}
	appendFile(t, path, cliLines(cliBlock[2:]...))
	got := ts.pollEvents()
	if len(got) != 1 || got[0].Metadata["folded_lines"] != 4 || got[0].Metadata["help"] != "openclaw --help" {
		t.Fatalf("got %d events %v, want the one folded block", len(got), got)
	}
}

// TestFoldWait: a block whose end never comes is sent once FoldWait has
// passed, at the end of a poll; lines that come later are events of their own.
func TestFoldWait(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, cliLines(cliBlock[:2]...))
	ts := newTester(t, path)
	c := &clock{t: testNow}
	ts.f.Now = c.now
	ts.f.FoldWait = time.Second
	if got := ts.pollEvents(); len(got) != 0 {
		t.Fatalf("sent at once: %q", messages(got))
	}
	c.t = c.t.Add(999 * time.Millisecond)
	if got := ts.pollEvents(); len(got) != 0 {
		t.Fatalf("sent before FoldWait: %q", messages(got))
	}
	c.t = c.t.Add(time.Millisecond)
	got := ts.pollEvents()
	if len(got) != 1 || got[0].Metadata["reason"] != "ENOTDIR: not a directory" || got[0].Metadata["folded_lines"] != 1 {
		t.Fatalf("after FoldWait got %v", got)
	}
	appendFile(t, path, cliLines(cliBlock[2]))
	if got := ts.pollEvents(); len(got) != 1 || got[0].Message != cliBlock[2] || got[0].Kind != codec.KindGatewayError {
		t.Fatalf("late line: %v", got)
	}
}

// TestFoldRestart: the follower stops while it holds a block. The saved
// position is that of the last event sent, before the block, so the next
// run reads the whole block again: nothing lost, nothing stored twice.
func TestFoldRestart(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, line("r1")+cliLines(cliBlock[:3]...))
	first := newTester(t, path)
	equal(t, "first run", messages(first.pollEvents()), []string{"r1"})
	first.f.Close()

	appendFile(t, path, cliLines(cliBlock[3:]...)+line("r2"))
	second := newTester(t, path)
	second.f.Positions = positions{first.last}
	got := second.pollEvents()
	equal(t, "second run", messages(got), []string{cliBlock[0], "r2"})
	if got[0].Metadata["folded_lines"] != 4 {
		t.Errorf("block folded %v lines, want 4", got[0].Metadata["folded_lines"])
	}
}

// TestFoldStopsAtOtherLines: a line that is not part of the block (another
// logger, or a new block) ends it, and a continuation line with no block
// held stays a line of its own.
func TestFoldStopsAtOtherLines(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, cliLines(cliBlock[0])+line("gateway line")+cliLines(cliBlock[1])+
		cliLines(cliBlock[0], cliBlock[0]))
	ts := newTester(t, path)
	ts.f.FoldWait = 0
	got := ts.pollEvents()
	equal(t, "events", messages(got), []string{cliBlock[0], "gateway line", cliBlock[1], cliBlock[0], cliBlock[0]})
	for _, i := range []int{0, 3, 4} {
		if got[i].Metadata["rule"] != RuleCLIFailure || got[i].Metadata["folded_lines"] != nil {
			t.Errorf("event %d: %v", i, got[i].Metadata)
		}
	}
	if got[2].Metadata["rule"] != nil || got[2].Kind != codec.KindGatewayError {
		t.Errorf("lone Reason line: %s %v", got[2].Kind, got[2].Metadata)
	}
}

// TestFoldMaxLines: a stack longer than MaxFoldLines ends the fold there.
func TestFoldMaxLines(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	block := []string{cliBlock[0], "[openclaw] Stack:"}
	for i := range MaxFoldLines {
		block = append(block, fmt.Sprintf("[openclaw]     at f%d (x.js:1:1)", i))
	}
	appendFile(t, path, cliLines(block...))
	ts := newTester(t, path)
	ts.f.FoldWait = 0
	got := ts.pollEvents()
	if len(got) != 2 || got[0].Metadata["folded_lines"] != MaxFoldLines {
		t.Fatalf("got %d events, first %v", len(got), got[0].Metadata)
	}
	if n := strings.Count(got[0].Metadata["stack"].(string), "\n") + 1; n != MaxFoldLines-1 {
		t.Errorf("stack has %d frames, want %d", n, MaxFoldLines-1)
	}
}

// TestFoldBlockedSink: when the held block cannot be sent (ctx ends while
// the sink is full), the line that ended it is not taken, and the next
// poll sends the block and that line once each.
func TestFoldBlockedSink(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, cliLines(cliBlock[:2]...)+line("next"))
	ch := make(chan codec.Event) // unbuffered, nobody reads: Put waits
	f := NewFollower(path, chanSink(ch))
	f.Now = func() time.Time { return testNow }
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Poll(ctx); err == nil {
		t.Fatal("poll with a blocked sink and a done ctx: no error")
	}
	big := make(chan codec.Event, 10)
	f.out = chanSink(big)
	if err := f.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(big) > 0 {
		got = append(got, (<-big).Log.Message)
	}
	equal(t, "after the sink freed", got, []string{cliBlock[0], "next"})
}
