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

	"github.com/openclaw/openclaw-trace/testkit/poll"
	"github.com/openclaw/openclaw-trace/testkit/reap"
)

// needCollector finds the OpenTelemetry Collector of testdata/otelcol (the
// collector's own otlpreceiver, otlphttpexporter and debugexporter),
// which scripts/integration.sh builds from the Go module proxy into the
// kits dir as otelcol-<hash of its sources>, so a changed testdata/otelcol
// is never tested with an old build. OCT_OTELCOL_BIN names one built
// elsewhere. Building it here would take minutes (~10 on 2 loaded cores):
// go test's package timeout would kill the whole package.
func needCollector(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("OCT_OTELCOL_BIN"); bin != "" {
		if !exists(bin) {
			noKit(t, "the OpenTelemetry Collector", "OCT_OTELCOL_BIN=%s does not exist", bin)
		}
		return bin
	}
	h := sha256.New()
	for _, f := range []string{"main.go", "go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join("testdata", "otelcol", f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	bin := filepath.Join(kitsDir(), "otelcol-"+hex.EncodeToString(h.Sum(nil))[:16])
	if !exists(bin) {
		noKit(t, "the OpenTelemetry Collector built from testdata/otelcol", "no %s", bin)
	}
	return bin
}

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
	bin := needCollector(t)
	port := freePort(t)
	cfg := filepath.Join(t.TempDir(), "otelcol.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, collectorConfig, port, downstream), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", "file:"+cfg)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &lockedBuilder{b: &out}, &lockedBuilder{b: &out}
	if err := reap.Start(t, cmd); err != nil { // its own process group, killed with the run
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
	poll.Until(t, "the collector to listen on "+addr, 30*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("collector exited: %v\n%s", exitErr, out.String())
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "http://" + addr
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
