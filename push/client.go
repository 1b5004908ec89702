// Package push ships the rows openclaw-trace has stored to a remote API:
// bounded pages of unsynced rows are packed into JSON bodies of at most
// MaxBytes, POSTed with retries, and marked synced only when the body that
// held them was answered 2xx. Delivery is at least once; the receiver
// de-duplicates on trace_id.
//
// It also holds what every sink shares (push/otlp is the other one): one
// HTTP attempt (Post), the retry policy with Retry-After (Retry), the
// bookkeeping after an answer (Bookkeep), what a sink last heard
// (Outcome), its rejected rows (Rejects), its loop (Every) and the
// daemon's start and final flush of all of them (Sinks).
package push

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// Defaults of the Client's tunables.
const (
	DefaultInterval        = 5 * time.Minute
	DefaultMaxBytes        = 1 << 20 // before compression; 5 MiB bodies peaked at 45 MiB RSS
	DefaultGzip            = true
	DefaultTimeout         = 30 * time.Second // one HTTP attempt, body upload included
	DefaultPageSize        = 250              // rows read per query
	DefaultMaxRetries      = 5                // after the first attempt of a body
	DefaultMaxElapsed      = 2 * time.Minute  // retries of one body stop after this
	DefaultInitialInterval = 1 * time.Second
	DefaultMaxInterval     = 30 * time.Second
	DefaultCooldownAfter   = 3                // failed cycles in a row
	DefaultMaxHold         = 15 * time.Minute // longest wait a Retry-After gets
	DefaultUserAgent       = "openclaw-trace"
)

// tables are the data tables pushed, in the order they appear in a body.
var tables = func() (names [codec.NumDataTables]string) {
	for i, t := range codec.DataTables {
		names[i] = t.Name
	}
	return names
}()

// Row is one unsynced row: its local id and its columns as a JSON object
// that includes trace_id.
type Row = codec.Row

// Attempt is one push_log row, one HTTP attempt of one body.
type Attempt = codec.PushAttempt

// Source is what push reads and marks; *store.DB satisfies it.
type Source interface {
	// UnsyncedPage returns up to limit unsynced rows of table with
	// id > afterID, oldest first.
	UnsyncedPage(ctx context.Context, table string, afterID int64, limit int) ([]Row, error)
	// MarkSynced marks the rows synced with pushed_at (unix ms).
	MarkSynced(ctx context.Context, table string, ids []int64, pushedAt int64) error
	// SetAside marks a row the receiver refuses, with its answer, so it is
	// kept but no longer pushed.
	SetAside(ctx context.Context, table string, id int64, answer string, at int64) error
	// LogPush records one attempt in push_log.
	LogPush(ctx context.Context, a Attempt) error
	// UnsyncedCount counts the rows not yet pushed.
	UnsyncedCount(ctx context.Context) (int64, error)
}

// Client pushes the rows of a Source to one endpoint. Set the tunables
// before the first PushOnce or Run.
type Client struct {
	Endpoint   string
	Token      string // sent as "Authorization: Bearer …" when set; never logged
	AgentID    string
	UserAgent  string
	Interval   time.Duration // Run's cycle; 0 turns the loop off
	MaxBytes   int           // cap on an uncompressed body; one larger row goes alone
	Gzip       bool
	HTTPClient *http.Client
	PageSize   int

	Retry Retry // of one body

	// After CooldownAfter failed cycles in a row, Run cools down: each
	// tick sends one empty body, without retries, and runs a cycle only
	// once the receiver answers it, so a receiver that comes back gets the
	// rows within one Interval and one that stays down one small request
	// per Interval.
	CooldownAfter int
	// MaxHold bounds how long a Retry-After the retries could not honour
	// holds Run back.
	MaxHold time.Duration

	Now    func() time.Time
	Logger *slog.Logger

	Stats // counters, read with atomic loads

	src Source

	cycleMu sync.Mutex // one cycle at a time: Run's and a final PushOnce

	last Outcome

	mu        sync.Mutex // guards the fields below
	failedRun int        // failed cycles in a row
	holdUntil time.Time  // Run skips cycles before this (a long Retry-After)
}

// NewClient returns a Client that pushes src's rows to endpoint.
func NewClient(endpoint string, src Source) *Client {
	return &Client{
		Endpoint:      endpoint,
		UserAgent:     DefaultUserAgent,
		Interval:      DefaultInterval,
		MaxBytes:      DefaultMaxBytes,
		Gzip:          DefaultGzip,
		HTTPClient:    &http.Client{Timeout: DefaultTimeout},
		PageSize:      DefaultPageSize,
		Retry:         DefaultRetry,
		CooldownAfter: DefaultCooldownAfter,
		MaxHold:       DefaultMaxHold,
		Now:           time.Now,
		Logger:        slog.New(slog.DiscardHandler),
		src:           src,
	}
}
