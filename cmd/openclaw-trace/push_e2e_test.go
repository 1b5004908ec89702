package main

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// receiver is a fake remote API that records every trace_id it is sent.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	seen     map[string]int            // trace_id → times received in acknowledged bodies
	rows     map[string]map[string]any // trace_id → the row as last received
	bodies   int
	auth     string
	delay    atomic.Int64 // ns to stall the next request
	failWith atomic.Int64 // status to answer instead of 200, 0 = none
	refuse   string       // a body holding it is answered 400 (set before the first request)
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{seen: map[string]int{}, rows: map[string]map[string]any{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.handle))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	// Read the body first: only then does net/http watch the connection
	// and cancel the request context when the client goes away.
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	if d := r.delay.Swap(0); d > 0 {
		select {
		case <-time.After(time.Duration(d)):
		case <-req.Context().Done():
			return
		}
	}
	if code := r.failWith.Load(); code != 0 {
		w.WriteHeader(int(code))
		return
	}
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			raw, err = io.ReadAll(zr)
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
	}
	if r.refuse != "" && bytes.Contains(raw, []byte(r.refuse)) {
		http.Error(w, `{"error":"row refused"}`, http.StatusBadRequest)
		return
	}
	var b map[string]json.RawMessage
	if err := json.Unmarshal(raw, &b); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies++
	r.auth = req.Header.Get("Authorization")
	for _, table := range []string{"llm_traces", "error_events", "system_metrics", "log_events"} {
		var rows []map[string]any
		json.Unmarshal(b[table], &rows)
		for _, row := range rows {
			id, _ := row["trace_id"].(string)
			r.seen[id]++
			row["_table"] = table
			r.rows[id] = row
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) times(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id]
}

// checkFields compares a few columns of every stored row with what the
// receiver got for its trace_id.
func (r *receiver) checkFields(t *testing.T, db *sql.DB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	rows, err := db.Query(`SELECT trace_id, created_at, model, prompt_tokens, total_tokens FROM llm_traces`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	checked := 0
	for rows.Next() {
		var id, model string
		var created, prompt, total int64
		rows.Scan(&id, &created, &model, &prompt, &total)
		got := r.rows[id]
		if got == nil {
			continue // not received: reported by the caller
		}
		if got["_table"] != "llm_traces" || got["model"] != model || got["created_at"] != float64(created) ||
			got["prompt_tokens"] != float64(prompt) || got["total_tokens"] != float64(total) {
			t.Errorf("row %s: stored (%s, %d, %d, %d), received %v", id, model, created, prompt, total, got)
		}
		checked++
	}
	if checked == 0 {
		t.Error("no llm_traces row was compared")
	}
}

func (r *receiver) count() (unique, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.seen {
		unique++
		total += n
	}
	return unique, total
}

func postTraces(t *testing.T, d *daemon, n int) []string {
	t.Helper()
	var ids []string
	for i := 0; i < n; i += 100 {
		var parts []string
		for j := i; j < i+100 && j < n; j++ {
			parts = append(parts, fmt.Sprintf(`{"provider":"p","model":"m","prompt_tokens":%d}`, j))
		}
		code, out := post(t, d.URL("/v1/traces"), "application/json", []byte("["+strings.Join(parts, ",")+"]"))
		if code != http.StatusAccepted {
			t.Fatalf("post: %d %v", code, out)
		}
		for _, id := range out["trace_ids"].([]any) {
			ids = append(ids, id.(string))
		}
	}
	return ids
}

// TestEndToEndPush: 1,000 traces reach the receiver, none missing, none
// twice, and are marked synced.
func TestEndToEndPush(t *testing.T) {
	rcv := newReceiver(t)
	d := startDaemon(t, "", "OCT_PUSH_ENDPOINT="+rcv.URL, "OCT_PUSH_INTERVAL=300ms", "OCT_PUSH_TOKEN=tok-123", "OCT_QUEUE_SIZE=2000")
	if h := d.Health(); h["last_push_status"] != "pending" {
		t.Errorf("last_push_status before the first push = %v", h["last_push_status"])
	}
	ids := postTraces(t, d, 1000)
	poll.Until(t, "1000 rows pushed", 30*time.Second, func() bool { u, _ := rcv.count(); return u >= 1000 })
	poll.Until(t, "unsynced 0", 10*time.Second, func() bool { return d.Health()["unsynced_count"] == 0.0 })
	h := d.Health()
	if h["last_push_status"] != "ok" || h["last_push_time"] == nil {
		t.Errorf("health push fields: %v %v", h["last_push_status"], h["last_push_time"])
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for _, id := range ids {
		if rcv.seen[id] != 1 {
			t.Errorf("trace %s received %d times", id, rcv.seen[id])
		}
	}
	if len(rcv.seen) != 1000 || rcv.auth != "Bearer tok-123" {
		t.Errorf("received %d ids, auth %q", len(rcv.seen), rcv.auth)
	}
	if strings.Contains(d.Logs(), "tok-123") {
		t.Error("the push token appears in the logs")
	}
}

// TestPushSIGTERMDuringSlowPush: a push stuck on a slow receiver is
// aborted at SIGTERM, the final push sends everything, the exit is clean
// and within the shutdown timeout.
func TestPushSIGTERMDuringSlowPush(t *testing.T) {
	rcv := newReceiver(t)
	rcv.delay.Store(int64(time.Hour))
	d := startDaemon(t, "", "OCT_PUSH_ENDPOINT="+rcv.URL, "OCT_PUSH_INTERVAL=200ms", "OCT_SHUTDOWN_TIMEOUT=10s")
	postTraces(t, d, 200)
	poll.Until(t, "a push in flight", 10*time.Second, func() bool { return rcv.delay.Load() == 0 })
	start := time.Now()
	if err := d.Stop(); err != nil {
		t.Fatalf("exit: %v\n%s", err, d.Logs())
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	if u, _ := rcv.count(); u != 200 {
		t.Errorf("receiver has %d of 200 traces after the final push", u)
	}
	var unsynced int
	openDB(t, d.DBPath).QueryRow("SELECT count(*) FROM llm_traces WHERE synced = 0").Scan(&unsynced)
	if unsynced != 0 {
		t.Errorf("%d rows unsynced after the final push", unsynced)
	}
}

// TestPushOnceFlag: --push-once exits 0 when everything went out, 1 when
// the remote refuses.
func TestPushOnceFlag(t *testing.T) {
	d := startDaemon(t, "")
	postTraces(t, d, 300)
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t)
	pushOnce := func(endpoint string) (int, string) {
		cmd := exec.Command(binPath, "--push-once")
		cmd.Env = []string{"OCT_DB_PATH=" + d.DBPath, "OCT_PUSH_ENDPOINT=" + endpoint}
		out, _ := combinedOutput(t, cmd)
		return cmd.ProcessState.ExitCode(), string(out)
	}
	rcv.failWith.Store(http.StatusBadRequest)
	if code, out := pushOnce(rcv.URL); code != 1 {
		t.Errorf("--push-once against a refusing remote: exit %d\n%s", code, out)
	}
	rcv.failWith.Store(0)
	if code, out := pushOnce(rcv.URL); code != 0 {
		t.Errorf("--push-once: exit %d\n%s", code, out)
	}
	if u, total := rcv.count(); u != 300 || total != 300 {
		t.Errorf("receiver: %d unique, %d total", u, total)
	}
	if code, _ := pushOnce(""); code != 2 {
		t.Errorf("--push-once without endpoint: exit %d, want 2", code)
	}
}

// TestEndToEndPushSetsAsideRefusedRow: the receiver refuses any body
// holding one row; that row is set aside, shown in /health and /metrics,
// every other row arrives once, and a restart sends nothing again.
func TestEndToEndPushSetsAsideRefusedRow(t *testing.T) {
	rcv := newReceiver(t)
	rcv.refuse = `"model":"poison"`
	env := []string{"OCT_PUSH_ENDPOINT=" + rcv.URL, "OCT_PUSH_INTERVAL=200ms"}
	d := startDaemon(t, "", env...)
	ids := postTraces(t, d, 150)
	code, out := post(t, d.URL("/v1/traces"), "application/json", []byte(`{"provider":"p","model":"poison"}`))
	if code != http.StatusAccepted {
		t.Fatalf("post: %d %v", code, out)
	}
	ids = append(ids, postTraces(t, d, 150)...)
	pushSink := func() map[string]any {
		return d.Health()["counters"].(map[string]any)["sinks"].(map[string]any)["push"].(map[string]any)
	}
	poll.Until(t, "300 rows pushed and 1 set aside", 30*time.Second, func() bool {
		u, _ := rcv.count()
		return u == 300 && d.Health()["unsynced_count"] == 0.0 && pushSink()["set_aside"] == 1.0
	})
	if got := pushSink()["rejected"].(map[string]any)["http_400"]; got != 1.0 {
		t.Errorf("/health push rejected http_400 = %v, want 1", got)
	}
	resp, err := http.Get(d.URL("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{`openclaw_trace_sink_rows_set_aside{sink="push"} 1`,
		`openclaw_trace_sink_rows_rejected_total{sink="push",reason="http_400"} 1`} {
		if !strings.Contains(string(page), line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	_, before := rcv.count()
	d = startDaemon(t, d.Dir, env...)
	poll.Until(t, "the restarted daemon's first cycle", 10*time.Second, func() bool {
		c, _ := d.Health()["counters"].(map[string]any)["push"].(map[string]any)
		return c != nil && c["cycles"].(float64) >= 2
	})
	if pushSink()["set_aside"] != 1.0 {
		t.Errorf("set_aside after a restart: %v, want 1", pushSink()["set_aside"])
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, after := rcv.count(); after != before {
		t.Errorf("%d rows sent again after the restart", after-before)
	}
	for _, id := range ids {
		if n := rcv.times(id); n != 1 {
			t.Errorf("trace %s received %d times", id, n)
		}
	}
}
