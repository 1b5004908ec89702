package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// get fetches url with the Host header set to host ("" keeps the URL's)
// and the extra headers, and returns status, headers and body.
func get(t *testing.T, url, host string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// runExit runs the binary with env until it exits, at most 10 s, and
// returns its status (-1 when it was still running) and output.
func runExit(t *testing.T, env ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "OCT_DB_PATH=" + filepath.Join(t.TempDir(), "t.db"),
		"OCT_PORT=0", "OCT_SOCKET_PATH=", "OCT_UDP_ADDR="}, env...)
	out, err := combinedOutput(t, cmd) // the whole group killed on the timeout
	if ctx.Err() != nil {
		return -1, string(out)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// The doors of the real daemon: a foreign Host is refused on every route,
// /ui cannot be framed, a non-loopback bind needs OCT_TOKEN and says so.
func TestDaemonDoors(t *testing.T) {
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	d := startDaemon(t, "")
	for _, path := range []string{"/v1/summary", "/health", "/ui", "/metrics"} {
		if code, _, body := get(t, d.URL(path), "evil.example"); code != http.StatusForbidden {
			t.Errorf("GET %s with Host evil.example: %d %s, want 403", path, code, body)
		}
		if code, _, _ := get(t, d.URL(path), "localhost"); code != http.StatusOK {
			t.Errorf("GET %s with Host localhost: %d, want 200", path, code)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, d.URL("/v1/traces"), strings.NewReader(`{"provider":"p","model":"m"}`))
	req.Host = "evil.example"
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with Host evil.example: %d, want 403", resp.StatusCode)
	}
	_, h, _ := get(t, d.URL("/ui"), "")
	if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("/ui may be framed: X-Frame-Options %q, CSP %q", h.Get("X-Frame-Options"), h.Get("Content-Security-Policy"))
	}

	code, out := runExit(t, "OCT_BIND=0.0.0.0")
	if code != 2 || !strings.Contains(out, "OCT_TOKEN") || strings.Count(out, "\n") != 1 {
		t.Errorf("OCT_BIND=0.0.0.0 without a token: exit %d %q, want 2 and one line naming OCT_TOKEN", code, out)
	}
	open := startDaemon(t, "", "OCT_BIND=0.0.0.0", "OCT_ALLOW_UNAUTHENTICATED=true")
	if len(logLines(open.Logs(), "WITHOUT authentication")) != 1 {
		t.Errorf("no warning for an unauthenticated non-loopback bind:\n%s", open.Logs())
	}
	guarded := startDaemon(t, "", "OCT_BIND=0.0.0.0", "OCT_TOKEN=t0ken-for-the-test")
	if len(logLines(guarded.Logs(), "beyond loopback")) != 1 || strings.Contains(guarded.Logs(), "t0ken-for-the-test") {
		t.Errorf("want one warning line and no token in the logs:\n%s", guarded.Logs())
	}
	_, port, _ := net.SplitHostPort(guarded.Addr)
	url := "http://127.0.0.1:" + port
	if code, _, _ := get(t, url+"/v1/summary", ""); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", code)
	}
	if code, _, _ := get(t, url+"/v1/summary", "", "Authorization", "Bearer t0ken-for-the-test"); code != http.StatusOK {
		t.Errorf("with the token: %d, want 200", code)
	}
}

// A configuration value that may hold a secret is never printed: the
// exit-2 line of a bad OTEL_EXPORTER_OTLP_HEADERS printed it whole.
func TestDaemonBadHeadersNotPrinted(t *testing.T) {
	code, out := runExit(t, "OTEL_EXPORTER_OTLP_HEADERS=Authorization=Basic%20SECRET-XYZ,bad")
	if code != 2 || strings.Contains(out, "SECRET-XYZ") || !strings.Contains(out, "OTEL_EXPORTER_OTLP_HEADERS") {
		t.Errorf("exit %d %q: want 2, naming the variable, without its value", code, out)
	}
}

// metric reads one sample of /metrics.
func metric(t *testing.T, d *daemon, sample string) string {
	t.Helper()
	_, _, body := get(t, d.URL("/metrics"), "")
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			return v
		}
	}
	return ""
}

// Numbers stay sane end to end: ts in seconds and int64 max are refused
// naming the field; client-reported drops saturate; an unknown field is
// named in the 202 and counted by name.
func TestDaemonNumbers(t *testing.T) {
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	d := startDaemon(t, "", "OCT_UDP_ADDR=127.0.0.1:0")
	for _, body := range []string{
		`{"provider":"p","model":"m","ts":1764944000}`,
		fmt.Sprintf(`{"provider":"p","model":"m","ts":%d}`, int64(math.MaxInt64)),
	} {
		if code, out := post(t, d.URL("/v1/traces"), "application/json", []byte(body)); code != http.StatusBadRequest || out["field"] != "ts" {
			t.Errorf("%s: %d %v, want 400 naming ts", body, code, out)
		}
	}
	code, out := post(t, d.URL("/v1/traces"), "application/json", []byte(`{"provider":"p","model":"m","promt_tokens":10}`))
	if code != http.StatusAccepted || fmt.Sprint(out["unknown_fields"]) != "[promt_tokens]" {
		t.Errorf("misspelt field: %d %v, want 202 naming promt_tokens", code, out)
	}
	if got := metric(t, d, `openclaw_trace_unknown_fields_total{field="promt_tokens"}`); got != "1" {
		t.Errorf("unknown_fields_total{promt_tokens} = %q, want 1", got)
	}

	udp := logLines(d.Logs(), "udp socket listening")
	if len(udp) != 1 {
		t.Fatalf("no udp listening line:\n%s", d.Logs())
	}
	conn, err := net.Dial("udp", udp[0]["addr"].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for range 2 {
		fmt.Fprintf(conn, `{"type":"client_stats","client":"node","dropped":%d}`, int64(math.MaxInt64-1))
	}
	want := fmt.Sprint(float64(math.MaxInt64))
	poll.Until(t, "client-reported drops at the maximum", 10*time.Second, func() bool {
		return metric(t, d, "openclaw_trace_client_reported_drops_total") == want
	})
}

// mountTmpfs mounts a tmpfs of size on a new temp dir for the test; it
// skips, saying why, when it cannot mount, unless CI=true.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a %s tmpfs: %v (CI=true: this test must run; run it as root)", size, err)
		}
		t.Skipf("cannot mount a %s tmpfs (%v): needs root or CAP_SYS_ADMIN; it must run under CI=true", size, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// The repro: an 8 MiB volume for OCT_DB_PATH and ~12 MB of traces
// posted. The daemon evicts the oldest rows (counted), tells disk_full in
// /health and /metrics while nothing can be written, recovers by itself,
// and after a restart on a volume another file filled to the last byte it
// frees space and writes again. Before, the volume stayed full for good:
// every write and every cleanup pass failed, after a restart too.
func TestDaemonDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "8m")
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	d := startDaemon(t, dir)
	pad := strings.Repeat("x", 4000)
	batch := make([]map[string]any, 100)
	for i := range batch {
		batch[i] = map[string]any{"provider": "openai", "model": "gpt-4o", "input_text": pad}
	}
	body, _ := json.Marshal(batch)
	statuses := map[int]int{}
	for range 30 { // 12 MB
		code, _ := post(t, d.URL("/v1/traces"), "application/json", body)
		statuses[code]++
	}
	counters := func() map[string]any { return d.Health()["counters"].(map[string]any) }
	poll.Until(t, "every accepted event written or dropped", 20*time.Second, func() bool {
		c := counters()
		return c["queue_depth"] == 0.0 && c["received"] == c["written"].(float64)+c["dropped"].(float64)-c["evicted"].(float64)
	})
	c := counters()
	// No sink is configured, so the oldest rows go as relieved, not evicted.
	if c["cleanup"].(map[string]any)["relieved"] == 0.0 {
		t.Errorf("nothing relieved: %v", c["cleanup"])
	}
	poll.Until(t, "disk_full clear", 20*time.Second, func() bool { return metric(t, d, "openclaw_trace_disk_full") == "0" })
	written := c["written"].(float64)
	if code, out := post(t, d.URL("/v1/traces"), "application/json", []byte(`[{"provider":"p","model":"m"},{"provider":"p","model":"m"}]`)); code != http.StatusAccepted {
		t.Fatalf("after the load: %d %v", code, out)
	}
	poll.Until(t, "the new events written", 10*time.Second, func() bool { return counters()["written"].(float64) >= written+2 })
	t.Logf("posted 30 x 100 traces of 4 KB: %v; written %v, dropped %v, relieved %v",
		statuses, c["written"], c["dropped_by_reason"], c["cleanup"].(map[string]any)["relieved"])
	if err := d.Stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, d.Logs())
	}

	fillVolume(t, dir)
	d2 := startDaemon(t, dir)
	poll.Until(t, "room again after a restart on a full volume", 20*time.Second, func() bool {
		return metric(t, d2, "openclaw_trace_disk_full") == "0" && metric(t, d2, "openclaw_trace_disk_reserve_bytes") != "0"
	})
	if code, out := post(t, d2.URL("/v1/traces"), "application/json", []byte(`{"provider":"p","model":"m"}`)); code != http.StatusAccepted {
		t.Fatalf("after the restart: %d %v", code, out)
	}
	poll.Until(t, "written after the restart", 10*time.Second, func() bool { return d2.Health()["counters"].(map[string]any)["written"] == 1.0 })
	if len(logLines(d2.Logs(), "reserve released")) == 0 {
		t.Errorf("the restart on a full volume did not use the reserve:\n%s", d2.Logs())
	}
	t.Logf("restart on a full volume:\n%s", d2.Logs())
}

// fillVolume fills what is free of the volume at dir with a file, as
// another process would.
func fillVolume(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := bytes.Repeat([]byte{1}, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			return
		}
	}
}
