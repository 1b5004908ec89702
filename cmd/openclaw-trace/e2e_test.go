package main

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// openDB re-opens the daemon's database the way the daemon does (read-only
// beside a daemon that still runs: it holds the lock), checks its
// integrity and returns the read pool.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db := store.NewDB(path)
	err := db.Open()
	var locked *store.LockedError
	if errors.As(err, &locked) {
		db, err = store.OpenReadOnly(path)
	}
	if err != nil {
		t.Fatalf("re-open db: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	var ok string
	if err := db.Reader().QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	return db.Reader()
}

// traceIDs is the set of trace_ids of the rows of from: a table, or a
// table and a WHERE clause.
func traceIDs(t *testing.T, db *sql.DB, from string) map[string]bool {
	t.Helper()
	rows, err := db.Query("SELECT trace_id FROM " + from)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids[id] = true
	}
	return ids
}

// TestEndToEndHTTP posts traces and errors in both encodings to the real
// binary, reads them back from SQLite, and checks /health and /metrics.
func TestEndToEndHTTP(t *testing.T) {
	d := startDaemon(t, "")
	code, out := post(t, d.URL("/v1/traces"), "application/json",
		[]byte(`[{"provider":"anthropic","model":"claude-sonnet-4","input_text":"hi","prompt_tokens":12,"completion_tokens":30,"cost_usd":0.0042,"latency_ms":812,"ttft_ms":120,"session":"s1"},
		{"provider":"openai","model":"gpt-4o","status":"timeout"}]`))
	if code != http.StatusAccepted || out["accepted"] != 2.0 {
		t.Fatalf("POST traces: %d %v", code, out)
	}
	mp, _ := msgpack.Marshal(map[string]any{"error_type": "llm_error", "message": "rate limited", "code": "rate_limit"})
	code, out2 := post(t, d.URL("/v1/errors"), "application/msgpack", mp)
	if code != http.StatusAccepted {
		t.Fatalf("POST errors: %d %v", code, out2)
	}
	code, out3 := post(t, d.URL("/v1/logs"), "application/json", []byte(`{"kind":"channel_out","channel":"slack","message":"sent"}`))
	if code != http.StatusAccepted {
		t.Fatalf("POST logs: %d %v", code, out3)
	}
	code, bad := post(t, d.URL("/v1/traces"), "application/json", []byte(`{"provider":"x","model":"y","prompt_tokens":-1}`))
	if code != http.StatusBadRequest || bad["field"] != "prompt_tokens" {
		t.Fatalf("invalid trace: %d %v", code, bad)
	}
	poll.Until(t, "4 events written", 10*time.Second, func() bool {
		c := d.Health()["counters"].(map[string]any)
		return c["written"] == 4.0
	})
	h := d.Health()
	for _, k := range []string{"status", "uptime_seconds", "version", "db_status", "db_size_bytes", "wal_size_bytes",
		"queue_depth", "events_received", "events_dropped", "last_push_time", "last_push_status", "unsynced_count", "counters"} {
		if _, ok := h[k]; !ok {
			t.Errorf("/health lacks %q", k)
		}
	}
	if h["status"] != "ok" || h["events_received"] != 5.0 || h["events_dropped"] != 1.0 || h["unsynced_count"] != 4.0 {
		t.Errorf("/health = %v", h)
	}
	// The writer gave the queue's byte budget back as it took the events.
	if c := h["counters"].(map[string]any); h["queue_bytes"] != 0.0 || c["queue_max_bytes"] != float64(4<<20) {
		t.Errorf("/health queue_bytes %v, counters.queue_max_bytes %v, want 0 and %d", h["queue_bytes"], c["queue_max_bytes"], 4<<20)
	}
	resp, err := http.Get(d.URL("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	for _, want := range []string{
		`openclaw_trace_events_received_total{transport="http"} 5`,
		`openclaw_trace_events_written_total{transport="http"} 4`,
		`openclaw_trace_events_dropped_total{transport="http",reason="invalid"} 1`,
		"process_resident_memory_bytes ",
		"openclaw_trace_queue_bytes 0\n",
		"openclaw_trace_queue_max_bytes ",
	} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := d.Stop(); err != nil {
		t.Fatalf("exit: %v\n%s", err, d.Logs())
	}
	db := openDB(t, d.DBPath)
	var model, md string
	var total, ttft int64
	id := out["trace_ids"].([]any)[0].(string)
	if err := db.QueryRow(`SELECT model, total_tokens, ttft_ms, metadata FROM llm_traces WHERE trace_id = ?`, id).
		Scan(&model, &total, &ttft, &md); err != nil {
		t.Fatal(err)
	}
	if model != "claude-sonnet-4" || total != 42 || ttft != 120 || md != `{"session":"s1"}` {
		t.Errorf("row = %q %d %d %q", model, total, ttft, md)
	}
	var code2 string
	db.QueryRow(`SELECT code FROM error_events`).Scan(&code2)
	if code2 != "rate_limit" {
		t.Errorf("error code = %q", code2)
	}
}

// TestSIGTERMDrainsEverything: 10,000 events accepted just before SIGTERM
// are all in the database after a clean exit, and the WAL is checkpointed.
func TestSIGTERMDrainsEverything(t *testing.T) {
	d := startDaemon(t, "", "OCT_QUEUE_SIZE=10000", "OCT_BATCH_WINDOW=1s")
	const requests, perRequest = 100, 100
	var mu sync.Mutex
	accepted := map[string]bool{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := w; i < requests; i += 4 {
				var b strings.Builder
				b.WriteString("[")
				for j := 0; j < perRequest; j++ {
					if j > 0 {
						b.WriteString(",")
					}
					fmt.Fprintf(&b, `{"provider":"p","model":"m","prompt_tokens":%d}`, i*perRequest+j)
				}
				b.WriteString("]")
				code, out := post(t, d.URL("/v1/traces"), "application/json", []byte(b.String()))
				if code != http.StatusAccepted {
					t.Errorf("request %d: %d %v", i, code, out)
					return
				}
				mu.Lock()
				for _, id := range out["trace_ids"].([]any) {
					accepted[id.(string)] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := d.Stop(); err != nil {
		t.Fatalf("exit: %v\n%s", err, d.Logs())
	}
	if len(accepted) != requests*perRequest {
		t.Fatalf("accepted %d events", len(accepted))
	}
	if _, wal := store.NewDB(d.DBPath).Sizes(); wal != 0 {
		t.Errorf("WAL not truncated at shutdown: %d bytes", wal)
	}
	stored := traceIDs(t, openDB(t, d.DBPath), "llm_traces")
	missing := 0
	for id := range accepted {
		if !stored[id] {
			missing++
		}
	}
	if missing > 0 || len(stored) != len(accepted) {
		t.Errorf("accepted %d, stored %d, missing %d", len(accepted), len(stored), missing)
	}
	for _, msg := range []string{"signal received", "draining queue", "stopped"} {
		if len(logLines(d.Logs(), msg)) == 0 {
			t.Errorf("no %q log line", msg)
		}
	}
}

// TestEndToEndSystemMetrics: with a 1 s interval the binary stores
// system_metrics rows with plausible values for this machine.
func TestEndToEndSystemMetrics(t *testing.T) {
	d := startDaemon(t, "", "OCT_METRICS_INTERVAL=1s")
	poll.Until(t, "2 metric rows", 15*time.Second, func() bool {
		c := d.Health()["counters"].(map[string]any)
		return c["transports"].(map[string]any)["metrics"].(map[string]any)["written"].(float64) >= 2
	})
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, d.DBPath)
	var cpu, diskPct float64
	var memCur, memLimit, diskTotal int64
	var md string
	err := db.QueryRow(`SELECT cpu_pct, mem_current_bytes, mem_limit_bytes, disk_total_bytes, disk_pct, metadata
		FROM system_metrics ORDER BY id LIMIT 1`).Scan(&cpu, &memCur, &memLimit, &diskTotal, &diskPct, &md)
	if err != nil {
		t.Fatal(err)
	}
	if cpu < 0 || cpu > 100*float64(runtime.NumCPU())+1 || memCur <= 0 || memLimit < memCur ||
		diskTotal <= 0 || diskPct <= 0 || diskPct > 100 || !strings.Contains(md, `"source"`) {
		t.Errorf("implausible sample: cpu %v mem %d/%d disk %d (%v%%) %s", cpu, memCur, memLimit, diskTotal, diskPct, md)
	}
}
