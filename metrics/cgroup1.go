package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// readCgroup1 reads our cgroups in the v1 hierarchies (one directory per
// controller). A controller that is not mounted leaves its fields unknown.
func readCgroup1(l layout, h *host) (reading, error) {
	var r reading
	errs := []error{
		cgroup1CPU(&r, l, h),
		cgroup1Memory(&r, l.v1["memory"], h),
		cgroup1IO(&r, l.v1["blkio"]),
	}
	return r, errors.Join(errs...)
}

func cgroup1CPU(r *reading, l layout, h *host) error {
	dir, ok := l.v1["cpuacct"]
	if !ok {
		return nil
	}
	ns, ok, err := readUint(filepath.Join(dir, "cpuacct.usage"))
	if err != nil || !ok {
		return err
	}
	if dir, ok := l.v1["cpu"]; ok {
		cores, err := readCFSQuota(dir)
		if err != nil {
			return err
		}
		r.limitCores(cores)
	}
	if dir, ok := l.v1["cpuset"]; ok {
		n, ok, err := readCPUList(filepath.Join(dir, "cpuset.effective_cpus"))
		if err != nil {
			return err
		}
		if ok {
			r.limitCores(float64(n))
		}
	}
	if r.cores == 0 {
		n, err := h.cpus()
		if err != nil {
			return err
		}
		r.cores = float64(n)
	}
	r.cpuOK, r.cpuBusy = true, float64(ns)/1e9
	return nil
}

// readCFSQuota reads cpu.cfs_quota_us / cpu.cfs_period_us as cores; 0 means
// unlimited (quota -1) or absent.
func readCFSQuota(dir string) (float64, error) {
	quota, ok, err := readInt(filepath.Join(dir, "cpu.cfs_quota_us"))
	if err != nil || !ok || quota <= 0 {
		return 0, err
	}
	period, ok, err := readInt(filepath.Join(dir, "cpu.cfs_period_us"))
	if err != nil || !ok || period <= 0 {
		return 0, err
	}
	return float64(quota) / float64(period), nil
}

func cgroup1Memory(r *reading, dir string, h *host) error {
	if dir == "" {
		return nil
	}
	usage, ok, err := readUint(filepath.Join(dir, "memory.usage_in_bytes"))
	if err != nil || !ok {
		return err
	}
	r.memCurrent = i64(usage)
	limit, err := cgroup1MemLimit(dir)
	if err != nil {
		return err
	}
	total, err := h.memTotal()
	if err != nil {
		return err
	}
	r.setMemLimit(limit, total)
	// total_rss counts our cgroup and its children, as usage_in_bytes does;
	// older kernels without hierarchy accounting only have rss.
	stat := filepath.Join(dir, "memory.stat")
	rss, ok, err := readKeyed(stat, "total_rss")
	if err == nil && !ok {
		rss, ok, err = readKeyed(stat, "rss")
	}
	if ok {
		r.memRSS = i64(rss)
	}
	return err
}

// cgroup1MemLimit is the tighter of our own limit and
// hierarchical_memory_limit (which the kernel computes over our ancestors).
// "Unlimited" reads as a huge number (PAGE_COUNTER_MAX pages), which
// setMemLimit turns into the host's total.
func cgroup1MemLimit(dir string) (uint64, error) {
	limit := uint64(math.MaxUint64)
	own, ok, err := readUint(filepath.Join(dir, "memory.limit_in_bytes"))
	if err != nil {
		return 0, err
	}
	if ok {
		limit = own
	}
	hier, ok, err := readKeyed(filepath.Join(dir, "memory.stat"), "hierarchical_memory_limit")
	if err != nil {
		return 0, err
	}
	if ok && hier < limit {
		limit = hier
	}
	return limit, nil
}

func cgroup1IO(r *reading, dir string) error {
	if dir == "" {
		return nil
	}
	// The _recursive file includes child cgroups, as memory usage does;
	// older kernels only have the flat one.
	var data []byte
	var ok bool
	var err error
	for _, name := range []string{"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes"} {
		if data, ok, err = readFile(filepath.Join(dir, name)); ok || err != nil {
			break
		}
	}
	if err != nil || !ok {
		return err
	}
	r.ioRead, r.ioWrite, err = parseBlkio(data)
	if err != nil {
		return fmt.Errorf("parse blkio in %s: %w", dir, err)
	}
	r.ioOK = true
	return nil
}

// parseBlkio sums the Read and Write lines of
// blkio.throttle.io_service_bytes ("8:0 Read 4096"), skipping the Total.
func parseBlkio(data []byte) (read, write uint64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || (fields[1] != "Read" && fields[1] != "Write") {
			continue
		}
		n, err := strconv.ParseUint(fields[2], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s %s: %w", fields[0], fields[1], err)
		}
		if fields[1] == "Read" {
			read += n
		} else {
			write += n
		}
	}
	return read, write, sc.Err()
}
