package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// quickStart returns the shell blocks of README.md's "Quick start", each
// as its commands (a line ending in \ is joined with the next).
func quickStart(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Quick start\n")
	if !ok {
		t.Fatal("README.md has no Quick start section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var blocks [][]string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(sec, -1) {
		var cmds []string
		for _, line := range strings.Split(strings.ReplaceAll(m[1], "\\\n", ""), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				cmds = append(cmds, line)
			}
		}
		blocks = append(blocks, cmds)
	}
	if len(blocks) != 3 {
		t.Fatalf("Quick start has %d sh blocks, want 3 (build and run, send and report, plugin)", len(blocks))
	}
	return blocks
}

// TestReadmeQuickStart runs the README's quick start as written, in an
// empty directory: the build, the daemon, the curl of one call, the
// report, /ui and /health, and Ctrl-C; the only change is the port (the
// daemon's own OCT_PORT, picked free, where the text says 9090). The
// plugin lines are checked against the plugin's manifest and the daemon
// line: the socket path and port they set are the quick start's.
func TestReadmeQuickStart(t *testing.T) {
	curl := needProgram(t, "curl", "the README's quick start uses it; Debian: apt-get install curl", "curl")
	blocks := quickStart(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := append(os.Environ(), "OCT_PORT=0", "OCT_UDP_ADDR=127.0.0.1:0", "OCT_METRICS_INTERVAL=0", "OCT_BATCH_WINDOW=50ms",
		"GOFLAGS=-buildvcs=false")
	run := func(wd, line string) string {
		t.Helper()
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir, cmd.Env = wd, env
		out, err := combinedOutput(t, cmd)
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		return string(out)
	}

	// Block 1: the build (into the empty directory) and the daemon.
	build, daemonLine := blocks[0][0], blocks[0][1]
	if build != "go build -o openclaw-trace ./cmd/openclaw-trace" {
		t.Fatalf("build line %q", build)
	}
	run(repo, strings.Replace(build, "-o openclaw-trace", "-o "+filepath.Join(dir, "openclaw-trace"), 1))
	d := exec.Command("sh", "-c", daemonLine)
	d.Dir, d.Env = dir, env
	logs, err := d.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.Stderr = d.Stdout
	if err := reap.Start(t, d); err != nil { // its own process group, killed with the run
		t.Fatal(err)
	}
	addr, done := make(chan string, 1), make(chan string, 1)
	go func() { // read to EOF before Wait
		var all strings.Builder
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "listening" && rec["transport"] == "http" {
				addr <- rec["addr"].(string)
			}
		}
		io.Copy(io.Discard, logs)
		done <- all.String()
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			syscall.Kill(-d.Process.Pid, syscall.SIGKILL)
			<-done
			d.Wait()
		}
	})
	var http string
	select {
	case http = <-addr:
	case <-time.After(30 * time.Second):
		syscall.Kill(-d.Process.Pid, syscall.SIGKILL)
		t.Fatalf("the quick start's daemon did not listen:\n%s", <-done)
	}
	local := func(line string) string { return strings.ReplaceAll(line, "127.0.0.1:9090", http) }

	// Block 2: one call, then the report.
	if out := run(dir, local(blocks[1][0])); !strings.Contains(out, `"accepted":1`) {
		t.Fatalf("curl: %s", out)
	}
	// report asks the daemon at OCT_BIND:OCT_PORT, 9090 as written.
	_, port, _ := strings.Cut(http, ":")
	env = append(env, "OCT_PORT="+port)
	var report string
	poll.Until(t, "the report to show the call", 30*time.Second, func() bool {
		report = run(dir, blocks[1][1])
		return strings.Contains(report, "calls 1 ")
	})
	for _, want := range []string{"claude-sonnet-4", "$0.0081", "BY AGENT", "main", "serves this database"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	// The two URLs the text gives.
	for _, url := range []string{"http://127.0.0.1:9090/ui", "http://127.0.0.1:9090/health"} {
		if out := run(dir, local(fmt.Sprintf("%s -sf -o /dev/null -w '%%{http_code}' %s", curl, url))); out != "200" {
			t.Errorf("%s: HTTP %s", url, out)
		}
	}

	// Ctrl-C (SIGINT to the terminal's process group) stops it cleanly:
	// the daemon logs its last line; the shell around it dies of the
	// signal, as a shell does.
	syscall.Kill(-d.Process.Pid, syscall.SIGINT)
	out := <-done
	err = d.Wait()
	stopped = true
	if !strings.Contains(out, `"msg":"stopped"`) || strings.Contains(out, `"level":"ERROR"`) {
		t.Errorf("after Ctrl-C (%v):\n%s", err, out)
	}

	// Block 3: the plugin's config names the quick start's socket and port,
	// with keys its manifest has.
	var manifest struct {
		ConfigSchema struct {
			Properties map[string]any `json:"properties"`
		} `json:"configSchema"`
	}
	b, err := os.ReadFile("../../clients/openclaw-plugin/openclaw.plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	socket := regexp.MustCompile(`OCT_SOCKET_PATH=(\S+)`).FindStringSubmatch(daemonLine)
	if socket == nil {
		t.Fatalf("daemon line sets no OCT_SOCKET_PATH: %q", daemonLine)
	}
	set := map[string]string{}
	for _, line := range blocks[2] {
		if f := strings.Fields(line); len(f) == 5 && f[1] == "config" && f[2] == "set" {
			key := strings.TrimPrefix(f[3], "plugins.entries.openclaw-trace.config.")
			if manifest.ConfigSchema.Properties[key] == nil {
				t.Errorf("%q: the plugin has no option %q", line, key)
			}
			set[key] = strings.Trim(f[4], `"`)
		}
	}
	if want := `$PWD/` + socket[1]; set["socketPath"] != want {
		t.Errorf("plugin socketPath %q, want the daemon's %q", set["socketPath"], want)
	}
	if set["httpPort"] != "9090" {
		t.Errorf("plugin httpPort %q, want 9090", set["httpPort"])
	}
	if !strings.Contains(strings.Join(blocks[2], "\n"), `openclaw plugins install -l "$PWD/clients/openclaw-plugin"`) {
		t.Errorf("plugin install line: %q", blocks[2])
	}
}
