package logtail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// headBytes is how much of a file's start is kept to recognise it. The
// first line holds its own timestamp, so two contents differ in it.
const headBytes = 4 << 10

// read sends every complete line of the open file from the current
// offset. When final, the file will not be read again (a newer one
// exists), so a last line without a newline is sent too instead of waiting
// for its end.
func (f *Follower) read(ctx context.Context, file candidate, final bool) error {
	if file.size < f.cur.offset {
		f.logger().Info("gateway log truncated, reading from the start", "file", file.path)
		f.Stats.Switches.Add(1)
		f.cur.offset = 0
	}
	if file.size == f.cur.offset {
		return nil // a partial line sent as final ends here too
	}
	fh := f.cur.fh
	if err := f.checkHead(fh); err != nil {
		return err
	}
	if _, err := fh.Seek(f.cur.offset, io.SeekStart); err != nil {
		f.Stats.ReadErrors.Add(1)
		return fmt.Errorf("seek log: %w", err)
	}
	return f.readLines(ctx, bufio.NewReaderSize(fh, 64<<10), file.path, final)
}

// checkHead restarts from 0 when the file's first bytes changed: a
// copy-truncate that grew back past our offset between two polls.
func (f *Follower) checkHead(fh *os.File) error {
	h := make([]byte, headBytes)
	n, err := fh.ReadAt(h, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Stats.ReadErrors.Add(1)
		return fmt.Errorf("read log head: %w", err)
	}
	h = h[:n]
	if f.cur.offset > 0 && (f.cur.head != nil && !bytes.HasPrefix(h, f.cur.head) || !f.afterNewline(fh)) {
		f.logger().Info("gateway log replaced, reading from the start", "file", fh.Name())
		f.Stats.Switches.Add(1)
		f.cur.offset = 0
	}
	f.cur.head = h
	return nil
}

// afterNewline checks that the offset follows a line's end, as every
// position we save does. It is the one check a position loaded after a
// restart can get, since the file's first bytes were not saved with it.
func (f *Follower) afterNewline(fh *os.File) bool {
	b := make([]byte, 1)
	_, err := fh.ReadAt(b, f.cur.offset-1)
	return err == nil && b[0] == '\n'
}

func (f *Follower) readLines(ctx context.Context, r *bufio.Reader, path string, final bool) error {
	for {
		line, n, complete, err := readLine(r, f.buf)
		f.buf = line[:0]
		if err != nil && !errors.Is(err, io.EOF) {
			f.Stats.ReadErrors.Add(1)
			return fmt.Errorf("read log: %w", err)
		}
		if n == 0 || (!complete && !final) {
			return nil // a partial line stays in the file until its newline
		}
		size := n // the line's length without its newline
		if complete {
			size--
		}
		end := f.cur.offset + int64(n)
		if err := f.handle(ctx, line[:min(size, len(line))], size, f.cursor(path, end)); err != nil {
			return err
		}
		f.cur.offset = end
		if !complete {
			return nil
		}
	}
}

// readLine reads one line, newline included in n (the bytes consumed).
// At most MaxLineBytes+1 bytes of it are kept in buf: enough to tell it is
// too long and to cut it on a rune boundary.
func readLine(r *bufio.Reader, buf []byte) (line []byte, n int, complete bool, err error) {
	line = buf[:0]
	for {
		frag, err := r.ReadSlice('\n')
		n += len(frag)
		if room := MaxLineBytes + 1 - len(line); room > 0 {
			line = append(line, frag[:min(room, len(frag))]...)
		}
		switch {
		case err == nil:
			return line, n, true, nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return line, n, false, err
		}
	}
}

func (f *Follower) cursor(path string, offset int64) *codec.Cursor {
	id := f.cur.file.id
	return &codec.Cursor{Key: f.Path, File: path, Dev: id.dev, Inode: id.ino, Offset: offset}
}

// handle parses one line and sends its event, unless its level is below
// MinLevel or it continues a held CLI failure (fold.go). line is at most
// MaxLineBytes+1 bytes of it; size its length. When it returns an error the
// line was not taken: it is read again.
func (f *Follower) handle(ctx context.Context, line []byte, size int, c *codec.Cursor) error {
	if err := f.flushHeld(ctx, false); err != nil {
		return err
	}
	f.Counters.Units.Add(1)
	now, isJSON := f.now(), false
	var l *codec.Log
	if size > MaxLineBytes {
		l = longLine(line, size, now)
		f.Stats.Truncated.Add(1)
	} else if l, isJSON = Parse(line, now); !isJSON {
		f.Stats.NotJSON.Add(1)
	}
	capMessage(l, f.MaxMessageBytes)
	if !f.MinLevel.Allows(l.Level) {
		f.Stats.Skipped.Add(1)
		return nil
	}
	l.Cursor = c
	if f.held != nil {
		if f.held.fold(l) {
			return nil
		}
		if err := f.sendHeld(ctx); err != nil {
			return err
		}
	}
	if isCLIFailure(l) {
		f.hold(l)
		return nil
	}
	return f.send(ctx, l)
}

func (f *Follower) send(ctx context.Context, l *codec.Log) error {
	if err := f.out.Put(ctx, codec.NewEvent(codec.Logtail, l)); err != nil {
		return err
	}
	f.Counters.Received.Add(1)
	return nil
}

func (f *Follower) now() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

// capMessage cuts the message at max bytes (OCT_MAX_TEXT_BYTES, like every
// other stored text) on a rune boundary and records the original length.
func capMessage(l *codec.Log, max int) {
	if max <= 0 {
		return
	}
	msg, cut := codec.CutText(l.Message, max)
	if !cut {
		return
	}
	if l.Metadata == nil {
		l.Metadata = map[string]any{}
	}
	tr, _ := l.Metadata["truncated"].(map[string]any)
	if tr == nil {
		tr = map[string]any{}
		l.Metadata["truncated"] = tr
	}
	tr["message"] = len(l.Message)
	l.Message = msg
}
