package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/codec/price"
	"github.com/openclaw/openclaw-trace/listener"
	"github.com/openclaw/openclaw-trace/logtail"
	"github.com/openclaw/openclaw-trace/metrics"
	llmusage "github.com/openclaw/openclaw-trace/metrics/usage" // a test helper is named usage
	"github.com/openclaw/openclaw-trace/push"
	"github.com/openclaw/openclaw-trace/push/otlp"
	"github.com/openclaw/openclaw-trace/store"
)

// Main is the daemon: every component, wired. Run opens them; Close closes
// them in order: intake, producers, queue, writer, final push, database.
// Each component runs and stops its own goroutines.
type Main struct {
	Config *Config
	Logger *slog.Logger

	DB       *store.DB
	Queue    *codec.Queue
	Writer   *store.Writer
	HTTP     *listener.HTTP
	Unixgram *listener.Unixgram
	UDP      *listener.UDP
	Sampler  *metrics.Sampler
	Push     *push.Client
	Export   *otlp.Exporter // nil unless an OTEL_EXPORTER_OTLP_* URL is set
	Cleaner  *store.Cleaner
	Follower *logtail.Follower
	Prices   *price.Lazy     // embedded table + OCT_PRICES_FILE
	Unpriced *codec.Unpriced // traces left without a cost, per model
	Budgets  *budgets        // nil without OCT_BUDGETS (budgets.go)
	Unknown  *codec.UnknownFields
	Trimmed  *codec.Trimmed // events whose metadata was cut to the caps

	// Usage is the LLM usage series of committed calls, on /metrics.
	Usage *llmusage.Series

	// accounts are, by transport, the counters of every component that
	// handles its events; /health and /metrics sum them.
	accounts [codec.NumTransports][]*codec.Counters

	started   time.Time
	cancel    context.CancelFunc // ends the sinks' loops
	sinkLoops push.Sinks         // the push and the exporter: started and flushed together
	closeOnce sync.Once
	closeErr  error
}

// NewMain returns a daemon for cfg, logging to logger.
func NewMain(cfg *Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger}
}

// Run opens the database, the writer, the producers and the listeners,
// and returns once everything is running. ctx bounds the sinks' loops;
// Close stops everything.
func (m *Main) Run(ctx context.Context) error {
	m.started = time.Now()
	cfg := m.Config
	m.Logger.Info("openclaw-trace starting", "version", version, "commit", commit, "pid", os.Getpid())
	m.Logger.Info("configuration", "config", cfg)
	m.warnDoors()

	if err := m.openDB(); err != nil {
		return err
	}
	if err := m.openWriter(); err != nil {
		return err
	}

	ctx, m.cancel = context.WithCancel(ctx)
	m.Export = m.newExporter()
	m.openUpkeep()
	m.openSampler()
	if err := m.openLogtail(); err != nil {
		return err
	}
	m.newPush()
	prices, err := loadPrices(cfg.PricesFile)
	if err != nil {
		return fmt.Errorf("load OCT_PRICES_FILE: %w", err)
	}
	m.Prices = prices
	m.Unpriced, m.Unknown, m.Trimmed = &codec.Unpriced{}, &codec.UnknownFields{}, &codec.Trimmed{}
	parser := &codec.Parser{MaxTextBytes: cfg.MaxTextBytes, Now: time.Now, Prices: m.Prices, Unpriced: m.Unpriced,
		MaxMetadataKeys: cfg.MaxMetadataKeys, MaxMetadataBytes: cfg.MaxMetadataBytes, Unknown: m.Unknown, Trimmed: m.Trimmed}
	m.HTTP = listener.NewHTTP(net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.Port)), m.Queue, parser)
	m.HTTP.MaxBodyBytes = cfg.MaxBodyBytes
	m.HTTP.MaxConns, m.HTTP.AllowedHosts, m.HTTP.Token = cfg.MaxConnections, cfg.allowedHosts(), cfg.Token
	m.HTTP.Logger = m.Logger.With("component", "http")
	m.account(codec.HTTP, &m.HTTP.Counters)
	m.HTTP.Handle("GET /health", m.healthHandler())
	m.HTTP.Handle("GET /metrics", m.metricsHandler())
	m.handleViews()
	m.HTTP.Handle("GET /v1/budgets", m.budgetsHandler())
	m.HTTP.Handle("GET /ui", uiHandler())
	// Datagram intakes first: the HTTP "listening" line then means every
	// transport is ready.
	if err := m.openDatagrams(parser); err != nil {
		return err
	}
	if err := m.HTTP.Open(); err != nil {
		return fmt.Errorf("%w (set OCT_BIND/OCT_PORT)", err)
	}
	m.Logger.Info("listening", "transport", "http", "addr", m.HTTP.ListenAddr())
	m.startSinks(ctx)
	return nil
}

// openWriter opens the writer before any listener, so a writer that
// cannot write (its statements do not prepare) stops start-up instead of
// leaving a daemon that answers 202 and stores nothing.
func (m *Main) openWriter() error {
	m.Queue = codec.NewQueue(m.Config.QueueSize)
	m.Queue.MaxBytes = m.Config.QueueMaxBytes
	w := store.NewWriter(m.DB, m.Queue.C())
	w.Taken = m.Queue.Release
	w.BatchSize, w.BatchWindow = m.Config.BatchSize, m.Config.BatchWindow
	w.Logger = m.Logger.With("component", "writer")
	m.Usage = llmusage.NewSeries(m.Config.MaxLabelSets)
	if err := m.openBudgets(); err != nil {
		return fmt.Errorf("budgets: %w", err)
	}
	w.Committed = m.committed
	if err := w.Open(); err != nil {
		return fmt.Errorf("%w (the database at OCT_DB_PATH has a schema this binary cannot write)", err)
	}
	m.Writer = w
	for t := range codec.NumTransports {
		m.account(t, &w.Counters[t])
	}
	return nil
}

// committed is the writer's Committed hook: what counts calls once they
// are stored hears of them here, on the writer's goroutine.
func (m *Main) committed(evs []codec.Event) {
	m.Usage.Add(evs)
	if m.Budgets != nil {
		m.Budgets.Tracker.Committed(evs)
	}
}

// openUpkeep runs retention and disk-pressure eviction: once now, then
// on their interval. The WAL monitor is the database's own (openDB).
func (m *Main) openUpkeep() {
	cfg := m.Config
	m.Cleaner = store.NewCleaner(m.DB)
	m.Cleaner.Retention = time.Duration(cfg.RetentionDays) * 24 * time.Hour
	m.Cleaner.RollupRetention = cfg.RollupRetention.Duration()
	m.Cleaner.HighWatermark = float64(cfg.DiskHighWater)
	m.Cleaner.ReserveBytes = cfg.DiskReserveBytes
	m.Cleaner.PushEnabled = cfg.PushEndpoint != ""
	m.Cleaner.Streams = exportStreams(m.Export)
	m.Cleaner.Logger = m.Logger.With("component", "cleanup")
	m.Cleaner.Open()
}

// openSampler samples the container every OCT_METRICS_INTERVAL; 0 leaves
// the sampler off.
func (m *Main) openSampler() {
	if m.Config.MetricsInterval <= 0 {
		return
	}
	m.Sampler = metrics.NewSampler(m.Queue)
	m.Sampler.Interval = m.Config.MetricsInterval
	m.Sampler.DiskPath = filepath.Dir(m.Config.DBPath)
	m.Sampler.Logger = m.Logger.With("component", "metrics")
	m.account(codec.Sampler, &m.Sampler.Counters)
	m.Sampler.Open()
	m.Logger.Info("system sampler started", "interval", m.Config.MetricsInterval.String())
}

func (m *Main) openDB() error {
	path := m.Config.DBPath
	if dir := filepath.Dir(path); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("database directory %s does not exist (set OCT_DB_PATH to a writable location)", dir)
		}
	}
	m.DB = store.NewDB(path)
	m.DB.WAL.Logger = m.Logger.With("component", "wal")
	m.DB.Location = m.Config.BudgetTZ.Location()
	err := m.DB.Open()
	var locked *store.LockedError
	if err != nil && !errors.As(err, &locked) && releaseReserve(path, m.Logger) { // a full volume: the cleaner frees it once open
		err = m.DB.Open()
	}
	if err != nil {
		m.DB = nil
		return fmt.Errorf("%w (set OCT_DB_PATH to a writable location)", err)
	}
	m.logRollups()
	jm, _ := m.DB.Pragma(context.Background(), "journal_mode")
	av, _ := m.DB.Pragma(context.Background(), "auto_vacuum")
	uv, _ := m.DB.Pragma(context.Background(), "user_version")
	size, wal := m.DB.Sizes()
	m.Logger.Info("database open", "path", path, "journal_mode", jm, "auto_vacuum", av,
		"schema_version", uv, "size_bytes", size, "wal_bytes", wal)
	return nil
}

// Close shuts down in order within Config.ShutdownTimeout. It is safe to
// call more than once and after a failed Run.
func (m *Main) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.shutdown() })
	return m.closeErr
}

func (m *Main) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	drainCtx, cancelDrain := context.WithTimeout(ctx, time.Duration(float64(m.Config.ShutdownTimeout)*drainShare))
	defer cancelDrain()
	var errs []error
	// 1. Intake: ingest routes answer 503; producers stop.
	if m.HTTP != nil {
		m.HTTP.Drain()
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.closeProducers()
	if err := m.closeDatagrams(); err != nil {
		errs = append(errs, err)
	}
	if m.HTTP != nil {
		if err := m.HTTP.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close http: %w", err))
		}
	}
	// 2. Drain the queue into SQLite, within its share of the timeout.
	if err := m.drain(drainCtx); err != nil {
		errs = append(errs, err)
	}
	m.closeBudgets(ctx)
	// 3. One last push of what is left, in what remains of the timeout,
	// then checkpoint and close.
	m.flushSinks(ctx)
	if m.DB != nil {
		if err := m.DB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close db: %w", err))
		}
	}
	if m.Queue != nil {
		s := m.snapshot(context.Background(), false)
		m.Logger.Info("stopped", "uptime_seconds", int64(time.Since(m.started).Seconds()),
			"events_received", s.Received, "events_written", s.Written, "events_dropped", s.Dropped,
			"dropped", s.DroppedByReason)
	}
	return errors.Join(errs...)
}

// drainShare is the part of OCT_SHUTDOWN_TIMEOUT the drain may take, so
// that the final push keeps a bounded turn even when the drain times out.
const drainShare = 0.75

// closeProducers stops the sampler, the log follower and the cleaner,
// and waits for them.
func (m *Main) closeProducers() {
	if m.Sampler != nil {
		m.Sampler.Close()
	}
	if m.Follower != nil {
		m.Follower.Close()
	}
	if m.Cleaner != nil {
		m.Cleaner.Close()
	}
}

// drain closes the queue and waits for the writer to store what is
// queued. When ctx (the drain's share of the timeout) ends first, the
// writer is stopped: what it has not written is counted as shutdown drops.
func (m *Main) drain(ctx context.Context) error {
	if m.Queue == nil {
		return nil
	}
	m.Logger.Info("draining queue", "queued", m.Queue.Len())
	m.Queue.Close()
	if m.Writer == nil { // the writer never opened
		return nil
	}
	if err := m.Writer.Close(ctx); err != nil {
		return err
	}
	m.Logger.Info("queue drained")
	return nil
}
