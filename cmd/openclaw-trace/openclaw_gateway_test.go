package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startGateway runs `openclaw gateway run` in home until it says it is
// ready; the returned func stops it with SIGTERM (gateway_stop runs) and
// waits for it to exit.
func (k *openclawKit) startGateway(t *testing.T, home string, env []string) func() {
	t.Helper()
	cmd := exec.Command(filepath.Join(k.NodeDir, "bin", "node"), k.Openclaw, "gateway", "run", "--allow-unconfigured")
	cmd.Dir = home
	cmd.Env = k.Env(home, env...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := reap.Start(t, cmd); err != nil { // its own process group, killed with the run
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			<-exited
			t.Errorf("gateway did not exit within 1 min of SIGTERM\n%s", tail([]byte(out.String()), 3000))
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(4 * time.Minute)
	for !strings.Contains(out.String(), "[gateway] ready") {
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("gateway exited at start: %v\n%s", err, tail([]byte(out.String()), 4000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not ready after 4 min\n%s", tail([]byte(out.String()), 4000))
		}
	}
	t.Logf("gateway ready on port %d", k.GatewayPort)
	return stop
}

// gatewayConfig is the gateway block of a home's config: loopback, no
// auth, a free port (remembered: `openclaw agent` finds it in the config).
func (k *openclawKit) gatewayConfig(t *testing.T) map[string]any {
	k.GatewayPort = freePort(t)
	return map[string]any{"mode": "local", "port": k.GatewayPort, "bind": "loopback", "auth": map[string]any{"mode": "none"}}
}
