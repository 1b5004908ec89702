package listener

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// handOffs runs a test with decoding on the reader and on a worker.
var handOffs = []struct {
	name string
	n    int
}{{"inline", 0}, {"handoff", DefaultHandOff}}

func openUnixgram(t *testing.T, path string, q *codec.Queue, handOff int) *Unixgram {
	t.Helper()
	u := NewUnixgram(path, q, codec.NewParser())
	u.HandOff = handOff
	if err := u.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	return u
}

func dialUnixgram(t *testing.T, path string) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sendNow writes b without waiting for room, as a fire-and-forget client
// does: EAGAIN is returned, not waited out by the netpoller.
func sendNow(c syscall.Conn, b []byte) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	err = raw.Write(func(fd uintptr) bool {
		_, werr = syscall.Write(int(fd), b)
		return true
	})
	if err != nil {
		return err
	}
	return werr
}

func TestUnixgramReceives(t *testing.T) {
	for _, h := range handOffs {
		t.Run(h.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "oct.sock")
			q := codec.NewQueue(8)
			u := openUnixgram(t, path, q, h.n)
			c := dialUnixgram(t, path)
			for _, b := range [][]byte{mustJSON(t, trace("json")), mustMsgpack(t, []any{trace("mp1"), trace("mp2")})} {
				if _, err := c.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			poll.Until(t, "3 events", 5*time.Second, func() bool { return q.Len() == 3 })
			for _, want := range []string{"json", "mp1", "mp2"} {
				ev := <-q.C()
				if ev.Trace.Model != want || ev.Transport != codec.Unixgram {
					t.Errorf("got %s over %s, want %s over unixgram", ev.Trace.Model, ev.Transport, want)
				}
			}
			if got := u.Counters.Units.Load(); got != 2 {
				t.Errorf("units = %d, want 2", got)
			}
		})
	}
}

func TestUnixgramReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oct.sock")
	// A crashed daemon leaves its datagram socket file behind.
	old, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket file not left behind: %v", err)
	}
	q := codec.NewQueue(1)
	openUnixgram(t, path, q, 0)
	if _, err := dialUnixgram(t, path).Write(mustJSON(t, trace("a"))); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "an event", 5*time.Second, func() bool { return q.Len() == 1 })
}

func TestUnixgramRefusesRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oct.sock")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := NewUnixgram(path, codec.NewQueue(1), codec.NewParser())
	err := u.Open()
	if err == nil {
		u.Close()
		t.Fatal("Open succeeded over a regular file")
	}
	if !strings.Contains(err.Error(), path) || !errors.Is(err, ErrNotSocket) {
		t.Errorf("error %q does not name the path and the problem", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Errorf("file changed to %q", b)
	}
}

func TestUnixgramRefusesLiveSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oct.sock")
	q := codec.NewQueue(1)
	openUnixgram(t, path, q, 0)
	second := NewUnixgram(path, q, codec.NewParser())
	err := second.Open()
	if err == nil {
		second.Close()
		t.Fatal("second Open succeeded on a live socket")
	}
	if !strings.Contains(err.Error(), path) || !errors.Is(err, ErrSocketInUse) {
		t.Errorf("error %q does not say the socket is in use", err)
	}
	if _, err := dialUnixgram(t, path).Write(mustJSON(t, trace("a"))); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the first daemon to still receive", 5*time.Second, func() bool { return q.Len() == 1 })
}

func TestUnixgramModeAndRemoval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oct.sock")
	u := NewUnixgram(path, codec.NewQueue(1), codec.NewParser())
	u.Mode = 0o600
	if err := u.Open(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		u.Close()
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want socket 0600", fi.Mode())
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file still there after Close: %v", err)
	}
}

func TestUnixgramDefaultMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oct.sock")
	openUnixgram(t, path, codec.NewQueue(1), 0)
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != DefaultSocketMode {
		t.Errorf("mode = %v, want %v", fi.Mode().Perm(), DefaultSocketMode)
	}
}

func TestUnixgramMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "oct.sock")
	u := NewUnixgram(path, codec.NewQueue(1), codec.NewParser())
	err := u.Open()
	if err == nil {
		u.Close()
		t.Fatal("Open succeeded in a missing directory")
	}
	if !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %q does not name the path and wrap ErrNotExist", err)
	}
	// Configuration belongs to cmd: a library error names no variable.
	if strings.Contains(err.Error(), "OCT_") {
		t.Errorf("error %q names a variable", err)
	}
}

func TestUnixgramMaxDgramQlen(t *testing.T) {
	want, err := readIntFile(maxDgramQlenPath)
	if err != nil {
		t.Skipf("no %s: %v", maxDgramQlenPath, err)
	}
	u := openUnixgram(t, filepath.Join(t.TempDir(), "oct.sock"), codec.NewQueue(1), 0)
	if got := u.MaxDgramQlen(); got != want {
		t.Errorf("MaxDgramQlen = %d, want %d", got, want)
	}
}

func TestUnixgramOversize(t *testing.T) {
	for _, h := range handOffs {
		t.Run(h.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "oct.sock")
			q := codec.NewQueue(8)
			u := openUnixgram(t, path, q, h.n)
			c := dialUnixgram(t, path)
			// A unix datagram is charged to the sender's buffer; make room.
			if err := c.SetWriteBuffer(1 << 20); err != nil {
				t.Skipf("cannot raise SO_SNDBUF: %v", err)
			}
			big := trace("big")
			big["input_text"] = strings.Repeat("z", 100<<10)
			if _, err := c.Write(mustJSON(t, big)); err != nil {
				t.Skipf("kernel refuses a 100 KiB datagram: %v", err)
			}
			if _, err := c.Write(mustJSON(t, trace("small"))); err != nil {
				t.Fatal(err)
			}
			poll.Until(t, "both datagrams", 5*time.Second, func() bool { return u.Counters.Units.Load() == 2 })
			if got := u.Counters.Dropped[codec.DropOversize].Load(); got != 1 {
				t.Errorf("oversize = %d, want 1", got)
			}
			if got := u.Counters.Bytes.Load(); got > DatagramBufferSize+1<<10 {
				t.Errorf("bytes = %d, want only what was read", got)
			}
			if ev := <-q.C(); ev.Trace.Model != "small" {
				t.Errorf("queued %q, want small", ev.Trace.Model)
			}
		})
	}
}

// drain takes whatever is queued without waiting.
func drain(q *codec.Queue) int64 {
	var n int64
	for {
		select {
		case <-q.C():
			n++
		default:
			return n
		}
	}
}

// TestUnixgramAccountingUnderOverload sends far more than the queue holds
// with nobody draining, then drains and sends again: every datagram the
// sender got through is received, and received = queued + Σ drops exactly.
func TestUnixgramAccountingUnderOverload(t *testing.T) {
	for _, h := range handOffs {
		t.Run(h.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "oct.sock")
			q := codec.NewQueue(8)
			u := openUnixgram(t, path, q, h.n)
			c := dialUnixgram(t, path)
			b := mustMsgpack(t, trace("overload"))
			var sent, eagain, taken int64
			for round := 0; round < 2; round++ {
				for i := 0; i < 2000; i++ {
					sent++
					if err := sendNow(c, b); errors.Is(err, syscall.EAGAIN) {
						eagain++
					} else if err != nil {
						t.Fatal(err)
					}
				}
				cs := &u.Counters
				poll.Until(t, "the socket to be read", 5*time.Second, func() bool { return cs.Units.Load() == sent-eagain })
				// A datagram is counted read (Units) before it is decoded and
				// offered (Received, then queued or dropped): wait for every
				// one read to be received, and the sums to meet.
				poll.Until(t, fmt.Sprintf("received = sent %d - EAGAIN %d = queued + taken + Σ drops", sent, eagain), 5*time.Second, func() bool {
					r := cs.Received.Load()
					return r == sent-eagain && r == int64(q.Len())+taken+cs.Load().DroppedTotal()
				})
				if cs.Dropped[codec.DropQueueFull].Load() == 0 {
					t.Errorf("no queue_full drops: the test did not overload")
				}
				taken += drain(q)
			}
			t.Logf("sent %d, sender EAGAIN %d, received %d, queue_full %d, taken %d",
				sent, eagain, u.Counters.Received.Load(), u.Counters.Dropped[codec.DropQueueFull].Load(), taken)
		})
	}
}
