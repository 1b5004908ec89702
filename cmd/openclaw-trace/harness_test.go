package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/reap"
	"go.uber.org/goleak"
)

// binPath is the real daemon, built once by TestMain for the end-to-end
// tests.
var binPath string

func TestMain(m *testing.M) {
	// First: from here on TMPDIR is this run's own directory, and what
	// the run starts dies with it, also when the test binary is killed.
	run := reap.Watch(m)
	dir, err := os.MkdirTemp("", "oct-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "openclaw-trace")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build daemon: %v\n%s", err, out)
		os.Exit(1)
	}
	code := run.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// daemon is one run of the real binary.
type daemon struct {
	t      testing.TB
	cmd    *exec.Cmd
	Dir    string
	DBPath string
	Addr   string // HTTP host:port, read from the "listening" log line
	mu     sync.Mutex
	logs   bytes.Buffer
	exited chan error    // the exit status, once (Stop takes it)
	waited chan struct{} // closed when the process has exited
}

// startDaemon runs the binary with a temp DB, HTTP on a free port and the
// datagram listeners off unless env says otherwise; env adds KEY=VALUE
// pairs. dir may be "" for a new temp dir (reuse one to restart).
func startDaemon(t testing.TB, dir string, env ...string) *daemon {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	d := &daemon{t: t, Dir: dir, DBPath: filepath.Join(dir, "trace.db"), exited: make(chan error, 1), waited: make(chan struct{})}
	d.cmd = exec.Command(binPath)
	d.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "OCT_DB_PATH=" + d.DBPath, "OCT_PORT=0",
		"OCT_SOCKET_PATH=", "OCT_UDP_ADDR=", "OCT_METRICS_INTERVAL=0", "OCT_BATCH_WINDOW=50ms"}, env...)
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stderr = d.cmd.Stdout
	// In a process group of its own, killed with the test binary.
	if err := reap.Start(t, d.cmd); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		// The logs to EOF first: Wait closes the pipe, and os/exec says
		// not to call it before the reads from StdoutPipe are done (a
		// "stopped" line could be lost).
		d.readLogs(stdout, addr)
		d.exited <- d.cmd.Wait()
		close(d.waited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.waited:
		default:
			d.cmd.Process.Kill()
			<-d.waited
		}
	})
	select {
	case d.Addr = <-addr:
	case err := <-d.exited:
		t.Fatalf("daemon exited at start: %v\n%s", err, d.Logs())
	case <-time.After(15 * time.Second):
		t.Fatalf("daemon did not start listening\n%s", d.Logs())
	}
	return d
}

func (d *daemon) readLogs(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		d.mu.Lock()
		d.logs.WriteString(line + "\n")
		d.mu.Unlock()
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "listening" && rec["transport"] == "http" {
			select {
			case addr <- rec["addr"].(string):
			default: // a second one is not waited for; the reading goes on
			}
		}
	}
}

// Logs is everything the daemon printed so far.
func (d *daemon) Logs() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.String()
}

// URL is the daemon's HTTP address with path.
func (d *daemon) URL(path string) string { return "http://" + d.Addr + path }

// Stop sends SIGTERM and waits for the exit status.
func (d *daemon) Stop() error {
	d.t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		return err
	case <-time.After(40 * time.Second):
		d.cmd.Process.Kill()
		d.t.Fatalf("daemon did not exit after SIGTERM\n%s", d.Logs())
		return nil
	}
}

// Health fetches /health.
func (d *daemon) Health() map[string]any {
	d.t.Helper()
	resp, err := http.Get(d.URL("/health"))
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var h map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		d.t.Fatal(err)
	}
	return h
}

// post sends body to path and decodes the JSON answer.
func post(t testing.TB, url, contentType string, body []byte) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// logLines returns the parsed log records whose msg contains substr.
func logLines(logs, substr string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(logs, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil {
			if m, _ := rec["msg"].(string); strings.Contains(m, substr) {
				out = append(out, rec)
			}
		}
	}
	return out
}

// combinedOutput is cmd.CombinedOutput for a child that dies with the run
// (reap.Exec: its own process group, a parent-death signal).
func combinedOutput(t testing.TB, cmd *exec.Cmd) ([]byte, error) {
	t.Helper()
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := reap.Exec(t, cmd)
	return b.Bytes(), err
}

// output is cmd.Output for a child that dies with the run; its stderr
// goes to the test's log.
func output(t testing.TB, cmd *exec.Cmd) ([]byte, error) {
	t.Helper()
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := reap.Exec(t, cmd)
	if stderr.Len() > 0 {
		t.Logf("%s stderr:\n%s", filepath.Base(cmd.Path), stderr.String())
	}
	return out.Bytes(), err
}
