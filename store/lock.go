package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
)

// LockSuffix names the lock file beside the database: <db>.lock. It is
// left in place at exit; the kernel releases the lock when its holder's
// process ends, however it ends.
const LockSuffix = ".lock"

// LockedError says the database is open for writing in another process:
// a second daemon on one file would interleave writes and push every row
// twice.
type LockedError struct {
	Path string // the database
	PID  int    // the holder as the kernel reports it; 0 outside our pid namespace
}

func (e *LockedError) Error() string {
	holder := fmt.Sprintf("pid %d", e.PID)
	if e.PID <= 0 {
		holder = "a process outside this pid namespace (another container?)"
	}
	return fmt.Sprintf("database %s is in use by another openclaw-trace: %s holds %s%s", e.Path, holder, e.Path, LockSuffix)
}

// lockFile takes an exclusive POSIX record lock on path's lock file, held
// until the returned file is closed. A POSIX lock, not flock: F_GETLK
// names the holder's pid, so the refusal can say which process to stop.
func lockFile(path string) (*os.File, error) {
	name := path + LockSuffix
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, FileMode)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	// A holder that lets go between the refusal and the question is
	// tried again, a few times.
	for range 3 {
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
		err = syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
		if err == nil {
			// The pid in the file is for people (cat it); a refusal asks the kernel.
			if f.Truncate(0) == nil {
				f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
			}
			return f, nil
		}
		if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EACCES) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		if pid, held := lockHolder(f); held {
			f.Close()
			return nil, &LockedError{Path: path, PID: pid}
		}
	}
	f.Close()
	return nil, fmt.Errorf("lock %s: %w", name, err)
}

// lockHolder asks the kernel who holds f's lock: the pid (0 when the
// holder is outside our pid namespace), and false when nobody does.
func lockHolder(f *os.File) (int, bool) {
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return 0, true
	}
	return int(lk.Pid), lk.Type != syscall.F_UNLCK
}
