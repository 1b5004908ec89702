package main

import (
	"io"

	"github.com/openclaw/openclaw-trace/push"
)

// pushCounters are push.Client's Stats at one moment.
type pushCounters struct {
	Cycles        int64            `json:"cycles"`
	CyclesFailed  int64            `json:"cycles_failed"`
	CyclesSkipped int64            `json:"cycles_skipped"`
	Attempts      int64            `json:"attempts"`
	Retries       int64            `json:"retries"`
	BodiesOK      int64            `json:"bodies_ok"`
	RowsPushed    int64            `json:"rows_pushed"`
	BytesSent     int64            `json:"bytes_sent"`
	WireBytesSent int64            `json:"wire_bytes_sent"`
	Failures      map[string]int64 `json:"failures"`
}

// logtailCounters are the log follower's counters that the logtail
// transport's units and received do not already tell.
type logtailCounters struct {
	Skipped    int64 `json:"skipped"`
	Folded     int64 `json:"folded"`
	NotJSON    int64 `json:"not_json"`
	Truncated  int64 `json:"truncated"`
	Switches   int64 `json:"switches"`
	ReadErrors int64 `json:"read_errors"`
}

// components fills the counters of push and the log follower; each stays
// nil (null on /health, absent on /metrics) when its component is off.
func (m *Main) components(s *snapshot) {
	if m.Push != nil {
		st := &m.Push.Stats
		p := &pushCounters{
			Cycles: st.Cycles.Load(), CyclesFailed: st.CyclesFailed.Load(), CyclesSkipped: st.CyclesSkipped.Load(),
			Attempts: st.Attempts.Load(), Retries: st.Retries.Load(), BodiesOK: st.BodiesOK.Load(),
			RowsPushed: st.RowsPushed.Load(), BytesSent: st.BytesSent.Load(), WireBytesSent: st.WireBytesSent.Load(),
			Failures: make(map[string]int64, push.NumFailureClasses),
		}
		for f := push.FailureClass(0); f < push.NumFailureClasses; f++ {
			p.Failures[f.String()] = st.Failures[f].Load()
		}
		s.Push = p
	}
	if m.Follower != nil {
		st := m.Follower.Stats()
		s.Logtail = &logtailCounters{Skipped: st.Skipped, Folded: st.Folded, NotJSON: st.NotJSON, Truncated: st.Truncated,
			Switches: st.Switches, ReadErrors: st.ReadErrors}
	}
}

// writeComponentMetrics writes what components fills, in the same units.
func writeComponentMetrics(w io.Writer, s *snapshot) {
	var fams []*family
	if p := s.Push; p != nil {
		failures := &family{name: "push_failures_total", typ: "counter", help: "Failed push attempts and cycles, by class."}
		for _, c := range sortedKeys(p.Failures) {
			failures.add(`{class="`+c+`"}`, p.Failures[c])
		}
		fams = append(fams,
			single("push_cycles_total", "counter", "Push cycles run, empty ones included.", p.Cycles),
			single("push_cycles_failed_total", "counter", "Push cycles that ended in an error.", p.CyclesFailed),
			single("push_cycles_skipped_total", "counter", "Push ticks skipped while cooling down.", p.CyclesSkipped),
			single("push_attempts_total", "counter", "HTTP attempts, retries included.", p.Attempts),
			single("push_retries_total", "counter", "HTTP attempts after a body's first.", p.Retries),
			single("push_bodies_ok_total", "counter", "Push bodies answered 2xx.", p.BodiesOK),
			single("push_rows_total", "counter", "Rows pushed and marked synced.", p.RowsPushed),
			single("push_bytes_sent_total", "counter", "Uncompressed body bytes of every attempt.", p.BytesSent),
			single("push_wire_bytes_sent_total", "counter", "Body bytes on the wire of every attempt.", p.WireBytesSent),
			failures)
	}
	if l := s.Logtail; l != nil {
		fams = append(fams,
			single("logtail_lines_skipped_total", "counter", "Gateway log lines below OCT_LOG_MIN_LEVEL.", l.Skipped),
			single("logtail_lines_folded_total", "counter", "Gateway log lines folded into the event of the line before (a CLI failure block).", l.Folded),
			single("logtail_lines_not_json_total", "counter", "Gateway log lines kept whole as kind other.", l.NotJSON),
			single("logtail_lines_truncated_total", "counter", "Gateway log lines over the line cap, kept cut.", l.Truncated),
			single("logtail_file_switches_total", "counter", "Moves to another log file, and restarts after copy-truncate.", l.Switches),
			single("logtail_read_errors_total", "counter", "Failed opens, reads, position loads and listings of the gateway log.", l.ReadErrors))
	}
	for _, f := range fams {
		f.write(w)
	}
}
