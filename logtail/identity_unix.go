//go:build unix

package logtail

import (
	"os"
	"syscall"
)

// idOf returns the device and inode of a file: its identity across renames.
func idOf(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)} // Dev is int32 on darwin
	}
	return fileID{}
}
