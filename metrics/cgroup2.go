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

// readCgroup2 reads our cgroup in the unified hierarchy. Limits are the
// tightest found walking up to CgroupRoot, since a parent's cpu.max or
// memory.max caps us as well as our own.
func readCgroup2(l layout, h *host) (reading, error) {
	var r reading
	errs := []error{
		cgroup2CPU(&r, l, h),
		cgroup2Memory(&r, l, h),
		cgroup2IO(&r, l.dir),
	}
	return r, errors.Join(errs...)
}

func cgroup2CPU(r *reading, l layout, h *host) error {
	usec, ok, err := readKeyed(filepath.Join(l.dir, "cpu.stat"), "usage_usec")
	if err != nil || !ok {
		return err
	}
	err = walkUp(l.dir, l.root, func(d string) error {
		cores, _, err := readCPUMax(filepath.Join(d, "cpu.max"))
		r.limitCores(cores)
		return err
	})
	if err != nil {
		return err
	}
	if n, ok, err := readCPUList(filepath.Join(l.dir, "cpuset.cpus.effective")); err != nil {
		return err
	} else if ok {
		r.limitCores(float64(n))
	}
	if r.cores == 0 {
		n, err := h.cpus()
		if err != nil {
			return err
		}
		r.cores = float64(n)
	}
	r.cpuOK, r.cpuBusy = true, float64(usec)/1e6
	return nil
}

// readCPUMax reads cpu.max ("$quota $period", quota "max" when unlimited)
// as cores; 0 means unlimited or absent.
func readCPUMax(path string) (cores float64, ok bool, err error) {
	data, ok, err := readFile(path)
	if !ok || err != nil {
		return 0, ok, err
	}
	cores, err = parseCPUMax(string(data))
	if err != nil {
		return 0, false, fmt.Errorf("parse %s: %w", path, err)
	}
	return cores, true, nil
}

func parseCPUMax(s string) (float64, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 || len(fields) > 2 {
		return 0, fmt.Errorf("cpu.max %q: want quota and period", s)
	}
	if fields[0] == "max" {
		return 0, nil
	}
	quota, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return 0, fmt.Errorf("cpu.max quota: %w", err)
	}
	period := 100000.0 // the kernel's default when only the quota is written
	if len(fields) == 2 {
		if period, err = strconv.ParseFloat(fields[1], 64); err != nil {
			return 0, fmt.Errorf("cpu.max period: %w", err)
		}
	}
	if quota <= 0 || period <= 0 {
		return 0, fmt.Errorf("cpu.max %q: not positive", s)
	}
	return quota / period, nil
}

func cgroup2Memory(r *reading, l layout, h *host) error {
	cur, ok, err := readUint(filepath.Join(l.dir, "memory.current"))
	if err != nil || !ok {
		return err
	}
	r.memCurrent = i64(cur)
	limit := uint64(math.MaxUint64)
	err = walkUp(l.dir, l.root, func(d string) error {
		v, ok, err := readMemMax(filepath.Join(d, "memory.max"))
		if ok && v < limit {
			limit = v
		}
		return err
	})
	if err != nil {
		return err
	}
	total, err := h.memTotal()
	if err != nil {
		return err
	}
	r.setMemLimit(limit, total)
	// anon is what cAdvisor reports as a v2 container's RSS: anonymous
	// memory, without the page cache that memory.current also counts.
	anon, ok, err := readKeyed(filepath.Join(l.dir, "memory.stat"), "anon")
	if ok {
		r.memRSS = i64(anon)
	}
	return err
}

// readMemMax reads memory.max; "max" (unlimited) reads as ok false.
func readMemMax(path string) (uint64, bool, error) {
	data, ok, err := readFile(path)
	if !ok || err != nil {
		return 0, false, err
	}
	s := string(bytes.TrimSpace(data))
	if s == "max" {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("parse %s: %w", path, err)
	}
	return v, true, nil
}

func cgroup2IO(r *reading, dir string) error {
	path := filepath.Join(dir, "io.stat")
	data, ok, err := readFile(path)
	if err != nil || !ok {
		return err
	}
	r.ioRead, r.ioWrite, err = parseIOStat(data)
	if err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	r.ioOK = true
	return nil
}

// parseIOStat sums rbytes and wbytes over the devices of io.stat
// ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0").
func parseIOStat(data []byte) (read, write uint64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for _, f := range fields[min(1, len(fields)):] {
			k, v, _ := strings.Cut(f, "=")
			if k != "rbytes" && k != "wbytes" {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("%s: %w", k, err)
			}
			if k == "rbytes" {
				read += n
			} else {
				write += n
			}
		}
	}
	return read, write, sc.Err()
}

// walkUp calls fn for dir and each parent up to and including root, and
// joins the errors.
func walkUp(dir, root string, fn func(dir string) error) error {
	var errs []error
	for d := dir; ; d = filepath.Dir(d) {
		errs = append(errs, fn(d))
		if d == root || !strings.HasPrefix(d, root) || d == filepath.Dir(d) {
			break
		}
	}
	return errors.Join(errs...)
}
