// Package otlp exports the rows openclaw-trace has stored to an
// OpenTelemetry backend over OTLP/HTTP (protobuf or JSON): LLM calls as
// GenAI spans and client histograms, errors and gateway log events as log
// records, system samples as gauges. Each stream keeps its own delivery
// position, so the exporter and the push each get every row; retries,
// outcomes and the loop are the push's (package push).
package otlp

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/push"
)

// Defaults of the Exporter's tunables.
const (
	DefaultInterval    = 10 * time.Second
	DefaultTimeout     = 10 * time.Second // OTEL_EXPORTER_OTLP_TIMEOUT's default in the spec
	DefaultPageSize    = 500              // rows per OTLP request
	DefaultServiceName = "openclaw"
	// SinkName names the exporter's positions in the store.
	SinkName = "otlp"
)

// Source is what the Exporter reads and advances: every row of a table
// in id order, and its own position in each stream (a sink's high-water
// id, saved by the store); *store.DB satisfies it. Rows are never re-read
// once the position has passed them, so a position must only move after
// a 2xx (or a permanent rejection, which is counted).
type Source interface {
	// PageAfter returns up to limit rows of table with id > afterID,
	// oldest first, whether the push has sent them or not.
	PageAfter(ctx context.Context, table string, afterID int64, limit int) ([]codec.Row, error)
	// Position returns the last id stream has delivered of table (0: none).
	Position(ctx context.Context, stream, table string) (int64, error)
	// Advance saves id as stream's position in table.
	Advance(ctx context.Context, stream, table string, id int64) error
	// CountAfter counts the rows of table with id > afterID.
	CountAfter(ctx context.Context, table string, afterID int64) (int64, error)
}

// Exporter sends the rows of a Source to an OTLP/HTTP receiver:
// llm_traces as spans and as the GenAI client histograms, error_events and
// log_events as log records, system_metrics as gauges.
type Exporter struct {
	TracesURL  string // full URLs; "" skips the signal
	LogsURL    string
	MetricsURL string
	Headers    map[string]string // sent on every request; values are secrets, never logged
	JSON       bool              // http/json instead of http/protobuf
	Gzip       bool
	UserAgent  string
	HTTPClient *http.Client
	Interval   time.Duration // Run's cycle; 0 turns the loop off
	PageSize   int

	// Resource attributes of every request (service.name among them).
	Resource map[string]string

	Retry push.Retry // of one request
	// MaxHold bounds the wait of a Retry-After longer than the retries
	// may wait (Retry.MaxElapsed): the signal's later cycles skip it until
	// then.
	MaxHold time.Duration

	Now    func() time.Time
	Logger *slog.Logger

	Stats

	src Source

	cycleMu sync.Mutex   // one cycle at a time: Run's and a final ExportOnce
	gz      push.Gzipper // the cycle's; guarded by cycleMu

	last push.Outcome

	mu   sync.Mutex // guards hold
	hold [3]held    // by signal
}

// held is a signal waiting for its receiver's Retry-After.
type held struct {
	until time.Time
	err   error // the answer that asked for the wait
}

// NewExporter returns an Exporter of src's rows; set the URLs of the
// signals to send.
func NewExporter(src Source) *Exporter {
	return &Exporter{
		UserAgent:  push.DefaultUserAgent,
		HTTPClient: &http.Client{Timeout: DefaultTimeout},
		Interval:   DefaultInterval,
		PageSize:   DefaultPageSize,
		Resource:   map[string]string{"service.name": DefaultServiceName},
		Retry:      push.DefaultRetry,
		MaxHold:    push.DefaultMaxHold,
		Now:        time.Now,
		Logger:     slog.New(slog.DiscardHandler),
		src:        src,
	}
}

// Run exports every Interval until ctx ends; with Interval 0 it returns at
// once.
func (e *Exporter) Run(ctx context.Context) error {
	push.Every(ctx, e.Interval, func(ctx context.Context) { e.ExportOnce(ctx) })
	return nil
}

// LastExportTime returns when a request was last answered 2xx (unix ms), or 0.
func (e *Exporter) LastExportTime() int64 { return e.last.Time() }

// LastExportStatus returns "pending" before the first request, then "ok" or
// "error: <short reason>".
func (e *Exporter) LastExportStatus() string { return e.last.Status() }

// putResource writes the resource attributes of every request.
func (e *Exporter) putResource(a pcommon.Map) {
	a.EnsureCapacity(len(e.Resource))
	for k, v := range e.Resource {
		a.PutStr(k, v)
	}
}

// Flush runs one ExportOnce: the Exporter as a push.Sink.
func (e *Exporter) Flush(ctx context.Context) (int64, error) { return e.ExportOnce(ctx) }
