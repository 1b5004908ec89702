package budget

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

// DefaultAlertQueue bounds the alerts waiting for the Alerter: a few per
// budget and window, so it only fills when the database cannot be written.
const DefaultAlertQueue = 256

// Alerter raises the alerts a Tracker decides, on a goroutine of its own
// (the Tracker decides on the writer's): it records each in budget_alerts
// first, so none is raised twice, also across restarts; then it logs it,
// stores its event (error_type budget) through the ingest queue, and hands
// it to Notify (the alert webhook).
type Alerter struct {
	Logger *slog.Logger
	// Notify, when set, is told of each alert raised; it must not block.
	Notify func(Alert)

	// Counters is the budget transport's accounting: one unit and one
	// event per alert raised, offered to the queue.
	Counters codec.Counters
	// Raised counts alerts recorded and raised; Repeated, alerts found
	// recorded already (raised before a restart: not again); Dropped,
	// alerts lost because the Alerter's queue was full or closing;
	// RecordErrors, alerts whose record failed (raised anyway: better
	// twice than never).
	Raised, Repeated, Dropped, RecordErrors atomic.Int64

	db    *store.DB
	queue *codec.Queue
	in    chan Alert

	mu     sync.Mutex
	closed bool
	cancel context.CancelFunc
	done   chan struct{}
}

// NewAlerter returns an Alerter that records in db and stores events
// through q.
func NewAlerter(db *store.DB, q *codec.Queue) *Alerter {
	return &Alerter{Logger: slog.New(slog.DiscardHandler), db: db, queue: q, in: make(chan Alert, DefaultAlertQueue)}
}

// Alert queues al without blocking: it is the Tracker's OnAlert.
func (a *Alerter) Alert(al Alert) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		a.Dropped.Add(1)
		return
	}
	select {
	case a.in <- al:
	default:
		a.Dropped.Add(1)
		a.Logger.Error("budget alert dropped: the alert queue is full (is the database writable?)", "budget_id", al.ID,
			"threshold_pct", al.ThresholdPct)
	}
}

// Pending is the number of alerts decided and not yet raised.
func (a *Alerter) Pending() int { return len(a.in) }

// Open raises the queued alerts in the background until Close.
func (a *Alerter) Open() {
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel, a.done = cancel, make(chan struct{})
	go func() {
		defer close(a.done)
		for al := range a.in {
			if ctx.Err() != nil {
				a.Dropped.Add(1)
				continue
			}
			a.Raise(ctx, al)
		}
	}()
}

// Close raises what is queued, within ctx; what is left when ctx ends is
// counted as dropped. Alerts that come after are dropped too.
func (a *Alerter) Close(ctx context.Context) error {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.in)
	}
	a.mu.Unlock()
	if a.done == nil { // never opened
		for range a.in {
			a.Dropped.Add(1)
		}
		return nil
	}
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
	}
	a.cancel()
	<-a.done
	return ctx.Err()
}

// Raise records al and, unless it was recorded already, raises it: the
// log line, the event, Notify.
func (a *Alerter) Raise(ctx context.Context, al Alert) {
	fresh, err := a.db.RecordBudgetAlert(ctx, al.Record())
	switch {
	case err != nil:
		a.RecordErrors.Add(1)
		a.Logger.Error("budget alert not recorded: raised anyway, it may be raised again after a restart", "err", err)
	case !fresh:
		a.Repeated.Add(1)
		a.Logger.Debug("budget alert raised before", "budget_id", al.ID, "threshold_pct", al.ThresholdPct)
		return
	}
	a.Raised.Add(1)
	fields := al.Fields()
	attrs := make([]any, 0, 2*len(fields)+2)
	attrs = append(attrs, "text", al.Text())
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		attrs = append(attrs, k, fields[k])
	}
	a.Logger.Warn("budget alert", attrs...)
	a.Counters.Units.Add(1)
	a.Counters.Offer(a.queue, al.Event())
	if a.Notify != nil {
		a.Notify(al)
	}
}
