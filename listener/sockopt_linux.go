package listener

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/prometheus/procfs"
)

// maxDgramQlenPath is the sysctl that bounds a unix datagram socket's
// kernel queue (per network namespace, read by the kernel at socket
// creation).
const maxDgramQlenPath = "/proc/sys/net/unix/max_dgram_qlen"

// readIntFile reads a file holding one integer, such as a sysctl.
func readIntFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return n, nil
}

// control runs f on the socket's file descriptor.
func control(c syscall.Conn, f func(fd int) error) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// receiveBuffer is what the kernel granted for SO_RCVBUF (it doubles the
// request for bookkeeping and caps it at net.core.rmem_max).
func receiveBuffer(c syscall.Conn) (int, error) {
	var n int
	err := control(c, func(fd int) (err error) {
		n, err = syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		return err
	})
	return n, err
}

// enableDropCount asks the kernel to attach its cumulative drop count for
// the socket to each datagram read (SO_RXQ_OVFL).
func enableDropCount(c syscall.Conn) error {
	return control(c, func(fd int) error {
		return syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1)
	})
}

// socketInode is the inode /proc/net/udp lists for the socket.
func socketInode(c syscall.Conn) (uint64, error) {
	var st syscall.Stat_t
	err := control(c, func(fd int) error { return syscall.Fstat(fd, &st) })
	return st.Ino, err
}

// parseDropCount returns the SO_RXQ_OVFL counter from a control message
// buffer, if the kernel attached one (it does once drops are non-zero).
func parseDropCount(oob []byte) (uint32, bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_RXQ_OVFL && len(m.Data) >= 4 {
			return binary.NativeEndian.Uint32(m.Data), true
		}
	}
	return 0, false
}

// procRoot is where procUDPDrops finds /proc/net/udp and udp6.
const procRoot = "/proc"

// procUDPDrops returns the drops column of the socket with inode ino, from
// root's net/udp or, for an IPv6 socket, net/udp6.
func procUDPDrops(root string, ino uint64) (int64, bool) {
	fs, err := procfs.NewFS(root)
	if err != nil {
		return 0, false
	}
	for _, table := range []func() (procfs.NetUDP, error){fs.NetUDP, fs.NetUDP6} {
		lines, err := table()
		if err != nil {
			continue
		}
		for _, l := range lines {
			if l.Inode == ino && l.Drops != nil {
				return int64(*l.Drops), true
			}
		}
	}
	return 0, false
}
