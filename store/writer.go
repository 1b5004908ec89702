package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// Defaults for the writer's transaction size.
const (
	DefaultBatchSize   = 50
	DefaultBatchWindow = 500 * time.Millisecond
)

// Writer is the only goroutine that writes events: it takes them from the
// ingest channel and commits up to BatchSize of them, or what arrived within
// BatchWindow of the first, in one transaction, in its write turn.
type Writer struct {
	BatchSize   int
	BatchWindow time.Duration
	Logger      *slog.Logger

	// Counters is the writer's part of each transport's accounting:
	// Written counts rows committed; Dropped, the events given up on
	// (write_error: the batch and the row alone both failed) and those
	// Stop left unwritten (shutdown).
	Counters [codec.NumTransports]codec.Counters
	// Batches counts committed transactions.
	Batches atomic.Int64
	// Committed, when set (before Open), is called on the writer's
	// goroutine right after each transaction commits, with exactly the
	// events it committed: a whole batch, or one event of the row-by-row
	// fallback. evs is reused once Committed returns, and the writer waits
	// for it: it must be cheap and must not block. It runs before the
	// Written counters move, so a reader who sees a row counted written
	// finds it in what Committed feeds.
	Committed func(evs []codec.Event)
	// Taken, when set (before Open), is called on the writer's goroutine
	// with each event as it comes off the channel, before it is written or
	// dropped: the daemon's codec.Queue.Release, which gives the event's
	// bytes back to the queue's budget. It must be cheap.
	Taken func(ev *codec.Event)

	db *DB
	in <-chan codec.Event
	// The writer talks to the driver's connection directly (sql.Conn.Raw):
	// database/sql's per-row argument conversion and per-transaction
	// statement rebinding were a quarter of the intake's allocations.
	stmts    writerStmts
	stmtConn any // the driver connection stmts belong to
	args     []driver.NamedValue
	opened   bool
	done     chan struct{} // closed when the loop Open started returns
	rollups  *rollups      // the daily rollups' part of the transaction (rollup_write.go)

	// ctx is cancelled by Stop: it interrupts the transaction in progress.
	ctx      context.Context
	stop     context.CancelFunc
	errMu    sync.Mutex
	err      error // the last write's error, nil once a transaction commits
	failures int64 // events given up on since err was set
}

// NewWriter returns a Writer that drains in into db.
func NewWriter(db *DB, in <-chan codec.Event) *Writer {
	ctx, stop := context.WithCancel(context.Background())
	return &Writer{
		BatchSize:   DefaultBatchSize,
		BatchWindow: DefaultBatchWindow,
		Logger:      slog.New(slog.DiscardHandler),
		db:          db,
		in:          in,
		ctx:         ctx,
		stop:        stop,
	}
}

// Open prepares the writer's statements, so that one that does not compile
// (a schema the binary does not expect) stops start-up instead of failing
// every batch, then runs Run in the background until Close.
func (w *Writer) Open() error {
	if err := w.prepareTurn(); err != nil {
		return err
	}
	w.done = make(chan struct{})
	go func() {
		defer close(w.done)
		w.Run() // prepared above: it returns only once drained or stopped
	}()
	return nil
}

func (w *Writer) prepareTurn() error {
	err := w.db.writeTurn(w.ctx, func(ctx context.Context, conn *sql.Conn) error {
		return conn.Raw(func(dc any) error {
			_, err := w.prepare(ctx, dc)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("open writer: %w", err)
	}
	w.opened = true
	return nil
}

// Run writes until the channel is closed and drained, or until Stop. It
// never stops on a write error: failed events are counted, Err reports the
// failure, and the loop goes on. Open runs it in the background; tests
// may run it themselves instead.
func (w *Writer) Run() error {
	if !w.opened {
		if err := w.prepareTurn(); err != nil {
			return err
		}
	}
	defer w.closeStmtsTurn()
	batch := make([]codec.Event, 0, w.BatchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var ev codec.Event
		var ok bool
		select {
		case <-w.ctx.Done():
			w.abandon(nil)
			return nil
		case ev, ok = <-w.in:
		}
		if !ok {
			return nil
		}
		w.took(&ev)
		batch = append(batch[:0], ev)
		timer.Reset(w.BatchWindow)
		open := w.fill(&batch, timer)
		timer.Stop()
		w.commit(batch)
		if !open {
			return nil
		}
	}
}

// fill adds events to batch until it is full, the window has passed, the
// writer is stopped or the channel is closed; it reports whether the
// channel is still open.
func (w *Writer) fill(batch *[]codec.Event, timer *time.Timer) bool {
	for len(*batch) < w.BatchSize {
		select {
		case ev, ok := <-w.in:
			if !ok {
				return false
			}
			w.took(&ev)
			*batch = append(*batch, ev)
		case <-timer.C:
			return true
		case <-w.ctx.Done():
			return true
		}
	}
	return true
}

// took tells Taken that ev came off the channel.
func (w *Writer) took(ev *codec.Event) {
	if w.Taken != nil {
		w.Taken(ev)
	}
}

// commit writes batch in one transaction, tries once more, and then falls
// back to one transaction per event so one bad row cannot take the others
// with it. What still fails is counted as write_error; what Stop kept from
// being written, as shutdown.
func (w *Writer) commit(batch []codec.Event) {
	err := w.writeTx(batch)
	if err == nil {
		return
	}
	if w.stopped(batch) {
		return
	}
	w.Logger.Warn("write batch failed, retrying", "events", len(batch), "err", err)
	if err = w.writeTx(batch); err == nil || w.stopped(batch) {
		return
	}
	w.Logger.Error("write batch failed twice, writing events one by one", "events", len(batch), "err", err)
	for i := range batch {
		if err := w.writeTx(batch[i : i+1]); err != nil {
			if w.stopped(batch[i:]) {
				return
			}
			w.givenUp(&batch[i], err)
		}
	}
}

// writeTx writes batch in one transaction in the writer's turn, on the
// driver connection with the statements prepared on it.
func (w *Writer) writeTx(batch []codec.Event) error {
	err := w.writeTurnWithRoom(func(ctx context.Context, conn *sql.Conn) error {
		return conn.Raw(func(dc any) error {
			c, err := w.prepare(ctx, dc)
			if err != nil {
				return err
			}
			// Only BEGIN (IMMEDIATE: it waits for the write lock) can be
			// interrupted by Stop. The inserts run without a done channel:
			// with one the driver starts a watcher goroutine per statement,
			// which cost the writer a fifth of its rate.
			tx, err := c.BeginTx(ctx, driver.TxOptions{})
			if err != nil {
				return fmt.Errorf("begin: %w", err)
			}
			if err := w.insertAll(context.Background(), batch); err != nil {
				tx.Rollback()
				return err
			}
			if err := tx.Commit(); err != nil {
				return fmt.Errorf("commit: %w", err)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	w.committed()
	// The hook first, the counters after: whoever reads "written" (the
	// /health page, a test, an operator) then finds those rows in what
	// the hook feeds (usage series, budgets) too.
	if w.Committed != nil {
		w.Committed(batch)
	}
	w.Batches.Add(1)
	for i := range batch {
		w.Counters[batch[i].Transport].Written.Add(1)
	}
	return nil
}

// closeStmtsTurn closes the prepared statements in a turn of their own.
// After Stop it leaves them to DB.Close, which closes them with the
// connection: an interrupted transaction makes the driver discard its
// connection, and a new one would first apply the DSN's pragmas, which
// wait for the write lock that whoever made the drain time out may hold.
func (w *Writer) closeStmtsTurn() {
	if w.ctx.Err() != nil {
		return
	}
	w.db.writeTurn(w.ctx, func(_ context.Context, conn *sql.Conn) error {
		return conn.Raw(func(dc any) error { w.closeStmts(dc); return nil })
	})
}

// insertAll inserts the rows of batch and saves the last log cursor of
// each followed file.
func (w *Writer) insertAll(ctx context.Context, batch []codec.Event) error {
	cursors := map[string]*codec.Cursor{}
	for i := range batch {
		if err := w.insert(ctx, &batch[i]); err != nil {
			return err
		}
		if l := batch[i].Log; l != nil && l.Cursor != nil {
			cursors[l.Cursor.Key] = l.Cursor
		}
	}
	for _, c := range cursors {
		if _, err := w.stmts.cursor.ExecContext(ctx, w.cursorArgs(c, time.Now().UnixMilli())); err != nil {
			return fmt.Errorf("save log cursor: %w", err)
		}
	}
	return w.addRollups(ctx, batch)
}

func (w *Writer) insert(ctx context.Context, ev *codec.Event) error {
	table := ev.DataTable()
	if table == nil {
		return fmt.Errorf("event %s has no payload", ev.TraceID)
	}
	args, err := w.rowArgs(table, ev)
	if err != nil {
		return fmt.Errorf("insert %s: %w", table.Name, err)
	}
	if _, err := w.stmts.insert[table].ExecContext(ctx, args); err != nil {
		return fmt.Errorf("insert %s: %w", table.Name, err)
	}
	return nil
}
