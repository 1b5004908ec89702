//go:build !linux

package store

import (
	"os"
	"syscall"
)

// fallocate is Linux's; elsewhere the reserve is written with zeros.
func fallocate(*os.File, int64) error { return syscall.ENOSYS }
