package main

import (
	"log/slog"

	"github.com/openclaw/openclaw-trace/store"
)

// The counters of the database's upkeep: the WAL monitor and the Cleaner,
// as /health's counters and /metrics show them.

// walStats are the WAL monitor's counters: counters.wal, openclaw_trace_wal_*.
var walStats = []stat[*store.WALMonitor]{
	{key: "checkpoints", name: "wal_checkpoints_total", typ: counter, help: "WAL checkpoints run, any mode.",
		get: func(w *store.WALMonitor) any { return w.Checkpoints.Load() }},
	{key: "busy", name: "wal_checkpoints_busy_total", typ: counter, help: "WAL checkpoints readers or a writer kept from completing.",
		get: func(w *store.WALMonitor) any { return w.Busy.Load() }},
	{key: "truncations", name: "wal_truncations_total", typ: counter, help: "WAL files truncated to zero (the WAL passed its size bound, or at close).",
		get: func(w *store.WALMonitor) any { return w.Truncations.Load() }},
	{key: "errors", name: "wal_checkpoint_errors_total", typ: counter, help: "WAL checkpoints that failed, and failed looks at the WAL file.",
		get: func(w *store.WALMonitor) any { return w.Errors.Load() }},
	{key: "last_checkpoint_seconds", name: "wal_last_checkpoint_seconds", typ: gauge, help: "Duration of the last WAL checkpoint, its wait for the writer's turn included.",
		get: func(w *store.WALMonitor) any { return float64(w.LastDuration.Load()) / 1e9 }},
}

// cleanupStats are the Cleaner's counters: counters.cleanup; expired and
// evicted rows are at the top level of the counters.
var cleanupStats = []stat[*store.Cleaner]{
	{key: "passes", name: "cleanup_passes_total", typ: counter, help: "Retention and disk-pressure passes run.",
		get: func(c *store.Cleaner) any { return c.Passes.Load() }},
	{key: "errors", name: "cleanup_errors_total", typ: counter, help: "Passes that ended with an error.",
		get: func(c *store.Cleaner) any { return c.Errors.Load() }},
	{key: "relieved", name: "rows_relieved_total", typ: counter, help: "Synced rows deleted under disk pressure.",
		get: func(c *store.Cleaner) any { return c.Relieved.Load() }},
	{key: "pages_freed", name: "vacuum_pages_freed_total", typ: counter, help: "Pages incremental_vacuum handed back to the file system.",
		get: func(c *store.Cleaner) any { return c.PagesFreed.Load() }},
	{key: "reserve_bytes", name: "disk_reserve_bytes", typ: gauge, help: "Size of the reserve file kept beside the DB to free a full volume (0 while released).",
		get: func(c *store.Cleaner) any { return c.ReserveHeld.Load() }},
	{key: "reserve_releases", name: "disk_reserve_releases_total", typ: counter, help: "Times the reserve was released to free a full volume.",
		get: func(c *store.Cleaner) any { return c.ReserveReleases.Load() }},
	{key: "writer_waits", name: "disk_writer_waits_total", typ: counter, help: "Times the writer waited for room on the volume before a transaction (its queue fills meanwhile: queue_full).",
		get: func(c *store.Cleaner) any { return c.Holds.Load() }},
	{key: "writer_wal_truncations", name: "disk_writer_wal_truncations_total", typ: counter, help: "WAL truncations run before a transaction for lack of room on the volume.",
		get: func(c *store.Cleaner) any { return c.GateTruncations.Load() }},
}

// diskFull is true while nothing can be written for lack of space: the
// writer's last transaction, or a step of the Cleaner, failed with SQLite's
// "database or disk is full", and the room has not come back since. It
// clears by itself.
func (m *Main) diskFull() bool {
	if m.Cleaner == nil || m.Writer == nil {
		return false
	}
	return m.Cleaner.Full(m.Writer.Err())
}

func (m *Main) upkeepStats(s *snapshot) {
	if m.DB != nil {
		s.WAL = readGroup(walStats, m.DB.WAL)
	}
	if m.Cleaner != nil {
		s.Cleanup = readGroup(cleanupStats, m.Cleaner)
	}
	s.DiskFull = m.diskFull()
}

// releaseReserve deletes the disk reserve beside the database at path,
// for an open that failed, and reports whether there was one to delete:
// on a full volume SQLite cannot even make its shared-memory file.
func releaseReserve(path string, logger *slog.Logger) bool {
	released, err := store.ReleaseReserve(path)
	if released {
		logger.Warn("database did not open: disk reserve released, trying again", "reserve", path+store.ReserveSuffix)
	} else if err != nil {
		logger.Warn("release disk reserve", "err", err)
	}
	return released
}
