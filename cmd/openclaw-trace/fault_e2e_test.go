package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/testkit/poll"
	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// Small queue and batch so the loss bound of a kill -9 is tight.
const (
	faultQueueSize = 64
	faultBatchSize = 16
)

// burst is what a write burst got acknowledged.
type burst struct {
	mu       sync.Mutex
	acked    []string // trace_ids answered 202
	rejected int      // 429 (queue full): not acknowledged, not expected
}

func (b *burst) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.acked)
}

// fireBurst posts one trace per request from workers goroutines until stop
// is closed or the daemon stops answering, and records every 202.
func fireBurst(url string, workers int, stop <-chan struct{}) (*burst, *sync.WaitGroup) {
	b := &burst{}
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			defer tr.CloseIdleConnections()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"provider":"fault","model":"m","input_text":"worker %d call %d","prompt_tokens":%d}`, w, i, i)
				resp, err := client.Post(url, "application/json", strings.NewReader(body))
				if err != nil {
					return // the daemon is gone
				}
				var out struct {
					TraceIDs []string `json:"trace_ids"`
				}
				json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				b.mu.Lock()
				switch resp.StatusCode {
				case http.StatusAccepted:
					b.acked = append(b.acked, out.TraceIDs...)
				case http.StatusTooManyRequests:
					b.rejected++
				}
				b.mu.Unlock()
			}
		})
	}
	return b, &wg
}

// killDuringBurst starts the daemon, fires a burst and sends SIGKILL once
// at least minAcked events were acknowledged, with the burst still going.
func killDuringBurst(t *testing.T, minAcked int) (dir string, b *burst) {
	t.Helper()
	env := []string{"OCT_QUEUE_SIZE=" + strconv.Itoa(faultQueueSize), "OCT_BATCH_SIZE=" + strconv.Itoa(faultBatchSize)}
	d := startDaemon(t, "", env...)
	stop := make(chan struct{})
	b, wg := fireBurst(d.URL("/v1/traces"), 8, stop)
	poll.Until(t, fmt.Sprintf("%d acknowledged events", minAcked), 30*time.Second, func() bool { return b.count() >= minAcked })
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.exited
	close(stop)
	wg.Wait()
	return d.Dir, b
}

// storedIDs opens the database file the way the daemon does (replaying the
// WAL), checks integrity_check and returns the trace_ids in llm_traces.
func storedIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatalf("open db after kill: %v", err)
	}
	defer db.Close()
	var ok string
	if err := db.Reader().QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	return traceIDs(t, db.Reader(), "llm_traces")
}

// TestKillDuringWriteBurst: kill -9 in the middle of an HTTP write burst,
// then the database must open, pass integrity_check and hold every
// acknowledged event except those that were still in memory.
//
// The daemon answers 202 once the events are in its queue, before the
// writer commits them (handlers never wait on SQLite). At the kill, an
// acknowledged event can only be lost if it was in the queue
// (≤ OCT_QUEUE_SIZE) or in the writer's uncommitted transaction
// (≤ OCT_BATCH_SIZE); a committed transaction survives a process crash
// (WAL, synchronous=NORMAL: only a power loss can take the last ones). So
// missing ≤ OCT_QUEUE_SIZE + OCT_BATCH_SIZE.
func TestKillDuringWriteBurst(t *testing.T) {
	dir, b := killDuringBurst(t, 3000)
	ids := storedIDs(t, filepath.Join(dir, "trace.db"))
	missing := 0
	for _, id := range b.acked {
		if !ids[id] {
			missing++
		}
	}
	bound := faultQueueSize + faultBatchSize
	t.Logf("acknowledged %d, rejected 429 %d, stored %d, acknowledged but missing %d (bound %d)",
		len(b.acked), b.rejected, len(ids), missing, bound)
	if missing > bound {
		t.Errorf("%d acknowledged events missing after kill -9, want ≤ %d (queue %d + batch %d)",
			missing, bound, faultQueueSize, faultBatchSize)
	}
}

// TestRestartAfterKill: after a kill -9 the daemon starts on the same
// directory and keeps working: a new event is written and read back, and
// nothing stored before the kill is lost by the restart.
func TestRestartAfterKill(t *testing.T) {
	dir, _ := killDuringBurst(t, 500)
	before := storedIDs(t, filepath.Join(dir, "trace.db"))

	d := startDaemon(t, dir)
	code, out := post(t, d.URL("/v1/traces"), "application/json", []byte(`{"provider":"after","model":"restart"}`))
	if code != http.StatusAccepted {
		t.Fatalf("POST after restart: %d %v", code, out)
	}
	id := out["trace_ids"].([]any)[0].(string)
	if h := d.Health(); h["status"] != "ok" || h["db_status"] != "ok" {
		t.Errorf("health after restart: status %v, db_status %v", h["status"], h["db_status"])
	}
	if err := d.Stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, d.Logs())
	}
	after := storedIDs(t, d.DBPath)
	if !after[id] {
		t.Errorf("event posted after restart (%s) not stored", id)
	}
	for old := range before {
		if !after[old] {
			t.Fatalf("row %s stored before the restart is gone", old)
		}
	}
	if len(after) != len(before)+1 {
		t.Errorf("rows: %d before restart, %d after, want +1", len(before), len(after))
	}
}

// startScript runs start.sh with the real binary and gatewayScript as the
// gateway; it returns when both have started.
func startScript(t *testing.T, gatewayScript string) (cmd *exec.Cmd, out *syncWriter, exited chan error, dir string) {
	t.Helper()
	dir = t.TempDir()
	gateway := filepath.Join(dir, "gateway.sh")
	script := "#!/bin/sh\necho $$ > " + filepath.Join(dir, "gateway.pid") + "\n" + gatewayScript
	if err := os.WriteFile(gateway, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out = &syncWriter{w: &bytes.Buffer{}}
	cmd = exec.Command("bash", "../../start.sh")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"),
		"OCT_BIN=" + binPath, "GATEWAY_CMD=" + gateway,
		"OCT_DB_PATH=" + filepath.Join(dir, "trace.db"), "OCT_SOCKET_PATH=" + filepath.Join(dir, "oct.sock"),
		"OCT_PORT=0", "OCT_UDP_ADDR=", "OCT_METRICS_INTERVAL=0",
		// Tests run as root in CI: never change the machine's sysctl (the
		// client tests rely on the default max_dgram_qlen of 10).
		"OCT_DGRAM_QLEN=0"}
	cmd.Stdout, cmd.Stderr = out, out
	if err := reap.Start(t, cmd); err != nil { // its own process group: sidecar and gateway die with the run
		t.Fatal(err)
	}
	exited = make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})
	poll.Until(t, "sidecar and gateway started", 15*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(dir, "gateway.pid"))
		return err == nil && strings.Contains(out.String(), `"transport":"http"`)
	})
	return cmd, out, exited, dir
}

// checkScriptExit waits for start.sh and checks its status is the
// gateway's, the sidecar finished its shutdown and the gateway is gone.
func checkScriptExit(t *testing.T, cmd *exec.Cmd, out *syncWriter, exited chan error, dir string, want int) {
	t.Helper()
	select {
	case <-exited:
	case <-time.After(40 * time.Second):
		t.Fatalf("start.sh did not exit\n%s", out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != want {
		t.Errorf("start.sh exit status %d, want the gateway's %d\n%s", code, want, out.String())
	}
	if !strings.Contains(out.String(), `"msg":"stopped"`) {
		t.Errorf("sidecar did not finish its shutdown\n%s", out.String())
	}
	pid, _ := os.ReadFile(filepath.Join(dir, "gateway.pid"))
	if n, _ := strconv.Atoi(strings.TrimSpace(string(pid))); n > 0 && syscall.Kill(n, 0) == nil {
		t.Errorf("gateway (pid %d) still running after start.sh exited", n)
	}
}

// TestStartScriptForwardsSIGTERM: SIGTERM to start.sh stops both
// processes, the sidecar cleanly, and the script exits with the gateway's
// status. The fake gateway dies of SIGTERM at once (143), before the
// sidecar has drained: a second SIGTERM from the script would cut the
// sidecar's shutdown short, and "stopped" would be missing.
func TestStartScriptForwardsSIGTERM(t *testing.T) {
	cmd, out, exited, dir := startScript(t, "exec sleep 1000\n")
	cmd.Process.Signal(syscall.SIGTERM)
	checkScriptExit(t, cmd, out, exited, dir, 143)
}

// TestStartScriptGatewayExits: when the gateway exits by itself, the
// sidecar is stopped cleanly and the script keeps the gateway's status.
func TestStartScriptGatewayExits(t *testing.T) {
	cmd, out, exited, dir := startScript(t, "sleep 0.5\nexit 3\n")
	checkScriptExit(t, cmd, out, exited, dir, 3)
}

// syncWriter is a bytes.Buffer safe for the writer goroutine and the test.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}
