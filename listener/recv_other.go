//go:build !unix

package listener

import "syscall"

// recvNow is unsupported here: Close stops at once and what the kernel
// still holds is discarded with the socket.
func recvNow(syscall.Conn, []byte, []byte) (int, int, bool, error) {
	return 0, 0, false, syscall.EAGAIN
}
