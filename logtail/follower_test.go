package logtail

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

func TestFollowAppend(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, lines("a1", "a2"))
	ts := newTester(t, path)
	equal(t, "existing lines", ts.poll(), []string{"a1", "a2"})
	equal(t, "no change", ts.poll(), nil)
	appendFile(t, path, lines("a3", "a4", "a5"))
	equal(t, "appended", ts.poll(), msgs("a", 3, 5))

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if ts.last.Offset != fi.Size() || ts.last.File != path || ts.last.Inode == 0 {
		t.Errorf("last cursor %+v, want offset %d in %s", ts.last, fi.Size(), path)
	}
	want := lineStats{LinesRead: 5, Emitted: 5}
	if got := statsOf(ts.f); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestFollowPartialLine(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	full := line("p2")
	appendFile(t, path, line("p1")+full[:20])
	ts := newTester(t, path)
	equal(t, "complete line only", ts.poll(), []string{"p1"})
	equal(t, "still partial", ts.poll(), nil)
	appendFile(t, path, full[20:])
	equal(t, "completed", ts.poll(), []string{"p2"})
}

// TestFollowRenameRotation rotates the way OpenClaw does (rename to .1.log,
// then a new file under the old name), with lines written to the old file
// after the last poll, for each way of naming the log.
func TestFollowRenameRotation(t *testing.T) {
	for _, mode := range []string{"file", "dir", "glob"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			live := join(dir, "openclaw-2026-03-06.log")
			path := map[string]string{"file": live, "dir": dir, "glob": join(dir, "openclaw-*.log")}[mode]
			appendFile(t, live, lines("r1", "r2"))
			ts := newTester(t, path)
			equal(t, "before", ts.poll(), []string{"r1", "r2"})

			appendFile(t, live, lines("r3"))
			rename(t, live, join(dir, "openclaw-2026-03-06.1.log"))
			equal(t, "rotated, no new file yet", ts.poll(), []string{"r3"})
			appendFile(t, live, lines("r4", "r5"))
			equal(t, "new file", ts.poll(), []string{"r4", "r5"})

			appendFile(t, live, lines("r6"))
			rename(t, join(dir, "openclaw-2026-03-06.1.log"), join(dir, "openclaw-2026-03-06.2.log"))
			rename(t, live, join(dir, "openclaw-2026-03-06.1.log"))
			appendFile(t, live, lines("r7"))
			equal(t, "second rotation in one poll", ts.poll(), []string{"r6", "r7"})
			equal(t, "settled", ts.poll(), nil)
		})
	}
}

func TestFollowCopyTruncate(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, lines("c1", "c2", "c3"))
	ts := newTester(t, path)
	equal(t, "before", ts.poll(), msgs("c", 1, 3))

	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, lines("c4"))
	equal(t, "shorter after truncate", ts.poll(), []string{"c4"})

	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, lines("c5", "c6", "c7", "c8"))
	equal(t, "grown past the old offset", ts.poll(), msgs("c", 5, 8))
	if got := statsOf(ts.f).Switches; got != 2 {
		t.Errorf("switches %d, want 2", got)
	}
}

func TestFollowNewDatedFile(t *testing.T) {
	dir := t.TempDir()
	appendFile(t, join(dir, "openclaw-2026-03-05.log"), lines("old"))
	appendFile(t, join(dir, "openclaw-2026-03-06.log"), lines("d1", "d2"))
	ts := newTester(t, dir)
	equal(t, "newest file only", ts.poll(), []string{"d1", "d2"})

	appendFile(t, join(dir, "openclaw-2026-03-06.log"), lines("d3"))
	appendFile(t, join(dir, "openclaw-2026-03-07.log"), lines("d4"))
	equal(t, "old day finished, new day", ts.poll(), []string{"d3", "d4"})
	appendFile(t, join(dir, "openclaw-2026-03-07.log"), lines("d5"))
	equal(t, "new day appended", ts.poll(), []string{"d5"})
}

func TestFollowLateFile(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{join(dir, "later.log"), join(dir, "sub"), join(dir, "openclaw-*.log")} {
		ts := newTester(t, path)
		equal(t, path+" missing", ts.poll(), nil)
		if path == join(dir, "sub") {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			equal(t, "empty dir", ts.poll(), nil)
			path = join(path, "x.log")
		}
		if strings.Contains(path, "*") {
			path = join(dir, "openclaw-2026-03-06.log")
		}
		appendFile(t, path, lines("l1"))
		equal(t, path+" appeared", ts.poll(), []string{"l1"})
	}
}

func TestFollowDeleteRecreate(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, lines("x1", "x2"))
	ts := newTester(t, path)
	equal(t, "before", ts.poll(), []string{"x1", "x2"})

	appendFile(t, path, lines("x2b"))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	equal(t, "deleted, read through the open handle", ts.poll(), []string{"x2b"})
	appendFile(t, path, lines("x3"))
	equal(t, "re-created", ts.poll(), []string{"x3"})

	// Deleted and re-created with more lines between two polls.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, lines("x4", "x5", "x6"))
	equal(t, "re-created within one poll", ts.poll(), msgs("x", 4, 6))
}

func TestFollowMinLevelAndOddLines(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	debug := strings.Replace(line("dbg"), `"INFO"`, `"DEBUG"`, 1)
	long := strings.Repeat("z", MaxLineBytes+10)
	appendFile(t, path, debug+"plain text\n"+long+"\n"+line("ok")+"\n")
	ts := newTester(t, path)
	got := ts.poll()
	want := []string{"plain text", long[:MaxLineBytes], "ok", ""}
	equal(t, "kept lines", got, want)
	wantStats := lineStats{LinesRead: 5, Emitted: 4, Skipped: 1, NotJSON: 2, Truncated: 1}
	if st := statsOf(ts.f); st != wantStats {
		t.Errorf("stats %+v, want %+v", st, wantStats)
	}
}

// positions is a Positions holding one saved cursor, as the store would.
type positions struct{ c *codec.Cursor }

func (p positions) Cursor(_ context.Context, key string) (*codec.Cursor, error) {
	if p.c == nil || p.c.Key != key {
		return nil, nil
	}
	return p.c, nil
}

func TestFollowResume(t *testing.T) {
	dir := t.TempDir()
	live := join(dir, "openclaw.log")
	appendFile(t, live, lines("s1", "s2", "s3"))
	first := newTester(t, live)
	equal(t, "first run", first.poll(), msgs("s", 1, 3))

	// Stopped: more lines, then two rotations, before the restart.
	appendFile(t, live, lines("s4"))
	rename(t, live, join(dir, "openclaw.1.log"))
	appendFile(t, live, lines("s5"))
	rename(t, join(dir, "openclaw.1.log"), join(dir, "openclaw.2.log"))
	rename(t, live, join(dir, "openclaw.1.log"))
	appendFile(t, live, lines("s6"))

	second := newTester(t, live)
	second.f.Positions = positions{first.last}
	equal(t, "resumed", second.poll(), msgs("s", 4, 6))

	appendFile(t, live, lines("s7"))
	third := newTester(t, live)
	third.f.Positions = positions{second.last}
	equal(t, "resumed again", third.poll(), []string{"s7"})
}

func TestFollowResumeLostFile(t *testing.T) {
	dir := t.TempDir()
	live := join(dir, "openclaw.log")
	appendFile(t, live, lines("g1"))
	first := newTester(t, live)
	first.poll()
	// Keep the old inode busy so the new file cannot reuse it.
	old, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := os.Remove(live); err != nil {
		t.Fatal(err)
	}
	appendFile(t, live, lines("g2"))
	second := newTester(t, live)
	second.f.Positions = positions{first.last}
	equal(t, "saved file gone: newest from start", second.poll(), []string{"g2"})
}

// TestFollowResumeReusedInode: the saved file was deleted and a new one got
// its inode. The saved offset no longer follows a newline there, which
// gives the replacement away.
func TestFollowResumeReusedInode(t *testing.T) {
	live := join(t.TempDir(), "openclaw.log")
	appendFile(t, live, lines("h1"))
	first := newTester(t, live)
	first.poll()
	saved := *first.last
	if err := os.Remove(live); err != nil {
		t.Fatal(err)
	}
	appendFile(t, live, lines("h2 is longer than the first"))
	saved.Dev, saved.Inode = first.f.cur.file.id.dev, first.f.cur.file.id.ino
	if c, _ := stat(live); c.id != (fileID{saved.Dev, saved.Inode}) {
		t.Skip("inode not reused here")
	}
	second := newTester(t, live)
	second.f.Positions = positions{&saved}
	equal(t, "replacement read from start", second.poll(), []string{"h2 is longer than the first"})
}
