package metrics

import (
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/procfs"
	"github.com/prometheus/procfs/blockdevice"
)

// host reads ProcRoot: the whole machine, used as the source when there is
// no cgroup, and for what a cgroup leaves open (CPU count, memory total).
type host struct {
	fs   procfs.FS
	bdev blockdevice.FS
	ncpu int // CPUs in /proc/stat, read once: hotplug is ignored
}

func newHost(procRoot string) (*host, error) {
	pfs, err := procfs.NewFS(procRoot)
	if err != nil {
		return nil, fmt.Errorf("open proc: %w", err)
	}
	// blockdevice wants a sys root too, but ProcDiskstats only reads proc;
	// passing procRoot again spares the Sampler a SysRoot field.
	bdev, err := blockdevice.NewFS(procRoot, procRoot)
	if err != nil {
		return nil, fmt.Errorf("open proc: %w", err)
	}
	return &host{fs: pfs, bdev: bdev}, nil
}

// cpus is the number of CPUs the host has, what 100% means when nothing
// narrower is set.
func (h *host) cpus() (int, error) {
	if h.ncpu > 0 {
		return h.ncpu, nil
	}
	st, err := h.fs.Stat()
	if err != nil {
		return 0, fmt.Errorf("read cpu count: %w", err)
	}
	if len(st.CPU) == 0 {
		return 0, fmt.Errorf("read cpu count: no cpu lines in stat")
	}
	h.ncpu = len(st.CPU)
	return h.ncpu, nil
}

func (h *host) memTotal() (uint64, error) {
	mi, err := h.fs.Meminfo()
	if err != nil {
		return 0, fmt.Errorf("read meminfo: %w", err)
	}
	if mi.MemTotalBytes == nil {
		return 0, fmt.Errorf("read meminfo: no MemTotal")
	}
	return *mi.MemTotalBytes, nil
}

// readHost reads the whole machine: /proc/stat, /proc/meminfo and
// /proc/diskstats.
func readHost(h *host) (reading, error) {
	var r reading
	errs := []error{hostCPU(&r, h), hostMemory(&r, h), hostIO(&r, h)}
	return r, errors.Join(errs...)
}

// hostCPU counts steal as busy: those cycles were not ours to use. The total
// comes from the ticks themselves, so 100% = every CPU busy.
func hostCPU(r *reading, h *host) error {
	st, err := h.fs.Stat()
	if err != nil {
		return fmt.Errorf("read stat: %w", err)
	}
	c := st.CPUTotal
	total := c.User + c.Nice + c.System + c.Idle + c.Iowait + c.IRQ + c.SoftIRQ + c.Steal
	r.cpuOK = true
	r.cpuBusy, r.cpuTotal = total-c.Idle-c.Iowait, total
	r.cores = float64(len(st.CPU))
	if h.ncpu == 0 {
		h.ncpu = len(st.CPU)
	}
	return nil
}

// hostMemory: current is MemTotal - MemAvailable (what free(1) calls used),
// RSS is AnonPages (anonymous memory of every process, the host-wide
// counterpart of a cgroup's anon; summing every process's RSS would cost a
// walk of /proc on each sample).
func hostMemory(r *reading, h *host) error {
	mi, err := h.fs.Meminfo()
	if err != nil {
		return fmt.Errorf("read meminfo: %w", err)
	}
	if mi.MemTotalBytes == nil || mi.MemAvailableBytes == nil {
		return fmt.Errorf("read meminfo: no MemTotal or MemAvailable")
	}
	total, avail := *mi.MemTotalBytes, *mi.MemAvailableBytes
	r.memCurrent, r.memLimit = i64(total-min(avail, total)), i64(total)
	if mi.AnonPagesBytes != nil {
		r.memRSS = i64(*mi.AnonPagesBytes)
	}
	return nil
}

func hostIO(r *reading, h *host) error {
	stats, err := h.bdev.ProcDiskstats()
	if err != nil {
		return fmt.Errorf("read diskstats: %w", err)
	}
	r.ioRead, r.ioWrite = wholeDiskIO(stats)
	r.ioOK = true
	return nil
}

// wholeDiskIO sums bytes moved by whole disks. Partitions would count their
// disk's bytes twice, and loop, ram, zram, device-mapper and md devices sit
// on top of real disks (or of memory), so they are left out too. A device is
// a partition when another listed device's name followed by a number, or by
// "p" and a number, is its own (sda/sda1, nvme0n1/nvme0n1p1,
// mmcblk0/mmcblk0p1; but sdaa is a disk).
func wholeDiskIO(stats []blockdevice.Diskstats) (read, write uint64) {
	for _, d := range stats {
		if virtualDisk(d.DeviceName) || isPartition(d.DeviceName, stats) {
			continue
		}
		read += d.ReadSectors * 512 // diskstats sectors are always 512 bytes
		write += d.WriteSectors * 512
	}
	return read, write
}

func virtualDisk(name string) bool {
	for _, p := range [...]string{"loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func isPartition(name string, stats []blockdevice.Diskstats) bool {
	for _, d := range stats {
		rest, ok := strings.CutPrefix(name, d.DeviceName)
		if !ok || rest == "" {
			continue
		}
		if allDigits(rest) || (rest[0] == 'p' && allDigits(rest[1:])) {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
