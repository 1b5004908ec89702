package metrics

import (
	"path/filepath"
	"reflect"
	"testing"
)

func p64(v int64) *int64 { return &v }

// TestReadFixtures checks each source's parsed reading against the
// fixture trees' known values.
func TestReadFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		source  string
		want    reading
	}{
		{
			// cpu.max 150000/100000 beats cpuset 0-3; the parent slice's
			// memory.max beats our "max"; io.stat sums two devices.
			fixture: "cgroup2", source: SourceCgroup2,
			want: reading{
				cpuOK: true, cpuBusy: 5, cores: 1.5,
				memCurrent: p64(209715200), memLimit: p64(536870912), memRSS: p64(104857600), memLimited: true,
				ioOK: true, ioRead: 1048576 + 4096, ioWrite: 2097152 + 8192,
			},
		},
		{
			// quota 50000/100000 beats cpuset 0-1; limit_in_bytes is
			// "unlimited" but hierarchical_memory_limit is 1 GiB; RSS is
			// total_rss; blkio sums Read and Write of two devices.
			fixture: "cgroup1", source: SourceCgroup1,
			want: reading{
				cpuOK: true, cpuBusy: 3, cores: 0.5,
				memCurrent: p64(314572800), memLimit: p64(1073741824), memRSS: p64(62914560), memLimited: true,
				ioOK: true, ioRead: 409700, ioWrite: 819400,
			},
		},
		{
			// /proc/stat in ticks of 1/100 s: busy = user+nice+system+irq+
			// softirq = 100+5+40+2+3 s of 960 s; meminfo 8000000 kB total,
			// 6000000 kB available; whole disks sda and nvme0n1 only.
			fixture: "host", source: SourceHost,
			want: reading{
				cpuOK: true, cpuBusy: 150, cpuTotal: 960, cores: 4,
				memCurrent: p64(2048000000), memLimit: p64(8192000000), memRSS: p64(1536000000),
				ioOK: true, ioRead: 26000 * 512, ioWrite: 48000 * 512,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			s, _ := fixtureSampler(filepath.Join("testdata", tt.fixture))
			st, err := s.detect()
			if err != nil {
				t.Fatal(err)
			}
			if got := st.layout.source; got != tt.source {
				t.Fatalf("source = %q, want %q", got, tt.source)
			}
			s.st = st
			got, err := s.read()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reading\n got %+v\nwant %+v", show(got), show(tt.want))
			}
		})
	}
}

// show dereferences the pointers so a failure prints values.
func show(r reading) map[string]any {
	deref := func(p *int64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	return map[string]any{
		"cpuOK": r.cpuOK, "cpuBusy": r.cpuBusy, "cpuTotal": r.cpuTotal, "cores": r.cores,
		"memCurrent": deref(r.memCurrent), "memLimit": deref(r.memLimit), "memRSS": deref(r.memRSS),
		"memLimited": r.memLimited, "ioOK": r.ioOK, "ioRead": r.ioRead, "ioWrite": r.ioWrite,
	}
}

func TestDetectCgroupPaths(t *testing.T) {
	s, _ := fixtureSampler(filepath.Join("testdata", "cgroup1"))
	st, err := s.detect()
	if err != nil {
		t.Fatal(err)
	}
	root := s.CgroupRoot
	want := map[string]string{
		"cpu":     filepath.Join(root, "cpu,cpuacct/docker/abc"),
		"cpuacct": filepath.Join(root, "cpu,cpuacct/docker/abc"),
		"cpuset":  filepath.Join(root, "cpuset/docker/abc"),
		"memory":  filepath.Join(root, "memory/docker/abc"),
		"blkio":   filepath.Join(root, "blkio/docker/abc"),
	}
	if !reflect.DeepEqual(st.layout.v1, want) {
		t.Errorf("v1 dirs\n got %v\nwant %v", st.layout.v1, want)
	}
}

// TestDetectNamespaced: inside a container with a cgroup namespace,
// /proc/self/cgroup names a path that does not exist under the mount; the
// root is then our cgroup.
func TestDetectNamespaced(t *testing.T) {
	root := copyTree(t, filepath.Join("testdata", "cgroup2"))
	writeFile(t, filepath.Join(root, "proc/42/cgroup"), "0::/kubepods/pod1/ctr\n")
	s, _ := fixtureSampler(root)
	st, err := s.detect()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.layout.dir, s.CgroupRoot; got != want {
		t.Errorf("dir = %q, want %q", got, want)
	}
}

func TestParseCPUMax(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"max 100000\n", 0},
		{"max", 0},
		{"150000 100000\n", 1.5},
		{"50000 100000", 0.5},
		{"200000", 2},
	}
	for _, tt := range tests {
		got, err := parseCPUMax(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseCPUMax(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "x 100000", "100 0", "1 2 3"} {
		if _, err := parseCPUMax(bad); err == nil {
			t.Errorf("parseCPUMax(%q): no error", bad)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"0-3\n", 4}, {"0", 1}, {"0-1,4,6-7", 5}, {"", 0},
	}
	for _, tt := range tests {
		got, err := parseCPUList(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseCPUList("3-1"); err == nil {
		t.Error("parseCPUList(3-1): no error")
	}
}

func TestSetMemLimit(t *testing.T) {
	const host = 8 << 30
	tests := []struct {
		limit       uint64
		wantLimit   int64
		wantLimited bool
	}{
		{512 << 20, 512 << 20, true},
		{9223372036854771712, host, false}, // v1 "unlimited"
		{16 << 30, host, false},            // above the host: the host is the limit
		{0, host, false},
	}
	for _, tt := range tests {
		var r reading
		r.setMemLimit(tt.limit, host)
		if *r.memLimit != tt.wantLimit || r.memLimited != tt.wantLimited {
			t.Errorf("setMemLimit(%d) = %d, %v; want %d, %v", tt.limit, *r.memLimit, r.memLimited, tt.wantLimit, tt.wantLimited)
		}
	}
}
