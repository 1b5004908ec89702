package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
)

func gatewayLine(i int) string {
	// A current time: older rows would be deleted by retention at start.
	ts := time.Now().Format("2006-01-02T15:04:05.000-07:00")
	return fmt.Sprintf(`{"0":"{\"subsystem\":\"gateway/channels/telegram\"}","1":"telegram sendMessage ok chat=569065324 message=%d","_meta":{"logLevelId":3,"logLevelName":"INFO"},"time":"%s"}`+"\n", i, ts)
}

func appendLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := from; i < to; i++ {
		f.WriteString(gatewayLine(i))
	}
}

func logtailWritten(d *daemon) float64 {
	c := d.Health()["counters"].(map[string]any)
	return c["transports"].(map[string]any)["logtail"].(map[string]any)["written"].(float64)
}

// TestEndToEndLogtail: lines written before start are read, appended
// lines arrive within about a second, and a restart resumes from the saved
// position with no line lost or stored twice.
func TestEndToEndLogtail(t *testing.T) {
	dir := t.TempDir()
	logDir := filepath.Join(dir, "openclaw")
	os.Mkdir(logDir, 0o755)
	logFile := filepath.Join(logDir, "openclaw-2026-03-06.log")
	appendLines(t, logFile, 0, 5) // before the sidecar starts
	env := []string{"OCT_LOG_PATH=" + filepath.Join(logDir, "openclaw-*.log"), "OCT_BATCH_WINDOW=100ms"}

	d := startDaemon(t, dir, env...)
	poll.Until(t, "pre-existing lines", 10*time.Second, func() bool { return logtailWritten(d) == 5 })
	appendLines(t, logFile, 5, 10)
	start := time.Now()
	poll.Until(t, "appended lines", 10*time.Second, func() bool { return logtailWritten(d) == 10 })
	t.Logf("appended lines stored after %v", time.Since(start))
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}

	appendLines(t, logFile, 10, 15) // while the sidecar is down
	d2 := startDaemon(t, dir, env...)
	poll.Until(t, "lines written while down", 10*time.Second, func() bool { return logtailWritten(d2) == 5 })
	if err := d2.Stop(); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, d2.DBPath)
	var n, distinct int
	db.QueryRow(`SELECT count(*), count(DISTINCT message) FROM log_events WHERE kind = 'channel_out' AND channel = 'telegram'`).Scan(&n, &distinct)
	if n != 15 || distinct != 15 {
		t.Errorf("log_events: %d rows, %d distinct; want 15 and 15", n, distinct)
	}
}
