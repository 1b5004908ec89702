package listener

import (
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// TestDrainReadsKernelQueue stalls the reader while datagrams pile up in
// the kernel queue, then drains: every queued datagram is handled, and the
// drain ends when the queue is empty, long before its timeout.
func TestDrainReadsKernelQueue(t *testing.T) {
	for _, h := range handOffs {
		t.Run(h.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "oct.sock")
			conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			gate := make(chan struct{})
			stalled := reads{
				wait: func(buf []byte) (int, bool, error) {
					<-gate
					n, _, flags, _, err := conn.ReadMsgUnix(buf, nil)
					return n, flags&syscall.MSG_TRUNC != 0, err
				},
				now: func(buf []byte) (int, bool, error) {
					n, _, truncated, err := recvNow(conn, buf, nil)
					return n, truncated, err
				},
			}
			p := newPackets(64)
			l := startLoop(p, conn, stalled, h.n, slog.New(slog.DiscardHandler))
			// Fewer than the kernel queue holds (max_dgram_qlen+1, at least 11).
			const queued = 8
			c := dialUnixgram(t, path)
			for range queued {
				if err := sendNow(c, mustJSON(t, trace("queued"))); err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				l.drain(time.Minute)
			}()
			poll.Until(t, "drain to start", 5*time.Second, func() bool { return l.drainUntil.Load() != 0 })
			close(gate)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("drain still reading 10 s after the kernel queue was emptied")
			}
			if got := p.Queue.Len(); got != queued {
				t.Errorf("handled %d of the %d datagrams queued at drain", got, queued)
			}
		})
	}
}

// TestCloseReturnsWhenQueueEmpty: with DrainTimeout a minute and nothing
// queued, Close of either transport does not wait the timeout out.
func TestCloseReturnsWhenQueueEmpty(t *testing.T) {
	q := codec.NewQueue(8)
	u := NewUnixgram(filepath.Join(t.TempDir(), "oct.sock"), q, codec.NewParser())
	udp := NewUDP("127.0.0.1:0", q, codec.NewParser())
	u.DrainTimeout, udp.DrainTimeout = time.Minute, time.Minute
	if err := u.Open(); err != nil {
		t.Fatal(err)
	}
	if err := udp.Open(); err != nil {
		u.Close()
		t.Fatal(err)
	}
	if _, err := dialUnixgram(t, u.Path).Write(mustJSON(t, trace("unixgram"))); err != nil {
		t.Fatal(err)
	}
	if _, err := dialUDP(t, udp.LocalAddr()).Write(mustJSON(t, trace("udp"))); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "2 events", 5*time.Second, func() bool { return q.Len() == 2 })
	for _, c := range []struct {
		name  string
		close func() error
	}{{"unixgram", u.Close}, {"udp", udp.Close}} {
		start := time.Now()
		if err := c.close(); err != nil {
			t.Errorf("%s: close: %v", c.name, err)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s: Close took %v with nothing queued", c.name, took)
		}
	}
}

// TestCloseBoundedWhileSending: a sender that never stops cannot hold
// Close past DrainTimeout (plus scheduling slack).
func TestCloseBoundedWhileSending(t *testing.T) {
	q := codec.NewQueue(1 << 16)
	u := NewUDP("127.0.0.1:0", q, codec.NewParser())
	u.DrainTimeout = 200 * time.Millisecond
	if err := u.Open(); err != nil {
		t.Fatal(err)
	}
	c := dialUDP(t, u.LocalAddr())
	b := mustJSON(t, trace("flood"))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				c.Write(b) // refused once the socket is closed; keep going
			}
		}
	})
	poll.Until(t, "the flood to arrive", 5*time.Second, func() bool { return u.Counters.Units.Load() > 100 })
	start := time.Now()
	err := u.Close()
	took := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if took > 5*time.Second {
		t.Errorf("Close took %v with DrainTimeout %v", took, u.DrainTimeout)
	}
	t.Logf("Close took %v under a flood, DrainTimeout %v", took, u.DrainTimeout)
}
