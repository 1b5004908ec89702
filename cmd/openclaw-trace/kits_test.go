package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The end-to-end tests that need more than Go (the real OpenClaw on Node
// 24, an OpenTelemetry Collector built from source, Chromium, a Prometheus
// server, node and python3 for the clients' own suites) find their kits
// here and never install them: kitsCommand does, then runs the tests with
// every kit required. A plain `go test ./...` downloads nothing but Go
// modules.
const kitsCommand = "scripts/integration.sh"

// kitsDir is where kitsCommand installs the kits it builds or downloads:
// $OCT_KITS, else openclaw-trace-e2e in the user's cache dir.
func kitsDir() string {
	if d := os.Getenv("OCT_KITS"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "openclaw-trace-e2e") // no HOME: never there
	}
	return filepath.Join(base, "openclaw-trace-e2e")
}

// noKit skips t for want of a kit, naming the command that installs it.
// Under CI=true it fails instead: there every kit must be present.
func noKit(t *testing.T, kit, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf("needs %s: %s; %s installs it and runs these tests", kit, fmt.Sprintf(format, args...), kitsCommand)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing kit fails the test)")
	}
	t.Skip(msg)
}

// needProgram is the path of the first of names on PATH; without one the
// test skips or, under CI=true, fails (noKit).
func needProgram(t *testing.T, kit, install string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	noKit(t, kit, "no %s on PATH (%s)", names[0], install)
	return ""
}
