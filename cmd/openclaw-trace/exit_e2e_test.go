package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// runBinary runs the real binary with exactly env and returns its exit
// status, stdout and stderr.
func runBinary(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := reap.Exec(t, cmd) // the whole group killed on the timeout
	if ctx.Err() != nil {
		t.Fatalf("%v did not exit within 30 s\n%s%s", args, stdout.String(), stderr.String())
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// checkOnePlainLine: stderr is exactly one line, "openclaw-trace: …" with
// every want in it, and stdout stays JSON lines.
func checkOnePlainLine(t *testing.T, stdout, stderr string, want ...string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || !strings.HasPrefix(stderr, "openclaw-trace: ") {
		t.Errorf("stderr is not one line starting with \"openclaw-trace: \":\n%s", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not say %q", stderr, w)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line != "" && !json.Valid([]byte(line)) {
			t.Errorf("stdout line is not JSON: %q", line)
		}
	}
}

// TestExitStatusAndOneLine: every failure to start is one plain line on
// stderr and the status README documents: 2 for a bad command line or
// configuration, 1 for a start that fails at run time.
func TestExitStatusAndOneLine(t *testing.T) {
	dir := t.TempDir()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	notSocket := filepath.Join(dir, "not-a-socket")
	if err := os.WriteFile(notSocket, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "OCT_DB_PATH=" + filepath.Join(dir, "t.db"), "OCT_PORT=0",
		"OCT_SOCKET_PATH=", "OCT_UDP_ADDR=", "OCT_METRICS_INTERVAL=0"}
	missingDir := filepath.Join(dir, "no", "such")
	cases := []struct {
		name string
		args []string
		env  []string
		code int
		want []string
	}{
		{"unknown flag", []string{"--bogus"}, nil, 2, []string{"-bogus", "--help"}},
		{"unexpected argument", []string{"serve"}, nil, 2, []string{`"serve"`, "OCT_*"}},
		{"bad variable", nil, []string{"OCT_PORT=abc"}, 2, []string{"invalid configuration", "OCT_PORT", `"abc"`}},
		{"database directory missing", nil, []string{"OCT_DB_PATH=" + filepath.Join(missingDir, "t.db")}, 1,
			[]string{"cannot start", missingDir, "OCT_DB_PATH"}},
		{"port in use", nil, []string{"OCT_PORT=" + takenPort}, 1, []string{"cannot start", takenPort, "OCT_PORT"}},
		{"socket path is a file", nil, []string{"OCT_SOCKET_PATH=" + notSocket}, 1, []string{"cannot start", notSocket, "OCT_SOCKET_PATH"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runBinary(t, append(append([]string{}, base...), tc.env...), tc.args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			checkOnePlainLine(t, stdout, stderr, tc.want...)
		})
	}
}

// TestLockSecondDaemonOnSameDatabase: a second daemon on the same
// OCT_DB_PATH (other ports, other socket) refuses to start, exit 1, with
// one line naming the first daemon's pid, before opening anything; the
// first keeps working, and once it has stopped the database opens again.
func TestLockSecondDaemonOnSameDatabase(t *testing.T) {
	d := startDaemon(t, "")
	sock := filepath.Join(d.Dir, "second.sock")
	code, stdout, stderr := runBinary(t, []string{"PATH=" + os.Getenv("PATH"), "OCT_DB_PATH=" + d.DBPath, "OCT_PORT=0",
		"OCT_SOCKET_PATH=" + sock, "OCT_UDP_ADDR=", "OCT_METRICS_INTERVAL=0"})
	if code != 1 {
		t.Errorf("second daemon: exit status %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	checkOnePlainLine(t, stdout, stderr, "cannot start", d.DBPath, "pid "+strconv.Itoa(d.cmd.Process.Pid), "OCT_DB_PATH")
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the refused daemon opened its socket before the database: %v", err)
	}
	if strings.Contains(stdout, `"msg":"listening"`) {
		t.Errorf("the refused daemon listened:\n%s", stdout)
	}

	postTraces(t, d, 3)
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	var n int
	openDB(t, d.DBPath).QueryRow("SELECT count(*) FROM llm_traces").Scan(&n)
	if n != 3 {
		t.Errorf("the first daemon stored %d of 3 traces", n)
	}
}
