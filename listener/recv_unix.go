//go:build unix

package listener

import "syscall"

// recvNow reads one datagram without waiting: EAGAIN when the kernel
// queue is empty. The socket's read deadline must not have passed.
func recvNow(c syscall.Conn, buf, oob []byte) (n, oobn int, truncated bool, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0, false, err
	}
	var flags int
	cerr := raw.Read(func(fd uintptr) bool {
		n, oobn, flags, _, err = syscall.Recvmsg(int(fd), buf, oob, syscall.MSG_DONTWAIT)
		return true // never wait for readiness
	})
	if cerr != nil {
		return 0, 0, false, cerr
	}
	return n, oobn, flags&syscall.MSG_TRUNC != 0, err
}
