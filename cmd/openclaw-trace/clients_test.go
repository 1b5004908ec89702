package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// The client snippets in clients/ are tested against the real binary by
// their own test runners; these tests run them with OCT_TEST_BIN set so that
// `go test ./...` covers them. They skip only when the runtime is missing
// (and fail then under CI=true: noKit).

func TestNodeClient(t *testing.T) {
	// Files, not directories: Node 22 and later take --test arguments as
	// files or globs ("Cannot find module .../test" for a directory).
	files, _ := filepath.Glob("../../clients/node/test/*.test.js")
	plugin, _ := filepath.Glob("../../clients/openclaw-plugin/test/*.test.js")
	if len(files) == 0 || len(plugin) == 0 {
		t.Fatalf("no test files: %v %v", files, plugin)
	}
	runClientTests(t, "node", append([]string{"--test"}, append(files, plugin...)...)...)
}

func TestPythonClient(t *testing.T) {
	runClientTests(t, "python3", "-m", "unittest", "discover", "-s", "../../clients/python", "-v")
}

func runClientTests(t *testing.T, name string, args ...string) {
	install := map[string]string{"node": "Node.js 20 or later", "python3": "Debian: apt-get install python3"}[name]
	bin := needProgram(t, name, install, name)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(clientTestEnv(os.Environ()), "OCT_TEST_BIN="+binPath)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := reap.Start(t, cmd); err != nil { // the daemons it starts are in its process group
		t.Fatal(err)
	}
	logLinesTo(t, out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
}

// clientTestEnv drops the daemon's address variables and its token: the
// clients read them, and the suites set them where a test needs them, not
// the shell that runs go test.
func clientTestEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "OCT_SOCKET_PATH", "OCT_UDP_ADDR", "OCT_PORT", "OCT_BIND", "OCT_TOKEN":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// logLinesTo streams r into t.Log line by line, so a hang shows how far the
// suite got.
func logLinesTo(t *testing.T, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		t.Log(sc.Text())
	}
}
