package main

// The counters of the database's upkeep: the WAL monitor and the Cleaner,
// as /health's counters and /metrics show them.

// walStats are the WAL monitor's counters.
type walStats struct {
	Checkpoints           int64   `json:"checkpoints"`
	Busy                  int64   `json:"busy"`
	Truncations           int64   `json:"truncations"`
	Errors                int64   `json:"errors"`
	LastCheckpointSeconds float64 `json:"last_checkpoint_seconds"`
}

// cleanupStats are the Cleaner's counters; expired and evicted rows are
// already shown at the top level of the counters.
type cleanupStats struct {
	Passes     int64 `json:"passes"`
	Errors     int64 `json:"errors"`
	Relieved   int64 `json:"relieved"`
	PagesFreed int64 `json:"pages_freed"`
}

func (m *Main) upkeepStats(s *snapshot) {
	if m.DB != nil {
		w := m.DB.WAL
		s.WAL = &walStats{
			Checkpoints: w.Checkpoints.Load(), Busy: w.Busy.Load(), Truncations: w.Truncations.Load(),
			Errors: w.Errors.Load(), LastCheckpointSeconds: float64(w.LastDuration.Load()) / 1e9,
		}
	}
	if c := m.Cleaner; c != nil {
		s.Cleanup = &cleanupStats{Passes: c.Passes.Load(), Errors: c.Errors.Load(),
			Relieved: c.Relieved.Load(), PagesFreed: c.PagesFreed.Load()}
	}
}

// upkeepFamilies are the /metrics families of upkeepStats.
func upkeepFamilies(s *snapshot) []*family {
	var fams []*family
	if w := s.WAL; w != nil {
		last := &family{name: "wal_last_checkpoint_seconds", typ: "gauge", help: "Duration of the last WAL checkpoint, its wait for the writer's turn included."}
		last.samples = append(last.samples, sample{"", w.LastCheckpointSeconds})
		fams = append(fams,
			single("wal_checkpoints_total", "counter", "WAL checkpoints run, any mode.", w.Checkpoints),
			single("wal_checkpoints_busy_total", "counter", "WAL checkpoints readers or a writer kept from completing.", w.Busy),
			single("wal_truncations_total", "counter", "WAL files truncated to zero (the WAL passed its size bound, or at close).", w.Truncations),
			single("wal_checkpoint_errors_total", "counter", "WAL checkpoints that failed, and failed looks at the WAL file.", w.Errors),
			last)
	}
	if c := s.Cleanup; c != nil {
		fams = append(fams,
			single("cleanup_passes_total", "counter", "Retention and disk-pressure passes run.", c.Passes),
			single("cleanup_errors_total", "counter", "Passes that ended with an error.", c.Errors),
			single("rows_relieved_total", "counter", "Synced rows deleted under disk pressure.", c.Relieved),
			single("vacuum_pages_freed_total", "counter", "Pages incremental_vacuum handed back to the file system.", c.PagesFreed))
	}
	return fams
}
