package logtail

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// fileID is a file's identity (device, inode), which survives renames.
type fileID struct{ dev, ino uint64 }

// candidate is one file that may be followed, as seen by one stat.
type candidate struct {
	path  string
	id    fileID
	size  int64
	mtime time.Time
	rot   int // N for name.N.log or name.log.N (size rotation), else 0
}

// same reports whether a and b are one file; without inodes, one path.
func (a candidate) same(b candidate) bool {
	if a.id != (fileID{}) && b.id != (fileID{}) {
		return a.id == b.id
	}
	return a.path == b.path
}

// newer orders files by when they were last written. Rotation and
// re-creation happen within one clock tick of the last write, so ties are
// broken by name: a lower rotation index is newer (.log after .1.log after
// .2.log), then the later name (dated files sort by day).
func (a candidate) newer(b candidate) bool {
	if !a.mtime.Equal(b.mtime) {
		return a.mtime.After(b.mtime)
	}
	if a.rot != b.rot {
		return a.rot < b.rot
	}
	return a.path > b.path
}

// paths lists what Path names: the matches of a glob, the *.log files of a
// directory, or a file (which may not exist yet) with its rotated siblings.
func paths(path string) ([]string, error) {
	if strings.ContainsAny(path, "*?[") {
		return filepath.Glob(path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return filepath.Glob(filepath.Join(path, "*.log"))
	}
	return append([]string{path}, rotatedSiblings(path)...), nil
}

// rotatedSiblings finds name.N.ext and name.ext.N beside path, so that
// files rotated while we were stopped are read before the live one.
func rotatedSiblings(path string) []string {
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return nil
	}
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	var out []string
	for _, e := range entries {
		n := e.Name()
		if n != base && rotIndex(n) > 0 && (strings.HasPrefix(n, stem+".") && strings.HasSuffix(n, ext) || strings.HasPrefix(n, base+".")) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}

// rotIndex reads N from name.N.log or name.log.N, else 0.
func rotIndex(name string) int {
	ext := filepath.Ext(name)
	if n := number(ext); n > 0 {
		return n
	}
	return number(filepath.Ext(strings.TrimSuffix(name, ext)))
}

// number parses ".N" (N > 0, at most 4 digits, so dates do not count).
func number(ext string) int {
	if len(ext) < 2 || len(ext) > 5 {
		return 0
	}
	n, err := strconv.Atoi(ext[1:])
	if err != nil || n <= 0 || strings.ContainsAny(ext[1:], "+-") {
		return 0
	}
	return n
}

// stat describes path, or reports false if it is not a regular file.
func stat(path string) (candidate, bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return candidate{}, false
	}
	return candidate{path: path, id: idOf(fi), size: fi.Size(), mtime: fi.ModTime(), rot: rotIndex(filepath.Base(path))}, true
}

// candidates stats every file Path names. Files that vanish between the
// listing and the stat are left out; the next poll sees the new state.
func candidates(path string) ([]candidate, error) {
	ps, err := paths(path)
	if err != nil {
		return nil, err
	}
	cs := make([]candidate, 0, len(ps))
	for _, p := range ps {
		if c, ok := stat(p); ok {
			cs = append(cs, c)
		}
	}
	return cs, nil
}

// findByID looks for a file with cur's identity among the candidates, then
// beside cur's last path: a rename may have moved it out of the pattern.
func findByID(cands []candidate, cur candidate) (candidate, bool) {
	for _, c := range cands {
		if c.same(cur) {
			return c, true
		}
	}
	if c, ok := stat(cur.path); ok && c.same(cur) {
		return c, true
	}
	dir := filepath.Dir(cur.path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return candidate{}, false
	}
	for _, e := range entries {
		if c, ok := stat(filepath.Join(dir, e.Name())); ok && c.same(cur) {
			return c, true
		}
	}
	return candidate{}, false
}
