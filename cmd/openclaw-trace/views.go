package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/openclaw/openclaw-trace/listener"
	"github.com/openclaw/openclaw-trace/store/view"
)

// The read side's JSON (docs/api.md): the summary the dashboard draws,
// breakdowns, a session's calls and one call's row.

// summaryTimeout bounds one summary in the daemon. A window of a million
// calls takes seconds of CPU (BENCHMARKS.md), longer on a busy machine,
// so these handlers lift the listener's 10 s write timeout for
// themselves.
const summaryTimeout = 60 * time.Second

// handleViews mounts the read-side routes. Summaries and breakdowns scan
// up to the window's raw rows: one runs at a time, so open dashboards
// queue instead of scanning side by side and taking the cores from intake.
func (m *Main) handleViews() {
	v := view.New(m.DB.Reader())
	turn := make(chan struct{}, 1)
	m.HTTP.Handle("GET /v1/summary", m.scanHandler(turn, func(ctx context.Context, r *http.Request, window string) (any, *fieldError) {
		buckets := 0
		if b := r.URL.Query().Get("buckets"); b != "" {
			n, err := strconv.Atoi(b)
			if err != nil || n < 1 || n > 1000 {
				return nil, &fieldError{"buckets", "want an integer 1..1000"}
			}
			buckets = n
		}
		doc, err := summarize(ctx, v, window, time.Now(), buckets)
		if err != nil {
			return nil, &fieldError{"", "summary: " + err.Error()}
		}
		doc.Daemon = m.liveStatus(r.Context())
		if m.Budgets != nil {
			doc.Budgets = &budgetsReport{Source: "daemon", Doc: m.Budgets.Tracker.Doc()}
		}
		return doc, nil
	}))
	m.HTTP.Handle("GET /v1/breakdown", m.scanHandler(turn, func(ctx context.Context, r *http.Request, window string) (any, *fieldError) {
		by, err := view.ParseDims(r.URL.Query().Get("by"))
		if err != nil {
			return nil, &fieldError{"by", err.Error()}
		}
		top, ferr := intParam(r, "top", 0, 0, 100000)
		if ferr != nil {
			return nil, ferr
		}
		doc, err := breakdown(ctx, v, window, time.Now(), by, top)
		if err != nil {
			return nil, &fieldError{"", "breakdown: " + err.Error()}
		}
		return doc, nil
	}))
	m.HTTP.Handle("GET /v1/sessions/{key}/calls", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, ferr := intParam(r, "limit", view.DefaultSessionCalls, 1, 10000)
		if ferr != nil {
			ferr.write(w, http.StatusBadRequest)
			return
		}
		sc, err := v.SessionCalls(r.Context(), r.PathValue("key"), limit)
		if err != nil {
			m.Logger.Error("session calls failed", "err", err)
			listener.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		listener.WriteJSON(w, http.StatusOK, sc)
	}))
	m.HTTP.Handle("GET /v1/calls/{trace_id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		row, err := v.CallRow(r.Context(), r.PathValue("trace_id"))
		switch {
		case errors.Is(err, view.ErrNotFound):
			listener.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "no stored call has this trace_id (raw rows expire after OCT_RETENTION_DAYS)", "field": "trace_id"})
		case err != nil:
			m.Logger.Error("call read failed", "err", err)
			listener.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		default:
			listener.WriteJSON(w, http.StatusOK, row)
		}
	}))
}

// fieldError is a 400's body: what is wrong, and with which parameter.
type fieldError struct{ field, msg string }

func (e *fieldError) write(w http.ResponseWriter, status int) {
	body := map[string]string{"error": e.msg}
	if e.field != "" {
		body["error"], body["field"] = e.field+": "+e.msg, e.field
	}
	listener.WriteJSON(w, status, body)
}

// intParam reads an optional integer query parameter in [lo, hi].
func intParam(r *http.Request, name string, def, lo, hi int) (int, *fieldError) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, &fieldError{name, "want an integer " + strconv.Itoa(lo) + ".." + strconv.Itoa(hi)}
	}
	return n, nil
}

// scanHandler runs build for ?since= (default 24h) in the one turn of
// scans, within summaryTimeout. A bad parameter is a 400 naming it; a
// failed read is a 500.
func (m *Main) scanHandler(turn chan struct{}, build func(ctx context.Context, r *http.Request, window string) (any, *fieldError)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		window := r.URL.Query().Get("since")
		if window == "" {
			window = "24h"
		}
		if _, err := parseSince(window); err != nil {
			(&fieldError{"since", err.Error()}).write(w, http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), summaryTimeout)
		defer cancel()
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(summaryTimeout + 5*time.Second))
		select {
		case turn <- struct{}{}:
			defer func() { <-turn }()
		case <-ctx.Done():
			listener.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "another summary took the whole time"})
			return
		}
		doc, ferr := build(ctx, r, window)
		switch {
		case ferr != nil && ferr.field != "":
			ferr.write(w, http.StatusBadRequest)
		case ferr != nil:
			m.Logger.Error("read failed", "path", r.URL.Path, "err", ferr.msg)
			ferr.write(w, http.StatusInternalServerError)
		default:
			listener.WriteJSON(w, http.StatusOK, doc)
		}
	})
}

// logRollups tells at start what the rollups did on opening the file.
func (m *Main) logRollups() {
	if n := m.DB.BackfilledCalls; n > 0 {
		m.Logger.Info("daily rollups built from the calls already stored", "calls", n, "took", m.DB.BackfillTook.String())
	}
	if z := m.DB.PreviousZone; z != "" {
		m.Logger.Warn("OCT_BUDGET_TZ changed: days already rolled up keep their dates in the previous zone",
			"previous", z, "now", m.DB.Location.String())
	}
}
