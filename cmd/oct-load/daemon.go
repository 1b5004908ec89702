package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/procfs"
	_ "modernc.org/sqlite"

	"github.com/openclaw/openclaw-trace/codec"
)

// fetchHealth reads GET /health generically: its shape belongs to the
// daemon, and this tool prints whatever it finds.
func fetchHealth(ctx context.Context, base string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/health", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get health: %w", err)
	}
	defer resp.Body.Close()
	var h map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil, fmt.Errorf("decode health: %w", err)
	}
	return h, nil
}

// lookup walks nested JSON objects: lookup(h, "counters", "queue_depth").
func lookup(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// settle polls /health until the transport's counters stop moving and the
// queue is empty: then received = written + Σ drops can be read.
func settle(ctx context.Context, base, transport string, limit time.Duration) (map[string]any, bool) {
	deadline := time.Now().Add(limit)
	var last string
	var h map[string]any
	for time.Now().Before(deadline) {
		cur, err := fetchHealth(ctx, base)
		if err == nil {
			h = cur
			t, _ := json.Marshal(lookup(cur, "counters", "transports", transport))
			if string(t) == last && num(lookup(cur, "queue_depth")) == 0 {
				return h, true
			}
			last = string(t)
		}
		select {
		case <-ctx.Done():
			return h, false
		case <-time.After(700 * time.Millisecond): // longer than the writer's batch window
		}
	}
	return h, false
}

// countRows counts llm_traces in the daemon's database, read-only.
func countRows(ctx context.Context, path string) (int64, error) {
	if path == "" {
		return 0, nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("open db: %w", err)
	}
	defer db.Close()
	var n int64
	table := codec.LLMTraces.Name
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// fetchRSS reads process_resident_memory_bytes from GET /metrics.
func fetchRSS(ctx context.Context, base string) (int64, error) {
	return fetchCounter(ctx, base, "process_resident_memory_bytes")
}

// fetchCounter reads one unlabelled sample from GET /metrics (Prometheus
// text format).
func fetchCounter(ctx context.Context, base, name string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f), err
		}
	}
	return 0, fmt.Errorf("no %s in %s/metrics", name, base)
}

// rssSampler samples VmRSS of pid from /proc while the load runs.
type rssSampler struct {
	done chan struct{}
	peak chan int64
}

func startRSS(pid int) *rssSampler {
	r := &rssSampler{done: make(chan struct{}), peak: make(chan int64, 1)}
	go func() {
		var peak int64
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			if pid > 0 {
				peak = max(peak, vmRSS(pid))
			}
			select {
			case <-r.done:
				r.peak <- peak
				return
			case <-t.C:
			}
		}
	}()
	return r
}

// stop returns the highest RSS seen, 0 without a pid.
func (r *rssSampler) stop() int64 {
	close(r.done)
	return <-r.peak
}

// vmRSS is the resident set size of pid in bytes, 0 if unknown.
func vmRSS(pid int) int64 {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0
	}
	st, err := p.NewStatus()
	if err != nil {
		return 0
	}
	return int64(st.VmRSS)
}
