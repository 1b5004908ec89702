package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/openclaw/openclaw-trace/store/view"
)

// summaryDoc is what `report --json` prints and GET /v1/summary answers:
// the database's summary of a window plus the running daemon's counters,
// which live in its memory, not in the database.
type summaryDoc struct {
	GeneratedAt int64          `json:"generated_at"` // unix ms
	Window      string         `json:"window"`       // the --since / ?since= value
	Summary     *view.Summary  `json:"summary"`
	Daemon      *daemonStatus  `json:"daemon"`
	Budgets     *budgetsReport `json:"budgets,omitempty"` // none configured: absent
}

// breakdownDoc is what `report --by … --json` prints and GET
// /v1/breakdown answers.
type breakdownDoc struct {
	GeneratedAt int64           `json:"generated_at"` // unix ms
	Window      string          `json:"window"`
	Breakdown   *view.Breakdown `json:"breakdown"`
}

// daemonStatus is who answered for the database: the daemon named by
// --url (or OCT_BIND/OCT_PORT), whether it serves the database the report
// reads, and only then its drop accounting and push state.
type daemonStatus struct {
	Reachable bool   `json:"reachable"`
	Address   string `json:"address,omitempty"`
	DBPath    string `json:"db_path,omitempty"` // the database it serves, as it says
	ServesDB  bool   `json:"serves_db"`         // the database summarised
	Error     string `json:"error,omitempty"`   // why it was not reachable
	*DaemonCounters
}

// DaemonCounters are a daemon's counters, as /health has them.
type DaemonCounters struct {
	Received            int64                 `json:"events_received"`
	Written             int64                 `json:"events_written"`
	Dropped             int64                 `json:"events_dropped"`
	DroppedByReason     map[string]int64      `json:"dropped_by_reason"`
	ClientReportedDrops int64                 `json:"client_reported_drops"`
	KernelDrops         *int64                `json:"kernel_drops"`
	QueueDepth          int                   `json:"queue_depth"`
	QueueCapacity       int                   `json:"queue_capacity"`
	LastPushTime        *int64                `json:"last_push_time"`
	LastPushStatus      string                `json:"last_push_status"`
	Sinks               map[string]*sinkState `json:"sinks"` // push and otlp, as /health has them
}

// parseSince reads a window length: a Go duration ("90m", "24h") or a
// number of days ("7d").
func parseSince(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n float64
		n, err = strconv.ParseFloat(days, 64)
		// NaN, Inf and days past Duration's range would convert to a
		// platform-dependent Duration, so they are refused here.
		if err == nil && !(n > 0 && n*float64(24*time.Hour) < math.MaxInt64) {
			err = strconv.ErrRange
		}
		d = time.Duration(n * float64(24*time.Hour))
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < time.Millisecond { // rows are stamped in ms
		return 0, fmt.Errorf("invalid window %q: want a duration of 1ms or more, such as 30m, 24h or 7d", s)
	}
	return d, nil
}

// summarize builds the document for the window ending at now.
func summarize(ctx context.Context, v *view.View, window string, now time.Time, buckets int) (*summaryDoc, error) {
	d, err := parseSince(window)
	if err != nil {
		return nil, err
	}
	s, err := v.Summary(ctx, view.SummaryOptions{Since: now.Add(-d), Until: now, Buckets: buckets})
	if err != nil {
		return nil, err
	}
	return &summaryDoc{GeneratedAt: now.UnixMilli(), Window: window, Summary: s}, nil
}

// breakdown builds the --by document for the window ending at now.
func breakdown(ctx context.Context, v *view.View, window string, now time.Time, by []view.Dim, top int) (*breakdownDoc, error) {
	d, err := parseSince(window)
	if err != nil {
		return nil, err
	}
	b, err := v.Breakdown(ctx, view.BreakdownOptions{Since: now.Add(-d), Until: now, By: by, Top: top})
	if err != nil {
		return nil, err
	}
	return &breakdownDoc{GeneratedAt: now.UnixMilli(), Window: window, Breakdown: b}, nil
}

// liveStatus is the daemon's own status, from the counters /health shows.
func (m *Main) liveStatus(ctx context.Context) *daemonStatus {
	s := m.snapshot(ctx, true)
	st := &daemonStatus{Reachable: true, DBPath: m.dbPath(), ServesDB: true, DaemonCounters: &DaemonCounters{
		Received: s.Received, Written: s.Written, Dropped: s.Dropped,
		DroppedByReason: s.DroppedByReason, ClientReportedDrops: s.ClientReportedDrops, KernelDrops: s.KernelDrops,
		QueueDepth: s.QueueDepth, QueueCapacity: s.QueueCapacity, Sinks: s.Sinks}}
	st.LastPushTime, st.LastPushStatus = m.pushStatus()
	return st
}

// dbPath is the absolute path of the database the daemon serves.
func (m *Main) dbPath() string {
	if p, err := filepath.Abs(m.Config.DBPath); err == nil {
		return p
	}
	return m.Config.DBPath
}

// fetchStatus asks the daemon at base (a URL) for /health: its drop
// counters are in its memory. They are kept only when it serves the
// database at dbPath. An unreachable daemon is reported, not an error.
func fetchStatus(ctx context.Context, base, dbPath string) *daemonStatus {
	st := &daemonStatus{Address: base}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/health", nil)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	defer resp.Body.Close()
	var h struct {
		DBPath         string   `json:"db_path"`
		Received       int64    `json:"events_received"`
		Dropped        int64    `json:"events_dropped"`
		QueueDepth     int      `json:"queue_depth"`
		LastPushTime   *int64   `json:"last_push_time"`
		LastPushStatus string   `json:"last_push_status"`
		Counters       snapshot `json:"counters"`
	}
	if resp.StatusCode != http.StatusOK {
		st.Error = "GET /health: " + resp.Status
		return st
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		st.Error = "GET /health: " + err.Error()
		return st
	}
	st.Reachable, st.DBPath = true, h.DBPath
	if st.ServesDB = sameFile(h.DBPath, dbPath); !st.ServesDB {
		return st
	}
	st.DaemonCounters = &DaemonCounters{Received: h.Received, Written: h.Counters.Written, Dropped: h.Dropped,
		DroppedByReason: h.Counters.DroppedByReason, ClientReportedDrops: h.Counters.ClientReportedDrops,
		KernelDrops: h.Counters.KernelDrops, QueueDepth: h.QueueDepth, QueueCapacity: h.Counters.QueueCapacity,
		Sinks: h.Counters.Sinks, LastPushTime: h.LastPushTime, LastPushStatus: h.LastPushStatus}
	return st
}

// sameFile reports whether the daemon's path and ours name one file: the
// same inode when both can be looked at (symlinks, bind mounts of one
// machine), else the same absolute path.
func sameFile(daemon, ours string) bool {
	if daemon == "" {
		return false
	}
	a, errA := os.Stat(daemon)
	b, errB := os.Stat(ours)
	if errA == nil && errB == nil {
		return os.SameFile(a, b)
	}
	abs, err := filepath.Abs(ours)
	return err == nil && filepath.Clean(daemon) == abs
}

// daemonURL is where the local daemon's HTTP listener is: OCT_BIND (a
// wildcard means loopback) and OCT_PORT.
func daemonURL(cfg *Config) string {
	host := cfg.Bind
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.Port))
}
