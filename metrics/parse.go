package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Cgroup and proc files are tiny, so each is read whole. A missing file is
// not an error: it means the controller is not enabled for our cgroup (or we
// are at the root, which has no limits), and the field stays unknown.

// readFile returns the file's content, or ok false when it does not exist.
func readFile(path string) (data []byte, ok bool, err error) {
	data, err = os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// readUint reads a file holding one unsigned number, such as memory.current.
func readUint(path string) (v uint64, ok bool, err error) {
	data, ok, err := readFile(path)
	if !ok || err != nil {
		return 0, ok, err
	}
	v, err = strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("parse %s: %w", path, err)
	}
	return v, true, nil
}

// readInt reads a file holding one signed number, such as cpu.cfs_quota_us
// (-1 when unlimited).
func readInt(path string) (v int64, ok bool, err error) {
	data, ok, err := readFile(path)
	if !ok || err != nil {
		return 0, ok, err
	}
	v, err = strconv.ParseInt(string(bytes.TrimSpace(data)), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("parse %s: %w", path, err)
	}
	return v, true, nil
}

// readKeyed returns the value of key in a flat keyed file ("key value" per
// line: cpu.stat, memory.stat).
func readKeyed(path, key string) (v uint64, ok bool, err error) {
	data, ok, err := readFile(path)
	if !ok || err != nil {
		return 0, ok, err
	}
	v, ok, err = parseKeyed(data, key)
	if err != nil {
		return 0, false, fmt.Errorf("parse %s: %w", path, err)
	}
	return v, ok, nil
}

func parseKeyed(data []byte, key string) (uint64, bool, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, found := strings.Cut(sc.Text(), " ")
		if !found || k != key {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("key %s: %w", key, err)
		}
		return n, true, nil
	}
	return 0, false, sc.Err()
}

// parseCPUList counts the CPUs in a list such as "0-3,8,10-11"
// (cpuset.cpus.effective).
func parseCPUList(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n := 0
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, fmt.Errorf("cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return 0, fmt.Errorf("cpu list %q: %w", s, err)
			}
		}
		if b < a {
			return 0, fmt.Errorf("cpu list %q: bad range", s)
		}
		n += b - a + 1
	}
	return n, nil
}

// readCPUList counts the CPUs listed in a cpuset file; ok is false when the
// file is missing or empty (cpuset controller not enabled).
func readCPUList(path string) (n int, ok bool, err error) {
	data, ok, err := readFile(path)
	if !ok || err != nil {
		return 0, ok, err
	}
	n, err = parseCPUList(string(data))
	if err != nil {
		return 0, false, fmt.Errorf("parse %s: %w", path, err)
	}
	return n, n > 0, nil
}
