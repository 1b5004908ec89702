package listener

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// DatagramBufferSize is the read buffer of both datagram transports: UDP's
// own maximum payload, and the 64 KiB cap set on a unix datagram.
const DatagramBufferSize = 64 << 10

// DefaultHandOff is the capacity of the hand-off between a datagram
// socket's reader and its decoding worker; 0 decodes on the reader.
// Measured with cmd/oct-load (2 cores, 1 KB msgpack over unixgram, 10 s):
// with the default max_dgram_qlen of 10, senders lost 9% at 10k/s with
// the hand-off against 17% decoding inline, and 43% against 54% at 20k/s.
// With 512 the kernel queue itself absorbs stalls and both hold 10k/s.
const DefaultHandOff = 1024

// maxPooledBuffer keeps a rare large datagram's copy out of the pool, so
// the pool holds small buffers only.
const maxPooledBuffer = 16 << 10

// readFunc reads one datagram into buf and says whether the kernel cut it
// (MSG_TRUNC).
type readFunc func(buf []byte) (n int, truncated bool, err error)

// reads are a socket's two ways to read a datagram: wait blocks until one
// comes, the read deadline passes or the socket closes; now returns at
// once, with EAGAIN when the kernel queue is empty.
type reads struct {
	wait, now readFunc
}

// deadliner is the socket whose read deadline wakes the reader to drain.
type deadliner interface{ SetReadDeadline(time.Time) error }

// loop is the reading goroutine of a datagram socket and, when hand-off
// is on, the one worker that decodes what it reads. The reader does as
// little as possible between reads: a unix socket's kernel queue holds
// only max_dgram_qlen+1 datagrams, so every microsecond it spends away
// from recvmsg is a chance for a sender to get EAGAIN.
type loop struct {
	packets    *Packets
	logger     *slog.Logger
	conn       deadliner
	reads      reads
	handoff    chan *[]byte
	pool       sync.Pool
	wg         sync.WaitGroup
	drainUntil atomic.Int64 // unix ns; set by drain, 0 before
}

func startLoop(p *Packets, conn deadliner, r reads, handOff int, logger *slog.Logger) *loop {
	l := &loop{packets: p, logger: logger, conn: conn, reads: r}
	l.pool.New = func() any { b := make([]byte, 0, 2048); return &b }
	if handOff > 0 {
		l.handoff = make(chan *[]byte, handOff)
		l.wg.Add(1)
		go l.work()
	}
	l.wg.Add(1)
	go l.read()
	return l
}

// DefaultDrainTimeout bounds how long Close keeps reading what senders had
// already queued in the kernel, so a datagram that reached the socket
// before shutdown is handled (stored or counted), not discarded with the
// socket. Close returns as soon as the queue is empty; the bound only
// matters while senders keep sending.
const DefaultDrainTimeout = 100 * time.Millisecond

// drain wakes the reader, which then reads without waiting until the
// kernel queue is empty or timeout has passed, and waits for it to stop.
func (l *loop) drain(timeout time.Duration) {
	l.drainUntil.Store(time.Now().Add(timeout).UnixNano())
	// A deadline in the past ends the blocked read at once.
	if err := l.conn.SetReadDeadline(time.Unix(1, 0)); err == nil {
		l.wait()
	}
}

// wait returns once the socket is closed and everything read is handled.
func (l *loop) wait() { l.wg.Wait() }

func (l *loop) read() {
	defer l.wg.Done()
	if l.handoff != nil {
		defer close(l.handoff)
	}
	buf := make([]byte, DatagramBufferSize)
	for {
		n, truncated, err := l.reads.wait(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && l.drainUntil.Load() != 0 {
				l.readQueued(buf)
				return
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.logger.Warn("read datagram", "transport", l.packets.Transport.String(), "err", err)
			continue
		}
		l.handle(buf, n, truncated)
	}
}

// readQueued reads what the kernel still holds, without waiting for more:
// it stops at the first EAGAIN (the queue is empty) or at drainUntil.
func (l *loop) readQueued(buf []byte) {
	// The reads below need a deadline that has not passed; drainUntil
	// bounds them instead.
	if err := l.conn.SetReadDeadline(time.Time{}); err != nil {
		return
	}
	until := l.drainUntil.Load()
	for time.Now().UnixNano() < until {
		n, truncated, err := l.reads.now(buf)
		if err != nil {
			if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, net.ErrClosed) {
				l.logger.Warn("read datagram at close", "transport", l.packets.Transport.String(), "err", err)
			}
			return
		}
		l.handle(buf, n, truncated)
	}
}

func (l *loop) handle(buf []byte, n int, truncated bool) {
	if truncated {
		l.packets.oversize(n)
		return
	}
	l.deliver(buf[:n])
}

// deliver decodes b on the reader, or copies it for the worker: the read
// buffer is reused by the next read, so it is never retained.
func (l *loop) deliver(b []byte) {
	if l.handoff == nil {
		l.packets.HandlePacket(b)
		return
	}
	cp := l.pool.Get().(*[]byte)
	*cp = append((*cp)[:0], b...)
	select {
	case l.handoff <- cp:
	default:
		l.packets.refused(len(b))
		l.put(cp)
	}
}

func (l *loop) work() {
	defer l.wg.Done()
	for cp := range l.handoff {
		l.packets.HandlePacket(*cp)
		l.put(cp)
	}
}

func (l *loop) put(cp *[]byte) {
	if cap(*cp) <= maxPooledBuffer {
		l.pool.Put(cp)
	}
}

// oversize counts a datagram the kernel truncated to fit the read buffer:
// its tail is lost, so it is not decoded.
func (p *Packets) oversize(n int) {
	p.Counters.Units.Add(1)
	p.Counters.Bytes.Add(int64(n))
	p.Counters.Drop(codec.DropOversize, 1)
}

// refused counts a datagram the worker had no room for, as queue_full: the
// same reason as a full ingest queue, since both mean "intake too slow".
func (p *Packets) refused(n int) {
	p.Counters.Units.Add(1)
	p.Counters.Bytes.Add(int64(n))
	p.Counters.Drop(codec.DropQueueFull, 1)
}
