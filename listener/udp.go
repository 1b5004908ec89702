package listener

import (
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// DefaultUDPReadBuffer is the SO_RCVBUF request of the UDP socket: room for
// about 4,000 1 KB datagrams while the reader is descheduled. The kernel
// caps it at net.core.rmem_max.
const DefaultUDPReadBuffer = 4 << 20

// UDP is the UDP datagram intake. Its address decides who can send: the
// caller passes loopback (127.0.0.1:9090) unless told otherwise.
type UDP struct {
	Addr       string
	ReadBuffer int // SO_RCVBUF request; 0 keeps the kernel default
	HandOff    int // reader-to-worker capacity; 0 decodes on the reader
	// DrainTimeout bounds Close's reading of what the kernel still holds.
	DrainTimeout time.Duration
	Logger       *slog.Logger
	Counters     codec.Counters

	packets Packets
	conn    *net.UDPConn
	loop    *loop
	ino     uint64
	local   string
	ovfl    atomic.Uint32 // last SO_RXQ_OVFL value seen
	oob     []byte        // only the reader touches it
}

// NewUDP returns a UDP intake on addr feeding q.
func NewUDP(addr string, q *codec.Queue, p *codec.Parser) *UDP {
	u := &UDP{
		Addr:         addr,
		ReadBuffer:   DefaultUDPReadBuffer,
		HandOff:      DefaultHandOff,
		DrainTimeout: DefaultDrainTimeout,
		Logger:       slog.New(slog.DiscardHandler),
	}
	u.packets = Packets{Transport: codec.UDP, Queue: q, Parser: p, Counters: &u.Counters}
	return u
}

// Open binds the socket and starts reading.
func (u *UDP) Open() error {
	addr, err := net.ResolveUDPAddr("udp", u.Addr)
	if err != nil {
		return fmt.Errorf("resolve udp %s: %w", u.Addr, err)
	}
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		return fmt.Errorf("listen udp %s: %w", u.Addr, err)
	}
	if u.ReadBuffer > 0 {
		if err := conn.SetReadBuffer(u.ReadBuffer); err != nil {
			u.Logger.Warn("set udp receive buffer", "addr", u.Addr, "err", err)
		}
	}
	if err := enableDropCount(conn); err != nil {
		u.Logger.Warn("enable SO_RXQ_OVFL; kernel drops come from /proc/net/udp only", "err", err)
	}
	u.ino, _ = socketInode(conn)
	u.conn, u.local = conn, conn.LocalAddr().String()
	u.oob = make([]byte, syscall.CmsgSpace(4))
	rcv, _ := receiveBuffer(conn)
	u.Logger.Info("udp socket listening", "addr", u.local,
		"receive_buffer_requested", u.ReadBuffer, "receive_buffer", rcv, "hand_off", u.HandOff)
	u.packets.Logger = u.Logger
	u.loop = startLoop(&u.packets, conn, reads{wait: u.read, now: u.readNow}, u.HandOff, u.Logger)
	return nil
}

func (u *UDP) read(buf []byte) (int, bool, error) {
	n, oobn, flags, _, err := u.conn.ReadMsgUDP(buf, u.oob)
	u.dropCount(oobn)
	return n, flags&syscall.MSG_TRUNC != 0, err
}

func (u *UDP) readNow(buf []byte) (int, bool, error) {
	n, oobn, truncated, err := recvNow(u.conn, buf, u.oob)
	u.dropCount(oobn)
	return n, truncated, err
}

func (u *UDP) dropCount(oobn int) {
	if oobn > 0 {
		if d, ok := parseDropCount(u.oob[:oobn]); ok {
			u.ovfl.Store(d)
		}
	}
}

// LocalAddr is the bound address (useful with port 0).
func (u *UDP) LocalAddr() string { return u.local }

// KernelDrops is how many datagrams the kernel dropped for this socket
// because its receive buffer was full: they never reached the process, so
// they are not in Counters. /proc/net/udp is current; SO_RXQ_OVFL, the
// fallback, is only as recent as the last datagram read.
func (u *UDP) KernelDrops() int64 {
	if u.ino != 0 {
		if n, ok := procUDPDrops(procRoot, u.ino); ok {
			return n
		}
	}
	return int64(u.ovfl.Load())
}

// Close reads what the kernel already queued (for at most DrainTimeout),
// stops reading and waits for what was read to be handled.
func (u *UDP) Close() error {
	if u.conn == nil {
		return nil
	}
	u.loop.drain(u.DrainTimeout)
	err := u.conn.Close()
	u.loop.wait()
	u.conn = nil
	return err
}
