package store

import (
	"os"
	"syscall"
)

// fallocate gives f size bytes of blocks it owns, without writing them.
func fallocate(f *os.File, size int64) error {
	return syscall.Fallocate(int(f.Fd()), 0, 0, size)
}
