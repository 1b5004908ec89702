package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
	"github.com/vmihailenco/msgpack/v5"
)

func freeUDPAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// TestEndToEndDatagrams sends JSON and msgpack over the unix socket and
// UDP to the real binary and finds every event in SQLite.
func TestEndToEndDatagrams(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "oct.sock")
	udp := freeUDPAddr(t)
	d := startDaemon(t, dir, "OCT_SOCKET_PATH="+sock, "OCT_UDP_ADDR="+udp)
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o622 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket %v: %v", fi, err)
	}
	uc, err := net.Dial("unixgram", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	pc, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()

	sent := 0
	for _, tr := range []struct {
		name string
		conn net.Conn
	}{{"unixgram", uc}, {"udp", pc}} {
		for _, enc := range []string{"json", "msgpack"} {
			model := tr.name + "-" + enc
			events := []map[string]any{
				{"type": "trace", "provider": "openai", "model": model, "prompt_tokens": 7, "cost_usd": 0.5},
				{"type": "error", "error_type": "llm_error", "message": model, "code": "timeout"},
				{"type": "log", "kind": "channel_in", "channel": "telegram", "message": model},
			}
			var b []byte
			if enc == "json" {
				b, _ = json.Marshal(events)
			} else {
				b, _ = msgpack.Marshal(events)
			}
			if _, err := tr.conn.Write(b); err != nil {
				t.Fatalf("%s: %v", model, err)
			}
			sent += 3
		}
	}
	uc.Write([]byte(`{"type":"client_stats","client":"node","dropped":3}`))
	uc.Write([]byte("not an event"))
	poll.Until(t, "datagram events written", 10*time.Second, func() bool {
		c := d.Health()["counters"].(map[string]any)
		return c["written"] == float64(sent)
	})
	h := d.Health()
	c := h["counters"].(map[string]any)
	if c["client_reported_drops"] != 3.0 || c["kernel_drops"] == nil {
		t.Errorf("client_reported_drops %v, kernel_drops %v", c["client_reported_drops"], c["kernel_drops"])
	}
	unix := c["transports"].(map[string]any)["unixgram"].(map[string]any)
	if unix["received"] != 7.0 || unix["dropped"].(map[string]any)["decode_error"] != 1.0 {
		t.Errorf("unixgram counters: %v", unix)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket file left after exit: %v", err)
	}
	db := openDB(t, d.DBPath)
	for _, model := range []string{"unixgram-json", "unixgram-msgpack", "udp-json", "udp-msgpack"} {
		var n int
		db.QueryRow(`SELECT count(*) FROM llm_traces WHERE model = ? AND prompt_tokens = 7 AND cost_usd = 0.5`, model).Scan(&n)
		var m int
		db.QueryRow(`SELECT count(*) FROM error_events WHERE message = ? AND code = 'timeout'`, model).Scan(&m)
		var l int
		db.QueryRow(`SELECT count(*) FROM log_events WHERE message = ? AND kind = 'channel_in' AND channel = 'telegram'`, model).Scan(&l)
		if n != 1 || m != 1 || l != 1 {
			t.Errorf("%s: %d traces, %d errors, %d log events", model, n, m, l)
		}
	}
}

// TestSocketPathIsARegularFile: the daemon refuses to start, leaves the
// file alone and names the variable to change.
func TestSocketPathIsARegularFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "not-a-socket")
	os.WriteFile(path, []byte("keep me"), 0o644)
	cmd := exec.Command(binPath)
	cmd.Env = []string{"OCT_DB_PATH=" + filepath.Join(dir, "t.db"), "OCT_PORT=0", "OCT_UDP_ADDR=", "OCT_SOCKET_PATH=" + path}
	out, _ := combinedOutput(t, cmd)
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, out)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Error("the file at the socket path was changed")
	}
	if !strings.Contains(string(out), path) || !strings.Contains(string(out), "OCT_SOCKET_PATH") {
		t.Errorf("error does not name the path and the variable:\n%s", out)
	}
}
