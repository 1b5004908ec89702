package main

import (
	"context"
	"net/http"
	"path/filepath"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/listener"
	"github.com/openclaw/openclaw-trace/store"
)

// snapshot is read once per /health or /metrics request, so the two pages
// always tell the same numbers.
type snapshot struct {
	Transports          map[string]group      `json:"transports"` // transportStats, by transport
	Received            int64                 `json:"received"`
	Written             int64                 `json:"written"`
	Dropped             int64                 `json:"dropped"`
	DroppedByReason     map[string]int64      `json:"dropped_by_reason"`
	ClientReportedDrops int64                 `json:"client_reported_drops"`
	KernelDrops         *int64                `json:"kernel_drops"`
	QueueDepth          int                   `json:"queue_depth"`
	QueueCapacity       int                   `json:"queue_capacity"`
	QueueBytes          int64                 `json:"queue_bytes"`
	QueueMaxBytes       int64                 `json:"queue_max_bytes"`
	WriterBatches       int64                 `json:"writer_batches"`
	Evicted             int64                 `json:"evicted"`
	Expired             int64                 `json:"expired_by_retention"`
	Push                group                 `json:"push"`         // pushStats; null when push is off
	Logtail             group                 `json:"logtail"`      // logtailStats; null when the follower is off
	Sinks               map[string]*sinkState `json:"sinks"`        // push and otlp
	WriterError         *string               `json:"writer_error"` // null while the writer writes
	WAL                 group                 `json:"wal"`          // walStats
	Cleanup             group                 `json:"cleanup"`      // cleanupStats
	DiskFull            bool                  `json:"disk_full"`
	HTTP                group                 `json:"http"`   // httpStats
	Fields              group                 `json:"fields"` // fieldStats

	counts            [codec.NumTransports]codec.Counts
	dbOK              bool
	dbBytes, walBytes int64
	unsynced          *int64
	// The DB volume's use and OCT_DISK_HIGH_WATERMARK, as ratios: /metrics
	// only (the disk pressure alert compares them).
	volumeUsed, highWatermark *float64
}

// transportStats are the accounting of one transport, as both pages show
// it: /health under counters.transports.<transport>, /metrics labelled
// transport="<transport>".
var transportStats = []stat[codec.Counts]{
	{key: "units", name: "units_received_total", typ: counter, help: "Datagrams or HTTP requests read, by transport.",
		get: func(c codec.Counts) any { return c.Units }},
	{key: "bytes", name: "bytes_received_total", typ: counter, help: "Payload bytes read, by transport.",
		get: func(c codec.Counts) any { return c.Bytes }},
	{key: "received", name: "events_received_total", typ: counter, help: "Events received (an undecodable unit counts as one), by transport.",
		get: func(c codec.Counts) any { return c.Received }},
	{key: "written", name: "events_written_total", typ: counter, help: "Events committed to SQLite, by transport.",
		get: func(c codec.Counts) any { return c.Written }},
	{key: "dropped", name: "events_dropped_total", typ: counter, help: "Events not stored, by transport and reason.", label: "reason",
		get: func(c codec.Counts) any { return c.ByReason() }},
	// Counted by clients, not here: not part of received = written +
	// dropped. /metrics has only the total (topStats).
	{key: "client_reported_drops", get: func(c codec.Counts) any { return c.ClientReportedDrops }},
}

// topStats are the /metrics families of the snapshot's own fields, which
// /health shows under their JSON names.
var topStats = []stat[*snapshot]{
	{name: "client_reported_drops_total", typ: counter, help: "Drops clients counted on their side and reported in client_stats.",
		get: func(s *snapshot) any { return s.ClientReportedDrops }},
	{name: "writer_batches_total", typ: counter, help: "Writer transactions committed.",
		get: func(s *snapshot) any { return s.WriterBatches }},
	{name: "rows_evicted_total", typ: counter, help: "Unsynced rows deleted under disk pressure (the evicted drop).",
		get: func(s *snapshot) any { return s.Evicted }},
	{name: "rows_expired_total", typ: counter, help: "Rows deleted by retention.",
		get: func(s *snapshot) any { return s.Expired }},
	{name: "queue_depth", typ: gauge, help: "Events waiting in the ingest queue.",
		get: func(s *snapshot) any { return int64(s.QueueDepth) }},
	{name: "queue_capacity", typ: gauge, help: "Capacity of the ingest queue (OCT_QUEUE_SIZE).",
		get: func(s *snapshot) any { return int64(s.QueueCapacity) }},
	{name: "queue_bytes", typ: gauge, help: "Estimated bytes of the events waiting in the ingest queue.",
		get: func(s *snapshot) any { return s.QueueBytes }},
	{name: "queue_max_bytes", typ: gauge, help: "Bound on the ingest queue's estimated bytes (OCT_QUEUE_MAX_BYTES; 0: none).",
		get: func(s *snapshot) any { return s.QueueMaxBytes }},
	{name: "db_size_bytes", typ: gauge, help: "Size of the SQLite file.",
		get: func(s *snapshot) any { return s.dbBytes }},
	{name: "wal_size_bytes", typ: gauge, help: "Size of the SQLite WAL file.",
		get: func(s *snapshot) any { return s.walBytes }},
	{name: "udp_kernel_drops_total", typ: counter, help: "Datagrams the kernel dropped on our UDP socket.",
		get: func(s *snapshot) any { return s.KernelDrops }},
	{name: "unsynced_rows", typ: gauge, help: "Rows not yet pushed.",
		get: func(s *snapshot) any { return s.unsynced }},
	{name: "volume_used_ratio", typ: gauge, help: "Share of the DB's volume in use, used / (used + available) as df computes it, read at each scrape.",
		get: func(s *snapshot) any { return s.volumeUsed }},
	{name: "volume_high_watermark_ratio", typ: gauge, help: "OCT_DISK_HIGH_WATERMARK as a ratio: above it the cleaner deletes the oldest rows, delivered ones first, then undelivered ones (evicted).",
		get: func(s *snapshot) any { return s.highWatermark }},
	{name: "disk_full", typ: gauge, help: "1 while nothing can be written for lack of space on the DB volume (the writer or the cleaner got \"database or disk is full\"), else 0.",
		get: func(s *snapshot) any { return boolValue(s.DiskFull) }},
}

// boolValue is a gauge's value of b: 1 or 0.
func boolValue(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// account adds c to the counters of transport t: each component that
// handles t's events (its producer, the writer) keeps its own.
func (m *Main) account(t codec.Transport, c *codec.Counters) {
	m.accounts[t] = append(m.accounts[t], c)
}

// transports sums, per transport, the counters of every component that
// keeps one, and the totals: one loop, whatever the transport.
func (m *Main) transports(s *snapshot) {
	var total codec.Counts
	for t := range codec.NumTransports {
		var c codec.Counts
		for _, a := range m.accounts[t] {
			c.Add(a.Load())
		}
		s.counts[t] = c
		s.Transports[t.String()] = readGroup(transportStats, c)
		total.Add(c)
	}
	s.Received, s.Written, s.ClientReportedDrops = total.Received, total.Written, total.ClientReportedDrops
	s.Dropped, s.DroppedByReason = total.DroppedTotal(), total.ByReason()
}

func (m *Main) snapshot(ctx context.Context, withDB bool) *snapshot {
	s := &snapshot{Transports: map[string]group{}}
	m.transports(s)
	if m.UDP != nil {
		n := m.UDP.KernelDrops()
		s.KernelDrops = &n
	}
	if m.Cleaner != nil {
		// Evicted rows were written before disk pressure deleted them, so
		// they count as lost but stay out of received = written + dropped.
		s.Evicted = m.Cleaner.Evicted.Load()
		s.DroppedByReason[codec.DropEvicted.String()] = s.Evicted
		s.Dropped += s.Evicted
		s.Expired = m.Cleaner.Expired.Load()
	}
	if m.Queue != nil {
		s.QueueDepth, s.QueueCapacity = m.Queue.Len(), m.Queue.Cap()
		s.QueueBytes, s.QueueMaxBytes = m.Queue.Bytes(), m.Queue.MaxBytes
	}
	if m.Writer != nil {
		s.WriterBatches = m.Writer.Batches.Load()
		if err := m.Writer.Err(); err != nil {
			e := err.Error()
			s.WriterError = &e
		}
	}
	m.components(s)
	m.upkeepStats(s)
	m.guardStats(s)
	m.guardStats(s)
	if withDB && m.DB != nil {
		s.dbBytes, s.walBytes = m.DB.Sizes()
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		s.dbOK = m.DB.Ping(qctx) == nil
		if n, err := m.DB.UnsyncedCount(qctx); err == nil {
			s.unsynced = &n
		}
		s.Sinks = m.sinks(qctx, s.unsynced)
		s.volumeUsed, s.highWatermark = m.volume()
	}
	return s
}

// volume is the DB volume's use and the high watermark, as ratios; nil
// when unknown or, for the watermark, when no cleaner runs.
func (m *Main) volume() (used, high *float64) {
	if m.Config == nil {
		return nil, nil
	}
	if v, err := store.StatVolume(filepath.Dir(m.Config.DBPath)); err == nil {
		used = new(v.UsedPercent() / 100)
	}
	if m.Cleaner != nil && m.Config.DiskHighWater > 0 {
		high = new(float64(m.Config.DiskHighWater) / 100)
	}
	return used, high
}

// health is the body of GET /health: the seed's fields, always present,
// null where unknown, plus the counters.
type health struct {
	Status         string         `json:"status"`
	UptimeSeconds  float64        `json:"uptime_seconds"`
	Version        string         `json:"version"`
	DBStatus       string         `json:"db_status"`
	DBPath         string         `json:"db_path"` // absolute: report tells its database's daemon by it
	DBSizeBytes    *int64         `json:"db_size_bytes"`
	WALSizeBytes   *int64         `json:"wal_size_bytes"`
	QueueDepth     int            `json:"queue_depth"`
	QueueBytes     int64          `json:"queue_bytes"`
	EventsReceived int64          `json:"events_received"`
	EventsDropped  int64          `json:"events_dropped"`
	LastPushTime   *int64         `json:"last_push_time"`
	LastPushStatus string         `json:"last_push_status"`
	UnsyncedCount  *int64         `json:"unsynced_count"`
	Counters       *snapshot      `json:"counters"`
	Budgets        *budgetsHealth `json:"budgets"` // null without OCT_BUDGETS
}

func (m *Main) healthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.snapshot(r.Context(), true)
		h := health{
			Status:         "ok",
			UptimeSeconds:  time.Since(m.started).Seconds(),
			Version:        version,
			DBStatus:       "ok",
			DBPath:         m.dbPath(),
			DBSizeBytes:    &s.dbBytes,
			WALSizeBytes:   &s.walBytes,
			QueueDepth:     s.QueueDepth,
			QueueBytes:     s.QueueBytes,
			EventsReceived: s.Received,
			EventsDropped:  s.Dropped,
			UnsyncedCount:  s.unsynced,
			Counters:       s,
			Budgets:        m.budgetsHealth(),
		}
		h.LastPushTime, h.LastPushStatus = m.pushStatus()
		if !s.dbOK {
			h.Status, h.DBStatus = "degraded", "error"
		}
		if s.WriterError != nil || s.DiskFull { // events are received but not stored
			h.Status = "degraded"
		}
		listener.WriteJSON(w, http.StatusOK, h)
	})
}

// zeroReasons lists every drop reason at 0.
func zeroReasons() map[string]int64 { return codec.Counts{}.ByReason() }
