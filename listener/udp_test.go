package listener

import (
	"net"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

func openUDP(t *testing.T, q *codec.Queue, handOff int) *UDP {
	t.Helper()
	u := NewUDP("127.0.0.1:0", q, codec.NewParser())
	u.HandOff = handOff
	if err := u.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	return u
}

func dialUDP(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	ra, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, ra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUDPReceives(t *testing.T) {
	for _, h := range handOffs {
		t.Run(h.name, func(t *testing.T) {
			q := codec.NewQueue(8)
			u := openUDP(t, q, h.n)
			c := dialUDP(t, u.LocalAddr())
			for _, b := range [][]byte{mustJSON(t, trace("json")), mustMsgpack(t, trace("msgpack"))} {
				if _, err := c.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			poll.Until(t, "2 events", 5*time.Second, func() bool { return q.Len() == 2 })
			for _, want := range []string{"json", "msgpack"} {
				ev := <-q.C()
				if ev.Trace.Model != want || ev.Transport != codec.UDP {
					t.Errorf("got %s over %s, want %s over udp", ev.Trace.Model, ev.Transport, want)
				}
			}
			if n := u.KernelDrops(); n != 0 {
				t.Errorf("kernel drops = %d, want 0: two datagrams cannot fill the receive buffer", n)
			}
		})
	}
}

// UDP's largest payload (65,507 bytes over IPv4) fits the read buffer, so
// oversize cannot happen here; the kernel refuses a larger send instead.
func TestUDPLargestDatagramFits(t *testing.T) {
	q := codec.NewQueue(1)
	u := openUDP(t, q, 0)
	c := dialUDP(t, u.LocalAddr())
	if _, err := c.Write(make([]byte, 65507)); err != nil {
		t.Skipf("kernel refuses the largest UDP datagram: %v", err)
	}
	poll.Until(t, "the datagram", 5*time.Second, func() bool { return u.Counters.Units.Load() == 1 })
	if got := u.Counters.Dropped[codec.DropOversize].Load(); got != 0 {
		t.Errorf("oversize = %d, want 0", got)
	}
	if _, err := c.Write(make([]byte, 70000)); err == nil {
		t.Errorf("a 70,000-byte UDP datagram was sent")
	}
}

// TestUDPAccountingUnderOverload: what the kernel delivered is counted
// exactly, and what it dropped shows in KernelDrops.
func TestUDPAccountingUnderOverload(t *testing.T) {
	for _, h := range handOffs {
		t.Run(h.name, func(t *testing.T) {
			q := codec.NewQueue(8)
			u := NewUDP("127.0.0.1:0", q, codec.NewParser())
			u.HandOff = h.n
			u.ReadBuffer = 4096 // tiny, so the kernel drops too
			if err := u.Open(); err != nil {
				t.Fatal(err)
			}
			defer u.Close()
			c := dialUDP(t, u.LocalAddr())
			b := mustMsgpack(t, trace("overload"))
			const sent = 5000
			for i := 0; i < sent; i++ {
				if _, err := c.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			cs := &u.Counters
			poll.Until(t, "units + kernel drops = sent", 5*time.Second, func() bool { return cs.Units.Load()+u.KernelDrops() == sent })
			poll.Until(t, "received = queued + Σ drops", 5*time.Second, func() bool {
				return cs.Received.Load() == int64(q.Len())+cs.Load().DroppedTotal()
			})
			t.Logf("sent %d, kernel drops %d (SO_RXQ_OVFL %d), received %d, queue_full %d",
				sent, u.KernelDrops(), u.ovfl.Load(), cs.Received.Load(), cs.Dropped[codec.DropQueueFull].Load())
		})
	}
}
