package listener

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// DefaultSocketMode lets any local user write (send) but only the owner
// read: senders need w on a unix socket, nothing else.
const DefaultSocketMode os.FileMode = 0o622

// MinDgramQlen is the max_dgram_qlen below which Open warns: with fewer
// queued datagrams, a short stall of the reader makes senders drop.
const MinDgramQlen = 128

// Errors of Open the caller may want to tell apart from a missing
// directory or a permission problem: each has its own remedy.
var (
	ErrNotSocket   = errors.New("exists and is not a socket")
	ErrSocketInUse = errors.New("in use by another process")
)

// Unixgram is the unix datagram intake.
type Unixgram struct {
	Path       string
	Mode       os.FileMode
	ReadBuffer int // SO_RCVBUF request; 0 keeps the kernel default
	HandOff    int // reader-to-worker capacity; 0 decodes on the reader
	// DrainTimeout bounds Close's reading of what the kernel still holds.
	DrainTimeout time.Duration
	Logger       *slog.Logger
	Counters     codec.Counters

	packets Packets
	conn    *net.UnixConn
	loop    *loop
	qlen    int
}

// NewUnixgram returns a unix datagram intake on path feeding q.
func NewUnixgram(path string, q *codec.Queue, p *codec.Parser) *Unixgram {
	u := &Unixgram{
		Path:         path,
		Mode:         DefaultSocketMode,
		HandOff:      DefaultHandOff,
		DrainTimeout: DefaultDrainTimeout,
		Logger:       slog.New(slog.DiscardHandler),
	}
	u.packets = Packets{Transport: codec.Unixgram, Queue: q, Parser: p, Counters: &u.Counters}
	return u
}

// Open binds the socket, replacing a stale one, and starts reading.
func (u *Unixgram) Open() error {
	if err := removeStale(u.Path); err != nil {
		return err
	}
	// The kernel reads max_dgram_qlen when the socket is created; read it
	// just before, so the logged value is the one that applies.
	qlen, qerr := readIntFile(maxDgramQlenPath)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: u.Path, Net: "unixgram"})
	if err != nil {
		return pathError(u.Path, err)
	}
	if err := os.Chmod(u.Path, u.Mode); err != nil {
		conn.Close()
		os.Remove(u.Path)
		return fmt.Errorf("chmod socket %s: %w", u.Path, err)
	}
	if u.ReadBuffer > 0 {
		if err := conn.SetReadBuffer(u.ReadBuffer); err != nil {
			u.Logger.Warn("set socket receive buffer", "path", u.Path, "err", err)
		}
	}
	u.conn, u.qlen = conn, qlen
	u.logOpen(qerr)
	u.packets.Logger = u.Logger
	u.loop = startLoop(&u.packets, conn, reads{wait: u.read, now: u.readNow}, u.HandOff, u.Logger)
	return nil
}

func (u *Unixgram) read(buf []byte) (int, bool, error) {
	n, _, flags, _, err := u.conn.ReadMsgUnix(buf, nil)
	return n, flags&syscall.MSG_TRUNC != 0, err
}

func (u *Unixgram) readNow(buf []byte) (int, bool, error) {
	n, _, truncated, err := recvNow(u.conn, buf, nil)
	return n, truncated, err
}

// MaxDgramQlen is net.unix.max_dgram_qlen as read at bind, 0 if unknown.
// The socket's kernel queue holds this many datagrams plus one.
func (u *Unixgram) MaxDgramQlen() int { return u.qlen }

// Close removes the socket file, reads what the kernel already queued (for
// at most DrainTimeout), stops reading and waits for what was read to be
// handled.
func (u *Unixgram) Close() error {
	if u.conn == nil {
		return nil
	}
	// Unlink first, so new senders get ENOENT (and count the drop) while
	// we read what is already queued. Go unlinks only stream listeners'
	// files; a datagram socket's stays behind unless we remove it.
	var err error
	if rerr := os.Remove(u.Path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = fmt.Errorf("remove socket: %w", rerr)
	}
	u.loop.drain(u.DrainTimeout)
	err = errors.Join(err, u.conn.Close())
	u.loop.wait()
	u.conn = nil
	return err
}

func (u *Unixgram) logOpen(qerr error) {
	rcv, _ := receiveBuffer(u.conn)
	u.Logger.Info("unix datagram socket listening", "path", u.Path, "mode", fmt.Sprintf("%#o", u.Mode),
		"receive_buffer", rcv, "max_dgram_qlen", u.qlen, "hand_off", u.HandOff)
	switch {
	case qerr != nil:
		u.Logger.Warn("cannot read net.unix.max_dgram_qlen", "err", qerr)
	case u.qlen < MinDgramQlen:
		u.Logger.Warn(fmt.Sprintf("net.unix.max_dgram_qlen is %d: senders drop datagrams (EAGAIN) in bursts; "+
			"raise it with `sysctl -w net.unix.max_dgram_qlen=512` (Docker: `--sysctl net.unix.max_dgram_qlen=512`) "+
			"and restart", u.qlen))
	}
}

// removeStale clears the way for bind: nothing at path, or a socket no one
// reads (a dial is refused) which is removed. A live socket or another kind
// of file is an error, and left alone.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return pathError(path, err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("socket path %s: %w (%s)", path, ErrNotSocket, fi.Mode().Type())
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err == nil {
		c.Close()
		return fmt.Errorf("socket %s: %w", path, ErrSocketInUse)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return pathError(path, err)
	}
	if err := os.Remove(path); err != nil {
		return pathError(path, err)
	}
	return nil
}

func pathError(path string, err error) error {
	return fmt.Errorf("unix socket %s: %w", path, err)
}
