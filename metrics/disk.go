package metrics

import (
	"fmt"
	"syscall"
)

// DiskUsage is the size of a volume in bytes.
type DiskUsage struct {
	Total int64 // size of the filesystem
	Used  int64 // blocks in use
	Free  int64 // blocks an unprivileged writer may still use (excludes root's reserve)
}

// Percent is Used of what a writer can have, Used+Free, as df(1) computes
// it: a volume whose reserve is all that is left reads 100%.
func (d DiskUsage) Percent() float64 {
	if d.Used+d.Free <= 0 {
		return 0
	}
	return float64(d.Used) / float64(d.Used+d.Free) * 100
}

// Statfs measures the volume holding path.
func Statfs(path string) (DiskUsage, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return DiskUsage{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	bsize := int64(st.Bsize)
	return DiskUsage{
		Total: int64(st.Blocks) * bsize,
		Used:  int64(st.Blocks-st.Bfree) * bsize,
		Free:  int64(st.Bavail) * bsize,
	}, nil
}
