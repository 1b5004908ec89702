package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildCollector builds the OpenTelemetry Collector of testdata/otelcol
// (the collector's own otlpreceiver, otlphttpexporter and debugexporter,
// from the Go module proxy) once per source version, into the user cache
// dir, and returns its path; OCT_OTELCOL_BIN names one built already
// (.ci/run builds it before the tests, outside their timeout). Outside CI
// a machine that cannot build it skips; in CI (CI=true, or
// OCT_OTELCOL_BIN set) that fails the test.
func buildCollector(t *testing.T) string {
	t.Helper()
	buildCollectorOnce.Do(func() {
		if bin := os.Getenv("OCT_OTELCOL_BIN"); bin != "" {
			collectorPath = bin
			_, collectorErr = os.Stat(bin)
			return
		}
		h := sha256.New()
		for _, f := range []string{"main.go", "go.mod", "go.sum"} {
			b, err := os.ReadFile(filepath.Join("testdata", "otelcol", f))
			if err != nil {
				collectorErr = err
				return
			}
			h.Write(b)
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		collectorPath = filepath.Join(cache, "openclaw-trace-test", "otelcol-"+hex.EncodeToString(h.Sum(nil))[:16])
		if _, err := os.Stat(collectorPath); err == nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", collectorPath+".tmp", ".")
		cmd.Dir = filepath.Join("testdata", "otelcol")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
		if out, err := cmd.CombinedOutput(); err != nil {
			collectorErr = fmt.Errorf("build collector: %v\n%s", err, out)
			return
		}
		collectorErr = os.Rename(collectorPath+".tmp", collectorPath)
	})
	if collectorErr != nil {
		if os.Getenv("CI") == "true" || os.Getenv("OCT_OTELCOL_BIN") != "" {
			t.Fatal(collectorErr)
		}
		t.Skip(collectorErr)
	}
	return collectorPath
}

var (
	buildCollectorOnce sync.Once
	collectorPath      string
	collectorErr       error
)

// collectorConfig receives OTLP/HTTP on port and forwards every signal to
// downstream with the otlphttp exporter, synchronously (no sending queue),
// so the collector answers the sidecar only once downstream has the data.
const collectorConfig = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  otlp_http:
    endpoint: %s
    compression: gzip
    sending_queue:
      enabled: false
    retry_on_failure:
      enabled: false
  debug:
    verbosity: basic
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp_http, debug]
    logs:
      receivers: [otlp]
      exporters: [otlp_http, debug]
    metrics:
      receivers: [otlp]
      exporters: [otlp_http, debug]
`

// startCollector runs the collector and returns its OTLP/HTTP base URL
// once it accepts connections.
func startCollector(t *testing.T, downstream string) string {
	t.Helper()
	bin := buildCollector(t)
	port := freePort(t)
	cfg := filepath.Join(t.TempDir(), "otelcol.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, collectorConfig, port, downstream), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", "file:"+cfg)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &lockedBuilder{b: &out}, &lockedBuilder{b: &out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("collector output:\n%s", out.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		select {
		case <-exited:
			t.Fatalf("collector exited: %v\n%s", exitErr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector did not listen on %s\n%s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type lockedBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
