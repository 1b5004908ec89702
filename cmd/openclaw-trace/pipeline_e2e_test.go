package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// TestFullPipeline: the real binary with a real SQLite file and a mock
// receiver. 100 traces over each transport (unix socket, UDP, HTTP), plus
// errors, system metrics and gateway log lines; push cycles send every row
// to the receiver exactly once with the trace_ids stored in SQLite; then
// SIGTERM with events still arriving, a restart, and nothing accepted is
// lost.
func TestFullPipeline(t *testing.T) {
	rcv := newReceiver(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "oct.sock")
	udp := freeUDPAddr(t)
	logFile := filepath.Join(dir, "openclaw-2026-11-24.log")
	appendLines(t, logFile, 0, 20)
	env := []string{"OCT_SOCKET_PATH=" + sock, "OCT_UDP_ADDR=" + udp, "OCT_PUSH_ENDPOINT=" + rcv.URL,
		"OCT_PUSH_INTERVAL=500ms", "OCT_METRICS_INTERVAL=1s", "OCT_LOG_PATH=" + logFile, "OCT_QUEUE_SIZE=4096"}
	d := startDaemon(t, dir, env...)

	uc := dial(t, "unixgram", sock)
	pc := dial(t, "udp", udp)
	for i := 0; i < 100; i++ {
		send(t, uc, fmt.Sprintf(`{"type":"trace","provider":"p","model":"unixgram","prompt_tokens":%d}`, i))
		send(t, pc, fmt.Sprintf(`{"type":"trace","provider":"p","model":"udp","prompt_tokens":%d}`, i))
		if i%10 == 9 { // pace the datagrams: the kernel queue holds ~11
			poll.Until(t, "datagrams read", 5*time.Second, func() bool { return datagramsRead(d) >= 2*(i+1) })
		}
	}
	postTraces(t, d, 100)
	for i := 0; i < 10; i++ {
		post(t, d.URL("/v1/errors"), "application/json", []byte(fmt.Sprintf(`{"error_type":"crash","message":"e%d"}`, i)))
	}
	poll.Until(t, "metrics rows", 15*time.Second, func() bool { return tableWritten(d, "metrics") >= 2 })
	poll.Until(t, "everything pushed", 30*time.Second, func() bool { return d.Health()["unsynced_count"] == 0.0 })
	h := d.Health()
	c := h["counters"].(map[string]any)
	if c["received"] != c["written"] || c["dropped"] != 0.0 {
		t.Fatalf("accounting: received %v written %v dropped %v", c["received"], c["written"], c["dropped"])
	}

	// Every row the daemon marked synced reached the receiver once, with
	// its stored fields. Every row was synced at the wait above; the
	// sampler goes on writing system_metrics rows, which the next push
	// cycle may not have sent yet.
	db := openDB(t, d.DBPath) // a second reader beside the running daemon is fine in WAL mode
	for _, table := range []string{"llm_traces", "error_events", "system_metrics", "log_events"} {
		ids := traceIDs(t, db, table+" WHERE synced = 1")
		if len(ids) == 0 {
			t.Errorf("no %s row synced", table)
		}
		for id := range ids {
			if n := rcv.times(id); n != 1 {
				t.Errorf("%s row %s received %d times", table, id, n)
			}
		}
	}
	for _, model := range []string{"unixgram", "udp", "m"} {
		var n int
		db.QueryRow(`SELECT count(DISTINCT prompt_tokens) FROM llm_traces WHERE model = ?`, model).Scan(&n)
		if n != 100 {
			t.Errorf("model %s: %d distinct traces stored, want 100", model, n)
		}
	}
	rcv.checkFields(t, db)

	// SIGTERM while HTTP events keep arriving; restart; nothing accepted lost.
	accepted := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100000; i++ { // until the daemon refuses
			code, out := postQuiet(d.URL("/v1/traces"), fmt.Sprintf(`{"provider":"p","model":"late","prompt_tokens":%d}`, i))
			if code != http.StatusAccepted {
				return // 503 or refused: the daemon is stopping
			}
			accepted[out] = true
		}
	}()
	poll.Until(t, "late traces flowing", 5*time.Second, func() bool { return tableWritten(d, "http") > 110 })
	if err := d.Stop(); err != nil {
		t.Fatalf("exit: %v\n%s", err, d.Logs())
	}
	<-done
	d2 := startDaemon(t, dir, env...)
	poll.Until(t, "late traces pushed", 30*time.Second, func() bool { return d2.Health()["unsynced_count"] == 0.0 })
	if err := d2.Stop(); err != nil {
		t.Fatal(err)
	}
	for id := range accepted {
		if rcv.times(id) != 1 {
			t.Errorf("accepted late trace %s received %d times", id, rcv.times(id))
		}
	}
	t.Logf("%d traces accepted around SIGTERM, all pushed after the restart", len(accepted))
}

func dial(t *testing.T, network, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func datagramsRead(d *daemon) int {
	tr := d.Health()["counters"].(map[string]any)["transports"].(map[string]any)
	return int(tr["unixgram"].(map[string]any)["units"].(float64) + tr["udp"].(map[string]any)["units"].(float64))
}

func tableWritten(d *daemon, transport string) float64 {
	tr := d.Health()["counters"].(map[string]any)["transports"].(map[string]any)
	return tr[transport].(map[string]any)["written"].(float64)
}

// postQuiet posts one event and returns the status and its trace_id; it
// does not fail the test, since refusals are expected around SIGTERM.
func postQuiet(url, body string) (int, string) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	var out struct {
		TraceIDs []string `json:"trace_ids"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if len(out.TraceIDs) != 1 {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, out.TraceIDs[0]
}
