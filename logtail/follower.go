package logtail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// DefaultPollInterval is how often the log is checked for new lines and
// rotations. The design asks for ≤ 1 s; one stat per poll costs nothing.
const DefaultPollInterval = 500 * time.Millisecond

// Positions gives back the position saved with the last stored line of key
// (the configured Path), or nil when there is none. The store implements it
// from the Cursor of each log event it writes.
type Positions interface {
	Cursor(ctx context.Context, key string) (*codec.Cursor, error)
}

// Follower tails the gateway log and sends one event per line to its
// output channel. Each event carries the Cursor after its line.
//
// Without a saved position it reads the newest file from its beginning, so
// lines written before start-up are kept. It keeps the followed file open
// (Close releases it), so after a rename (.1.log) or a deletion it still
// reads the old file to its end before taking the next newer file, found
// by name; after a restart it finds the saved file by device and inode. A
// file shorter than the position, or whose first bytes changed
// (copy-truncate), is read again from 0. Only complete lines are sent; a
// partial last line waits for its newline, unless a newer file shows it
// will never come.
//
// Unlike the network listeners it never drops on a full channel: the file
// is its buffer, so it waits (or returns when ctx ends) and resumes from
// the file later. Its position only advances once a line's event is sent.
// The one exception to one event per line is a failed CLI command's block
// of lines, folded into one event (fold.go).
type Follower struct {
	// Path is a file, a directory (its newest *.log file is followed) or a
	// glob such as /tmp/openclaw/openclaw-*.log (its newest match).
	Path         string
	PollInterval time.Duration
	MinLevel     Level // lines with a lower level are skipped
	// MaxMessageBytes caps a stored message (0: only the 64 KiB line cap).
	MaxMessageBytes int
	Now             func() time.Time
	Positions       Positions // nil: start at the beginning of the newest file
	Logger          *slog.Logger
	// FoldWait bounds how long a CLI failure is held for the rest of its
	// block (fold.go); 0 sends it at the end of the poll that read it.
	FoldWait time.Duration

	// Counters is the follower's accounting: Units counts complete lines
	// read (each sent, folded or skipped), Received the events sent. It
	// never drops: the file is its buffer. Stats counts the rest.
	Counters codec.Counters
	Stats    Stats

	out    Sink
	cancel context.CancelFunc // stops the loop Open started
	wg     sync.WaitGroup

	// Poll state, owned by the one goroutine that polls.
	loaded  bool
	cur     *position
	buf     []byte
	lastErr string
	held    *held // a CLI failure waiting for the rest of its block
}

// position is where reading resumes.
type position struct {
	file   candidate // as last seen
	offset int64     // after the last line handled
	seen   bool      // found on disk since start (false for a loaded cursor)
	head   []byte    // the file's first bytes, to notice it was replaced
	fh     *os.File  // open while followed, so a rename or delete loses nothing
}

// Sink takes events, waiting for room: *codec.Queue in the daemon.
type Sink interface {
	Put(ctx context.Context, ev codec.Event) error
}

// NewFollower returns a Follower of path sending to out, with defaults.
func NewFollower(path string, out Sink) *Follower {
	return &Follower{
		Path:         path,
		PollInterval: DefaultPollInterval,
		MinLevel:     DefaultMinLevel,
		FoldWait:     DefaultFoldWait,
		Now:          time.Now,
		out:          out,
	}
}

// Open runs Run in the background until Close; PollInterval 0 starts
// nothing (tests call Poll).
func (f *Follower) Open() {
	if f.PollInterval <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Go(func() { f.Run(ctx) })
}

// Run polls every PollInterval until ctx is done, then returns nil. Poll
// errors are logged and counted; the next poll retries.
func (f *Follower) Run(ctx context.Context) error {
	if f.PollInterval <= 0 {
		return errors.New("logtail: poll interval must be positive")
	}
	defer f.closeFile()
	t := time.NewTicker(f.PollInterval)
	defer t.Stop()
	for {
		if err := f.Poll(ctx); err != nil && ctx.Err() == nil {
			f.warnOnce(err)
		} else if err == nil {
			f.lastErr = ""
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// warnOnce logs an error when it differs from the previous poll's, so a
// lasting problem (permissions) is not logged twice a second.
func (f *Follower) warnOnce(err error) {
	if err.Error() != f.lastErr {
		f.lastErr = err.Error()
		f.logger().Warn("follow gateway log", "path", f.Path, "err", err)
	}
}

func (f *Follower) logger() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}

// maxSteps bounds the files one poll moves through (rotated siblings and
// the live file); the rest waits for the next poll.
const maxSteps = 16

// Poll reads every complete line written since the last poll, following
// rotations, and sends their events. It must not run concurrently with
// itself; Run calls it, tests call it directly.
func (f *Follower) Poll(ctx context.Context) error {
	if err := f.load(ctx); err != nil {
		f.Stats.ReadErrors.Add(1)
		return err
	}
	err := f.steps(ctx)
	if ferr := f.flushHeld(ctx, true); err == nil {
		err = ferr
	}
	return err
}

func (f *Follower) steps(ctx context.Context) error {
	for range maxSteps {
		again, err := f.step(ctx)
		if err != nil || !again {
			return err
		}
	}
	return nil
}

// load reads the saved position once; until it succeeds nothing is read,
// since starting from scratch would store lines twice.
func (f *Follower) load(ctx context.Context) error {
	if f.loaded {
		return nil
	}
	if f.Positions != nil {
		c, err := f.Positions.Cursor(ctx, f.Path)
		if err != nil {
			return fmt.Errorf("load log position: %w", err)
		}
		if c != nil && c.Key == f.Path {
			f.cur = &position{file: candidate{path: c.File, id: fileID{c.Dev, c.Inode}}, offset: c.Offset}
		}
	}
	f.loaded = true
	return nil
}

// Stats are the follower's counters beside its accounting. Lines read =
// events sent + Folded + Skipped.
type Stats struct {
	Folded     atomic.Int64 // lines folded into the event of the line before (a CLI failure block)
	Skipped    atomic.Int64 // lines below MinLevel
	NotJSON    atomic.Int64 // lines kept whole as kind other
	Truncated  atomic.Int64 // lines over MaxLineBytes, kept cut
	Switches   atomic.Int64 // moves to another file, and restarts after copy-truncate
	ReadErrors atomic.Int64 // failed opens, reads, position loads and listings
}
