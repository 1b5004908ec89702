// Package push ships the rows openclaw-trace has stored to a remote API:
// bounded pages of unsynced rows are packed into JSON bodies of at most
// MaxBytes, POSTed with retries, and marked synced only when the body that
// held them was answered 2xx. Delivery is at least once; the receiver
// de-duplicates on trace_id.
package push

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"
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
	DefaultCooldownAfter   = 3 // failed cycles in a row
	DefaultCooldown        = 15 * time.Minute
	DefaultUserAgent       = "openclaw-trace"
)

// Tables are the data tables pushed, in the order they appear in a body.
var tables = [...]string{"llm_traces", "error_events", "system_metrics", "log_events"}

// Row is one unsynced row: its local id and its columns as a JSON object
// that includes trace_id. It is the same type as store.PushRow.
type Row = struct {
	ID   int64
	JSON json.RawMessage
}

// Attempt is one push_log row, one HTTP attempt of one body. It is the same
// type as store.PushAttempt.
type Attempt = struct {
	At         int64  // unix ms when the attempt started
	BatchID    string // the body's batch_id; the same for its retries
	Status     string // "ok" or "error"
	HTTPStatus int    // 0 when no answer came
	Rows       int    // rows acknowledged by this attempt
	Bytes      int64  // uncompressed body size
	DurationMS int64
	Error      string // never holds the token
}

// Source is what push reads and marks; *store.DB satisfies it.
type Source interface {
	// UnsyncedPage returns up to limit unsynced rows of table with
	// id > afterID, oldest first.
	UnsyncedPage(ctx context.Context, table string, afterID int64, limit int) ([]Row, error)
	// MarkSynced marks the rows synced with pushed_at (unix ms).
	MarkSynced(ctx context.Context, table string, ids []int64, pushedAt int64) error
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

	// Retries of one body: exponential from InitialInterval, doubling up to
	// MaxInterval, with full jitter; at most MaxRetries retries and
	// MaxElapsed in all. Retry-After replaces the computed wait.
	MaxRetries      int
	MaxElapsed      time.Duration
	InitialInterval time.Duration
	MaxInterval     time.Duration

	// After CooldownAfter failed cycles in a row, Run skips cycles until
	// Cooldown has passed, then tries one cycle again.
	CooldownAfter int
	Cooldown      time.Duration

	Now    func() time.Time
	Logger *slog.Logger

	Stats // counters, read with atomic loads

	src Source

	cycleMu sync.Mutex // one cycle at a time: Run's and a final PushOnce

	mu         sync.Mutex // guards the fields below
	lastTime   int64
	lastStatus string
	failedRun  int       // failed cycles in a row
	pauseUntil time.Time // Run skips cycles before this (cool-down, long Retry-After)
}

// NewClient returns a Client that pushes src's rows to endpoint.
func NewClient(endpoint string, src Source) *Client {
	return &Client{
		Endpoint:        endpoint,
		UserAgent:       DefaultUserAgent,
		Interval:        DefaultInterval,
		MaxBytes:        DefaultMaxBytes,
		Gzip:            DefaultGzip,
		HTTPClient:      &http.Client{Timeout: DefaultTimeout},
		PageSize:        DefaultPageSize,
		MaxRetries:      DefaultMaxRetries,
		MaxElapsed:      DefaultMaxElapsed,
		InitialInterval: DefaultInitialInterval,
		MaxInterval:     DefaultMaxInterval,
		CooldownAfter:   DefaultCooldownAfter,
		Cooldown:        DefaultCooldown,
		Now:             time.Now,
		Logger:          slog.New(slog.DiscardHandler),
		src:             src,
		lastStatus:      StatusPending,
	}
}
