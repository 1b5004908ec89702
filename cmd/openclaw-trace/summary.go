package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openclaw/openclaw-trace/listener"
	"github.com/openclaw/openclaw-trace/store/view"
)

// summaryDoc is what `report --json` prints and GET /v1/summary answers:
// the database's summary of a window plus the running daemon's counters,
// which live in its memory, not in the database.
type summaryDoc struct {
	GeneratedAt int64         `json:"generated_at"` // unix ms
	Window      string        `json:"window"`       // the --since / ?since= value
	Summary     *view.Summary `json:"summary"`
	Daemon      *daemonStatus `json:"daemon"`
}

// daemonStatus is the drop accounting and push state of the running daemon.
type daemonStatus struct {
	Reachable           bool                  `json:"reachable"`
	Address             string                `json:"address,omitempty"`
	Error               string                `json:"error,omitempty"` // why it was not reachable
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

// liveStatus is the daemon's own status, from the counters /health shows.
func (m *Main) liveStatus(ctx context.Context) *daemonStatus {
	s := m.snapshot(ctx, true)
	st := &daemonStatus{Reachable: true, Received: s.Received, Written: s.Written, Dropped: s.Dropped,
		DroppedByReason: s.DroppedByReason, ClientReportedDrops: s.ClientReportedDrops, KernelDrops: s.KernelDrops,
		QueueDepth: s.QueueDepth, QueueCapacity: s.QueueCapacity, Sinks: s.Sinks}
	st.LastPushTime, st.LastPushStatus = m.pushStatus()
	return st
}

// summaryTimeout bounds one summary in the daemon. A window of a million
// calls takes seconds of CPU (BENCHMARKS.md), longer on a busy machine,
// so this handler lifts the listener's 10 s write timeout for itself.
const summaryTimeout = 60 * time.Second

// summaryHandler serves GET /v1/summary?since=24h&buckets=48, the data the
// dashboard draws; the same document as `report --json`. One summary runs
// at a time: open dashboards queue instead of scanning side by side and
// taking the cores from intake.
func (m *Main) summaryHandler() http.Handler {
	turn := make(chan struct{}, 1)
	v := view.New(m.DB.Reader())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		window := r.URL.Query().Get("since")
		if window == "" {
			window = "24h"
		}
		buckets := 0
		if b := r.URL.Query().Get("buckets"); b != "" {
			n, err := strconv.Atoi(b)
			if err != nil || n < 1 || n > 1000 {
				listener.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "buckets: want an integer 1..1000", "field": "buckets"})
				return
			}
			buckets = n
		}
		if _, err := parseSince(window); err != nil {
			listener.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "since: " + err.Error(), "field": "since"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), summaryTimeout)
		defer cancel()
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(summaryTimeout + 5*time.Second))
		select {
		case turn <- struct{}{}:
			defer func() { <-turn }()
		case <-ctx.Done():
			listener.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "summary: another summary took the whole time"})
			return
		}
		doc, err := summarize(ctx, v, window, time.Now(), buckets)
		if err != nil {
			m.Logger.Error("summary failed", "err", err)
			listener.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "summary: " + err.Error()})
			return
		}
		doc.Daemon = m.liveStatus(r.Context())
		listener.WriteJSON(w, http.StatusOK, doc)
	})
}

// fetchStatus asks the daemon at addr for /health: its drop counters are
// in its memory. An unreachable daemon is reported, not an error.
func fetchStatus(ctx context.Context, addr string) *daemonStatus {
	st := &daemonStatus{Address: addr}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/health", nil)
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
	st.Reachable = true
	st.Received, st.Written, st.Dropped = h.Received, h.Counters.Written, h.Dropped
	st.DroppedByReason, st.ClientReportedDrops, st.KernelDrops = h.Counters.DroppedByReason, h.Counters.ClientReportedDrops, h.Counters.KernelDrops
	st.QueueDepth, st.QueueCapacity, st.Sinks = h.QueueDepth, h.Counters.QueueCapacity, h.Counters.Sinks
	st.LastPushTime, st.LastPushStatus = h.LastPushTime, h.LastPushStatus
	return st
}

// daemonAddr is where the local daemon's HTTP listener is: OCT_BIND (a
// wildcard means loopback) and OCT_PORT.
func daemonAddr(cfg *Config) string {
	host := cfg.Bind
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(cfg.Port))
}
