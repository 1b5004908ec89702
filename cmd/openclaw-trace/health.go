package main

import (
	"context"
	"net/http"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/listener"
)

// transportStats is the accounting of one transport at one moment.
type transportStats struct {
	Units    int64            `json:"units"`
	Bytes    int64            `json:"bytes"`
	Received int64            `json:"received"`
	Written  int64            `json:"written"`
	Dropped  map[string]int64 `json:"dropped"`
	// ClientReportedDrops were counted by clients, not here: not part of
	// received = written + dropped.
	ClientReportedDrops int64 `json:"client_reported_drops"`
}

// snapshot is read once per /health or /metrics request, so the two pages
// always tell the same numbers.
type snapshot struct {
	Transports          map[string]*transportStats `json:"transports"`
	Received            int64                      `json:"received"`
	Written             int64                      `json:"written"`
	Dropped             int64                      `json:"dropped"`
	DroppedByReason     map[string]int64           `json:"dropped_by_reason"`
	ClientReportedDrops int64                      `json:"client_reported_drops"`
	KernelDrops         *int64                     `json:"kernel_drops"`
	QueueDepth          int                        `json:"queue_depth"`
	QueueCapacity       int                        `json:"queue_capacity"`
	WriterBatches       int64                      `json:"writer_batches"`
	Evicted             int64                      `json:"evicted"`
	Expired             int64                      `json:"expired_by_retention"`
	Push                *pushCounters              `json:"push"`
	Logtail             *logtailCounters           `json:"logtail"`
	Sinks               map[string]*sinkState      `json:"sinks"`        // push and otlp
	WriterError         *string                    `json:"writer_error"` // null while the writer writes
	WAL                 *walStats                  `json:"wal"`
	Cleanup             *cleanupStats              `json:"cleanup"`

	dbOK              bool
	dbBytes, walBytes int64
	unsynced          *int64
}

// zeroReasons lists every drop reason at 0, so both pages always show
// all of them.
func zeroReasons() map[string]int64 {
	m := make(map[string]int64, codec.NumDropReasons)
	for r := codec.DropReason(0); r < codec.NumDropReasons; r++ {
		m[r.String()] = 0
	}
	return m
}

func fromCounters(c *listener.Counters, s *transportStats) {
	s.Units, s.Bytes, s.Received = c.Units.Load(), c.Bytes.Load(), c.Received.Load()
	s.ClientReportedDrops = c.ClientReportedDrops.Load()
	for r := codec.DropReason(0); r < codec.NumDropReasons; r++ {
		s.Dropped[r.String()] += c.Dropped[r].Load()
	}
}

// intake returns the counters the listeners and producers keep for t.
func (m *Main) intake(t codec.Transport, s *transportStats) {
	switch t {
	case codec.HTTP:
		if m.HTTP != nil {
			fromCounters(&m.HTTP.Counters, s)
		}
	case codec.Unixgram:
		if m.Unixgram != nil {
			fromCounters(&m.Unixgram.Counters, s)
		}
	case codec.UDP:
		if m.UDP != nil {
			fromCounters(&m.UDP.Counters, s)
		}
	case codec.Logtail:
		if m.Follower != nil {
			st := m.Follower.Stats()
			// Lines below OCT_LOG_MIN_LEVEL are filtered before accounting;
			// every line that became an event is received.
			s.Units, s.Received = st.LinesRead, st.Emitted
		}
	case codec.Sampler:
		if m.Sampler != nil {
			st := m.Sampler.Stats()
			s.Units, s.Received = int64(st.Samples), int64(st.Samples)
			s.Dropped[codec.DropQueueFull.String()] += int64(st.QueueFull)
			s.Dropped[codec.DropShutdown.String()] += int64(st.Shutdown)
		}
	}
}

// transports adds every transport's accounting to s, and its totals.
func (m *Main) transports(s *snapshot) {
	for t := codec.Transport(0); t < codec.NumTransports; t++ {
		ts := &transportStats{Dropped: zeroReasons()}
		m.intake(t, ts)
		if m.Writer != nil {
			ts.Written = m.Writer.Written[t].Load()
			ts.Dropped[codec.DropWriteError.String()] += m.Writer.WriteErrors[t].Load()
			ts.Dropped[codec.DropShutdown.String()] += m.Writer.Shutdown[t].Load()
		}
		s.Transports[t.String()] = ts
		s.Received += ts.Received
		s.Written += ts.Written
		s.ClientReportedDrops += ts.ClientReportedDrops
		for r, n := range ts.Dropped {
			s.DroppedByReason[r] += n
			s.Dropped += n
		}
	}
}

func (m *Main) snapshot(ctx context.Context, withDB bool) *snapshot {
	s := &snapshot{Transports: map[string]*transportStats{}, DroppedByReason: zeroReasons()}
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
	if withDB && m.DB != nil {
		s.dbBytes, s.walBytes = m.DB.Sizes()
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		s.dbOK = m.DB.Ping(qctx) == nil
		if n, err := m.DB.UnsyncedCount(qctx); err == nil {
			s.unsynced = &n
		}
		s.Sinks = m.sinks(qctx, s.unsynced)
	}
	return s
}

// health is the body of GET /health: the seed's fields, always present,
// null where unknown, plus the counters.
type health struct {
	Status         string    `json:"status"`
	UptimeSeconds  float64   `json:"uptime_seconds"`
	Version        string    `json:"version"`
	DBStatus       string    `json:"db_status"`
	DBSizeBytes    *int64    `json:"db_size_bytes"`
	WALSizeBytes   *int64    `json:"wal_size_bytes"`
	QueueDepth     int       `json:"queue_depth"`
	EventsReceived int64     `json:"events_received"`
	EventsDropped  int64     `json:"events_dropped"`
	LastPushTime   *int64    `json:"last_push_time"`
	LastPushStatus string    `json:"last_push_status"`
	UnsyncedCount  *int64    `json:"unsynced_count"`
	Counters       *snapshot `json:"counters"`
}

func (m *Main) healthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.snapshot(r.Context(), true)
		h := health{
			Status:         "ok",
			UptimeSeconds:  time.Since(m.started).Seconds(),
			Version:        version,
			DBStatus:       "ok",
			DBSizeBytes:    &s.dbBytes,
			WALSizeBytes:   &s.walBytes,
			QueueDepth:     s.QueueDepth,
			EventsReceived: s.Received,
			EventsDropped:  s.Dropped,
			UnsyncedCount:  s.unsynced,
			Counters:       s,
		}
		h.LastPushTime, h.LastPushStatus = m.pushStatus()
		if !s.dbOK {
			h.Status, h.DBStatus = "degraded", "error"
		}
		if s.WriterError != nil { // events are received but not stored
			h.Status = "degraded"
		}
		listener.WriteJSON(w, http.StatusOK, h)
	})
}
