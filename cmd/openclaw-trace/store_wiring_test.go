package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
	"go.uber.org/goleak"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// newMain is the daemon in-process, on a free port and a temp database,
// datagram listeners and the sampler off; env overrides any variable.
func newMain(t *testing.T, dbPath string, env map[string]string) (*Main, *syncWriter) {
	t.Helper()
	vars := map[string]string{"OCT_DB_PATH": dbPath, "OCT_PORT": "0", "OCT_SOCKET_PATH": "", "OCT_UDP_ADDR": "",
		"OCT_METRICS_INTERVAL": "0", "OCT_BATCH_WINDOW": "20ms"}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := LoadConfig(context.Background(), envconfig.MapLookuper(vars))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncWriter{w: &bytes.Buffer{}}
	return NewMain(cfg, slog.New(slog.NewJSONHandler(logs, nil))), logs
}

// sqlExec runs statements on a connection of their own, as another
// process would.
func sqlExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

func postToMain(t *testing.T, m *Main, n int) {
	t.Helper()
	for i := range n {
		body := fmt.Sprintf(`{"provider":"openai","model":"m%d","input_text":"hi"}`, i)
		if code, _ := post(t, "http://"+m.HTTP.ListenAddr()+"/v1/traces", "application/json", []byte(body)); code != http.StatusAccepted {
			t.Fatalf("POST #%d: %d, want 202", i, code)
		}
	}
}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// A database the writer cannot write (here a column renamed by another
// binary) stops start-up with an error naming the statement, before any
// listener answers 202 for events that would never be stored.
func TestStartFailsWhenWriterCannotPrepare(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.db")
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	sqlExec(t, path, "ALTER TABLE llm_traces RENAME COLUMN ttft_ms TO ttfb_ms")
	m, _ := newMain(t, path, nil)
	err := m.Run(t.Context())
	defer m.Close()
	if err == nil || !strings.Contains(err.Error(), "prepare llm_traces insert") {
		t.Fatalf("Run() = %v, want a start-up error naming the llm_traces insert", err)
	}
	if m.HTTP != nil && m.HTTP.ListenAddr() != "" {
		t.Errorf("HTTP listening on %s after the writer failed", m.HTTP.ListenAddr())
	}
}

// A writer that can no longer write turns /health degraded, with the
// writer's error, and counts each event it gives up on as write_error.
func TestHealthDegradedWhileWriterFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.db")
	m, _ := newMain(t, path, map[string]string{"OCT_BATCH_SIZE": "1"})
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	health := "http://" + m.HTTP.ListenAddr() + "/health"
	postToMain(t, m, 1)
	poll.Until(t, "first row written", 10*time.Second, func() bool { return m.Writer.Counters[codec.HTTP].Written.Load() == 1 })
	if h := getJSON(t, health); h["status"] != "ok" {
		t.Fatalf("status %v before the failure", h["status"])
	}
	sqlExec(t, path, "ALTER TABLE llm_traces RENAME COLUMN ttft_ms TO ttfb_ms")
	postToMain(t, m, 2)
	var h map[string]any
	poll.Until(t, "two write errors", 10*time.Second, func() bool {
		h = getJSON(t, health)
		c := h["counters"].(map[string]any)
		return c["dropped_by_reason"].(map[string]any)["write_error"] == 2.0
	})
	c := h["counters"].(map[string]any)
	if h["status"] != "degraded" || c["writer_error"] == nil {
		t.Errorf("status %v, writer_error %v; want degraded with the error", h["status"], c["writer_error"])
	}
	if got, want := c["received"], c["written"].(float64)+c["dropped"].(float64); got != want {
		t.Errorf("received %v, written + dropped %v", got, want)
	}
}

// When the drain runs out of its share of OCT_SHUTDOWN_TIMEOUT (another
// process holds the write lock), the writer is stopped and what it did not
// write is counted as shutdown; the final push still runs and the
// database is closed, with no goroutine left behind.
func TestDrainTimeoutStillPushesAndCloses(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	path := filepath.Join(t.TempDir(), "trace.db")
	var unlockOnce sync.Once
	var unlock func()
	var pushes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		pushes.Add(1)
		unlockOnce.Do(unlock) // so the push can mark its rows synced
		w.WriteHeader(http.StatusOK)
	}))
	m, logs := newMain(t, path, map[string]string{"OCT_PUSH_ENDPOINT": srv.URL, "OCT_PUSH_INTERVAL": "1h",
		"OCT_SHUTDOWN_TIMEOUT": "2s", "OCT_BATCH_SIZE": "5"})
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	postToMain(t, m, 5)
	poll.Until(t, "5 rows written", 10*time.Second, func() bool { return m.Writer.Counters[codec.HTTP].Written.Load() == 5 })

	lock, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := lock.Begin()
	if err != nil {
		t.Fatal(err)
	}
	unlock = func() { tx.Rollback(); lock.Close() }
	defer unlockOnce.Do(unlock)
	postToMain(t, m, 20) // queued behind the lock

	err = m.Close()
	if err == nil || !strings.Contains(err.Error(), "drain timed out") {
		t.Errorf("Close() = %v, want drain timed out", err)
	}
	if pushes.Load() == 0 {
		t.Errorf("no final push after the drain timed out; logs:\n%s", logs)
	}
	if err := m.DB.Ping(context.Background()); err == nil {
		t.Error("database still open after Close")
	}
	s := m.snapshot(context.Background(), false)
	http := s.counts[codec.HTTP]
	if http.Written != 5 || http.Dropped[codec.DropShutdown] != 20 || http.Received != 25 {
		t.Errorf("http: received %d, written %d, shutdown drops %d; want 25, 5, 20",
			http.Received, http.Written, http.Dropped[codec.DropShutdown])
	}
	srv.Close()
	goleak.VerifyNone(t, leaks)
}

// The WAL monitor's and the Cleaner's counters are on both pages.
func TestUpkeepCountersExposed(t *testing.T) {
	m, _ := newMain(t, filepath.Join(t.TempDir(), "trace.db"), nil)
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	base := "http://" + m.HTTP.ListenAddr()
	postToMain(t, m, 1)
	var c map[string]any
	poll.Until(t, "a WAL checkpoint and a cleanup pass", 10*time.Second, func() bool {
		c = getJSON(t, base+"/health")["counters"].(map[string]any)
		wal, _ := c["wal"].(map[string]any)
		cl, _ := c["cleanup"].(map[string]any)
		return wal != nil && cl != nil && wal["checkpoints"].(float64) > 0 && cl["passes"].(float64) > 0
	})
	for _, k := range []string{"busy", "truncations", "errors", "last_checkpoint_seconds"} {
		if _, ok := c["wal"].(map[string]any)[k]; !ok {
			t.Errorf("counters.wal has no %s", k)
		}
	}
	for _, k := range []string{"errors", "relieved", "pages_freed"} {
		if _, ok := c["cleanup"].(map[string]any)[k]; !ok {
			t.Errorf("counters.cleanup has no %s", k)
		}
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{"wal_checkpoints_total", "wal_checkpoints_busy_total", "wal_truncations_total",
		"wal_checkpoint_errors_total", "wal_last_checkpoint_seconds", "cleanup_passes_total", "cleanup_errors_total",
		"rows_relieved_total", "vacuum_pages_freed_total"} {
		if !strings.Contains(string(body), "\nopenclaw_trace_"+name+" ") {
			t.Errorf("/metrics has no openclaw_trace_%s", name)
		}
	}
}
