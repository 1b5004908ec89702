package metrics

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/procfs"
)

// The sources a row's metadata names.
const (
	SourceCgroup2 = "cgroup2"
	SourceCgroup1 = "cgroup1"
	SourceHost    = "host"
)

// layout says which source is used and where our own cgroup's files are.
type layout struct {
	source string
	root   string            // CgroupRoot
	dir    string            // cgroup2: our cgroup's directory
	v1     map[string]string // cgroup1: controller → our cgroup's directory
}

// detect picks cgroup v2, then v1, then the host. Our own cgroup comes from
// ProcRoot/self/cgroup; when that path does not exist under CgroupRoot (a
// container with a cgroup namespace, or a bind mount of our cgroup only) the
// root itself is ours. The error, if any, is about finding our own cgroup:
// the layout returned still works, pointing at the root.
func detect(pfs procfs.FS, root string) (layout, error) {
	switch {
	case exists(filepath.Join(root, "cgroup.controllers")):
		cgs, err := selfCgroups(pfs)
		return layout{source: SourceCgroup2, root: root, dir: cgroup2Dir(root, cgs)}, err
	case exists(filepath.Join(root, "memory")) || exists(filepath.Join(root, "cpu,cpuacct")) ||
		exists(filepath.Join(root, "cpuacct")):
		cgs, err := selfCgroups(pfs)
		return layout{source: SourceCgroup1, root: root, v1: cgroup1Dirs(root, cgs)}, err
	}
	return layout{source: SourceHost, root: root}, nil
}

func selfCgroups(pfs procfs.FS) ([]procfs.Cgroup, error) {
	self, err := pfs.Self()
	if err != nil {
		return nil, fmt.Errorf("find own cgroup: %w", err)
	}
	cgs, err := self.Cgroups()
	if err != nil {
		return nil, fmt.Errorf("find own cgroup: %w", err)
	}
	return cgs, nil
}

// cgroup2Dir resolves the unified hierarchy's "0::/path" line.
func cgroup2Dir(root string, cgs []procfs.Cgroup) string {
	for _, cg := range cgs {
		if cg.HierarchyID == 0 {
			return firstDir(filepath.Join(root, cg.Path), root)
		}
	}
	return root
}

// cgroup1Dirs resolves each controller's line ("4:memory:/path"). A
// controller may be mounted alone (root/cpu) or co-mounted
// (root/cpu,cpuacct), often with both names present as symlinks.
func cgroup1Dirs(root string, cgs []procfs.Cgroup) map[string]string {
	controllers := [...]string{"cpu", "cpuacct", "cpuset", "memory", "blkio"}
	dirs := make(map[string]string, len(controllers))
	for _, c := range controllers {
		var cands []string
		for _, cg := range cgs {
			if slices.Contains(cg.Controllers, c) {
				joined := strings.Join(cg.Controllers, ",")
				cands = append(cands,
					filepath.Join(root, c, cg.Path), filepath.Join(root, joined, cg.Path),
					filepath.Join(root, c), filepath.Join(root, joined))
			}
		}
		cands = append(cands, filepath.Join(root, c))
		if d := firstDir(cands...); d != "" {
			dirs[c] = d
		}
	}
	return dirs
}

// firstDir returns the first of paths that is a directory, or "".
func firstDir(paths ...string) string {
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
	}
	return ""
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
