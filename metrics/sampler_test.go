package metrics

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// TestCPUPercent advances the fixture's CPU counter between two samples
// and checks the percent of quota against hand-computed values.
func TestCPUPercent(t *testing.T) {
	const v2 = "sys/fs/cgroup/system.slice/oct.service"
	tests := []struct {
		name    string
		fixture string
		edit    map[string]string // files rewritten before the second sample
		wall    time.Duration
		want    float64
		cores   float64
	}{
		// 0.75 s used in 1 s of a 1.5-core quota.
		{"cgroup2 quota", "cgroup2", map[string]string{v2 + "/cpu.stat": "usage_usec 5750000\n"}, time.Second, 50, 1.5},
		// Quota "max" here and in the parent: cpuset 0-1 is the limit.
		// 1 s used in 2 s of 2 cores.
		{"cgroup2 max, cpuset", "cgroup2", map[string]string{
			v2 + "/cpu.stat": "usage_usec 6000000\n", v2 + "/cpu.max": "max 100000\n", v2 + "/cpuset.cpus.effective": "0-1\n",
		}, 2 * time.Second, 25, 2},
		// Quota "max" and no cpuset: the host's 4 CPUs. 3 s used in 1 s.
		{"cgroup2 max, host cpus", "cgroup2", map[string]string{
			v2 + "/cpu.stat": "usage_usec 8000000\n", v2 + "/cpu.max": "max 100000\n", v2 + "/cpuset.cpus.effective": "",
		}, time.Second, 75, 4},
		// 0.25 s (ns counter) used in 1 s of a 0.5-core quota.
		{"cgroup1 quota", "cgroup1", map[string]string{
			"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpuacct.usage": "3250000000\n",
		}, time.Second, 50, 0.5},
		// Quota -1: cpuset 0-1, 2 cores; 0.5 s used in 1 s.
		{"cgroup1 unlimited", "cgroup1", map[string]string{
			"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpuacct.usage":    "3500000000\n",
			"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "-1\n",
		}, time.Second, 25, 2},
		// Host ticks: user +100 (1 s), idle +300 (3 s): 1 s busy of 4 s.
		// The wall clock does not matter on the host.
		{"host", "host", map[string]string{
			"proc/stat": "cpu  10100 500 4000 80300 1000 200 300 0 0 0\n" +
				"cpu0 1 0 0 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0 0 0\ncpu2 1 0 0 0 0 0 0 0 0 0\ncpu3 1 0 0 0 0 0 0 0 0 0\n",
		}, 5 * time.Second, 25, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyTree(t, filepath.Join("testdata", tt.fixture))
			s, clk := fixtureSampler(root)
			first, err := s.Sample()
			if err != nil {
				t.Fatal(err)
			}
			if first.CPUPercent != nil {
				t.Fatalf("first sample CPUPercent = %v, want nil (priming only)", *first.CPUPercent)
			}
			for name, content := range tt.edit {
				writeFile(t, filepath.Join(root, name), content)
			}
			clk.Advance(tt.wall)
			m, err := s.Sample()
			if err != nil {
				t.Fatal(err)
			}
			if m.CPUPercent == nil {
				t.Fatal("second sample CPUPercent = nil")
			}
			if got := *m.CPUPercent; !near(got, tt.want) {
				t.Errorf("CPUPercent = %v, want %v", got, tt.want)
			}
			if got := m.Metadata["cpu_quota_cores"]; got != tt.cores {
				t.Errorf("cpu_quota_cores = %v, want %v", got, tt.cores)
			}
			if got := m.Metadata["source"]; got != tt.fixture {
				t.Errorf("source = %v, want %v", got, tt.fixture)
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestFirstSample: the priming reading has no CPU or I/O figures, but
// memory and disk, which need no baseline, are there.
func TestFirstSample(t *testing.T) {
	s, _ := fixtureSampler(filepath.Join("testdata", "cgroup2"))
	m, err := s.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if m.CPUPercent != nil || m.IOReadBytes != nil || m.IOWriteBytes != nil {
		t.Errorf("first sample has deltas: cpu %v, io %v/%v", m.CPUPercent, m.IOReadBytes, m.IOWriteBytes)
	}
	if m.MemCurrent == nil || *m.MemCurrent != 209715200 {
		t.Errorf("MemCurrent = %v, want 209715200", m.MemCurrent)
	}
	if m.CreatedAt != 1700000000000 {
		t.Errorf("CreatedAt = %d, want 1700000000000", m.CreatedAt)
	}
	wantDisk := []any{int64(1000), int64(600), int64(200), 75.0} // 600/(600+200)
	gotDisk := []any{*m.DiskTotal, *m.DiskUsed, *m.DiskFree, *m.DiskPercent}
	for i := range wantDisk {
		if gotDisk[i] != wantDisk[i] {
			t.Errorf("disk total/used/free/percent = %v, want %v", gotDisk, wantDisk)
			break
		}
	}
}

// TestIODeltas: bytes since the previous sample, summed over devices.
func TestIODeltas(t *testing.T) {
	tests := []struct {
		fixture, file, content string
		wantRead, wantWrite    int64
	}{
		{"cgroup2", "sys/fs/cgroup/system.slice/oct.service/io.stat",
			"8:0 rbytes=1048576 wbytes=3145728 rios=100 wios=200 dbytes=0 dios=0\n" +
				"259:0 rbytes=8192 wbytes=8192 rios=2 wios=2 dbytes=0 dios=0\n", 4096, 1048576},
		{"cgroup1", "sys/fs/cgroup/blkio/docker/abc/blkio.throttle.io_service_bytes",
			"8:0 Read 409600\n8:0 Write 821248\n8:16 Read 4196\n8:16 Write 200\nTotal 0\n", 4096, 2048},
		{"host", "proc/diskstats", // sda +8 sectors read, nvme0n1 +16 written; sda1 and dm-0 ignored
			"   8       0 sda 1000 10 20008 500 2000 20 40000 900 0 1200 1400 0 0 0 0 0 0\n" +
				"   8       1 sda1 900 10 99999 450 1900 20 99999 850 0 1100 1300 0 0 0 0 0 0\n" +
				" 259       0 nvme0n1 300 0 6000 100 400 0 8016 200 0 250 300 0 0 0 0 0 0\n" +
				" 253       0 dm-0 900 0 99999 450 1900 0 99999 850 0 1100 1300 0 0 0 0 0 0\n", 8 * 512, 16 * 512},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			root := copyTree(t, filepath.Join("testdata", tt.fixture))
			s, clk := fixtureSampler(root)
			if _, err := s.Sample(); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(root, tt.file), tt.content)
			clk.Advance(time.Second)
			m, err := s.Sample()
			if err != nil {
				t.Fatal(err)
			}
			if m.IOReadBytes == nil || m.IOWriteBytes == nil {
				t.Fatal("io nil on second sample")
			}
			if *m.IOReadBytes != tt.wantRead || *m.IOWriteBytes != tt.wantWrite {
				t.Errorf("io = %d/%d, want %d/%d", *m.IOReadBytes, *m.IOWriteBytes, tt.wantRead, tt.wantWrite)
			}
		})
	}
}

// TestCounterReset: a counter going backwards (cgroup recreated) gives nil
// for that interval rather than a negative or huge figure.
func TestCounterReset(t *testing.T) {
	root := copyTree(t, filepath.Join("testdata", "cgroup2"))
	s, clk := fixtureSampler(root)
	if _, err := s.Sample(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "sys/fs/cgroup/system.slice/oct.service")
	writeFile(t, filepath.Join(dir, "cpu.stat"), "usage_usec 10\n")
	writeFile(t, filepath.Join(dir, "io.stat"), "8:0 rbytes=1 wbytes=1\n")
	clk.Advance(time.Second)
	m, err := s.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if m.CPUPercent != nil || m.IOReadBytes != nil {
		t.Errorf("after reset: cpu %v, io %v; want nil", m.CPUPercent, m.IOReadBytes)
	}
}

// TestMissingController: no io.stat (io controller not enabled) leaves I/O
// nil without an error; the rest of the row is still there.
func TestMissingController(t *testing.T) {
	root := copyTree(t, filepath.Join("testdata", "cgroup2"))
	if err := os.Remove(filepath.Join(root, "sys/fs/cgroup/system.slice/oct.service/io.stat")); err != nil {
		t.Fatal(err)
	}
	s, clk := fixtureSampler(root)
	for range 2 {
		m, err := s.Sample()
		if err != nil {
			t.Fatal(err)
		}
		if m.IOReadBytes != nil || m.MemCurrent == nil {
			t.Errorf("io %v, mem %v; want nil io, mem set", m.IOReadBytes, m.MemCurrent)
		}
		clk.Advance(time.Second)
	}
}

// TestRun: the priming reading is not sent, a full channel drops instead of
// blocking, and every offered sample is either sent or counted as dropped.
func TestRun(t *testing.T) {
	q := codec.NewQueue(1)
	s, _ := fixtureSampler(filepath.Join("testdata", "cgroup2"))
	s.Now = time.Now
	s.out = q
	s.Interval = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	stop := sync.OnceFunc(func() { cancel(); wg.Wait() })
	defer stop() // also when the wait fails
	poll.Until(t, "3 samples at a 1 ms interval", 10*time.Second, func() bool { return s.Counters.Units.Load() >= 3 })
	stop()

	c := s.Counters.Load()
	if queued := int64(q.Len()); queued != 1 || c.Units != c.Received || c.Received != queued+c.DroppedTotal() ||
		c.Dropped[codec.DropQueueFull] != c.Received-1 || s.Errors.Load() != 0 {
		t.Errorf("counts = %+v, %d queued, %d errors; want 1 queued, received = units = queued + queue_full, no errors",
			c, queued, s.Errors.Load())
	}
	ev := <-q.C()
	if ev.Transport != codec.Sampler || ev.TraceID == "" || ev.Metric == nil {
		t.Fatalf("event = %+v", ev)
	}
	if ev.Metric.CPUPercent == nil {
		t.Error("first sent metric has no CPU percent: the priming reading was sent")
	}
}

// TestSamplerAccounting: received = queued + Σ dropped, with each drop
// under its reason: queue_full while the queue is full, shutdown once it
// is closed.
func TestSamplerAccounting(t *testing.T) {
	q := codec.NewQueue(1)
	s, clk := fixtureSampler(filepath.Join("testdata", "cgroup2"))
	s.out = q
	if _, err := s.Sample(); err != nil { // primes; not offered
		t.Fatal(err)
	}
	for i := range 3 {
		if i == 2 {
			q.Close()
		}
		clk.Advance(time.Second)
		s.sampleAndSend()
	}
	got := s.Counters.Load()
	want := codec.Counts{Units: 3, Received: 3}
	want.Dropped[codec.DropQueueFull], want.Dropped[codec.DropShutdown] = 1, 1
	if got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	if queued := int64(q.Len()); got.Received != queued+got.DroppedTotal() {
		t.Errorf("received %d != queued %d + dropped %d", got.Received, queued, got.DroppedTotal())
	}
}

// TestOpenClose: Open samples in the background until Close, which waits
// for the loop: nothing is offered after it. Interval 0 starts no loop.
func TestOpenClose(t *testing.T) {
	off := NewSampler(codec.NewQueue(1))
	off.Interval = 0
	off.Open()
	off.Close()

	q := codec.NewQueue(1000)
	s, _ := fixtureSampler(filepath.Join("testdata", "cgroup2"))
	s.Now = time.Now
	s.out = q
	s.Interval = time.Millisecond
	s.Open()
	closeOnce := sync.OnceFunc(func() { s.Close() })
	defer closeOnce() // also when the wait fails
	poll.Until(t, "2 samples queued at a 1 ms interval", 10*time.Second, func() bool { return q.Len() >= 2 })
	closeOnce()
	q.Close() // an offer after Close would now count as shutdown
	if c := s.Counters.Load(); c.Received != int64(q.Len()) || c.DroppedTotal() != 0 {
		t.Errorf("counts %+v, %d queued; want every sample queued, none after Close", c, q.Len())
	}
}

func TestRunDisabled(t *testing.T) {
	s := NewSampler(nil)
	s.Interval = 0
	done := make(chan struct{})
	go func() { s.Run(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Run with Interval 0 did not return")
	}
}

// TestSampleRealMachine samples this machine through the default roots and
// checks the figures are plausible.
func TestSampleRealMachine(t *testing.T) {
	s := NewSampler(nil)
	s.DiskPath = t.TempDir()
	st, err := s.detect()
	if err != nil {
		t.Fatal(err)
	}
	s.st = st
	// The source's own counters read before the first sample and after
	// the second bound the I/O the second sample may report.
	before, _ := s.read()
	if _, err := s.Sample(); err != nil {
		t.Fatal(err)
	}
	busy := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(busy) {
	}
	m, err := s.Sample()
	if err != nil {
		t.Fatal(err)
	}
	after, _ := s.read()
	t.Logf("source %v, cpu %v%%, mem %v/%v rss %v, disk %v/%v (%v%%), io %v/%v, meta %v",
		m.Metadata["source"], val(m.CPUPercent), val(m.MemCurrent), val(m.MemLimit), val(m.MemRSS),
		val(m.DiskUsed), val(m.DiskTotal), val(m.DiskPercent), val(m.IOReadBytes), val(m.IOWriteBytes), m.Metadata)
	if m.CPUPercent == nil || *m.CPUPercent < 0 || *m.CPUPercent > 100*float64(runtime.NumCPU())+1 {
		t.Errorf("CPUPercent = %v, want 0..%d", val(m.CPUPercent), 100*runtime.NumCPU())
	}
	if m.MemCurrent == nil || *m.MemCurrent <= 0 || m.MemLimit == nil || *m.MemLimit <= 0 {
		t.Errorf("memory = %v/%v, want > 0", val(m.MemCurrent), val(m.MemLimit))
	}
	if m.DiskTotal == nil || *m.DiskTotal <= 0 || *m.DiskPercent < 0 || *m.DiskPercent > 100 {
		t.Errorf("disk = %v (%v%%), want total > 0, 0..100%%", val(m.DiskTotal), val(m.DiskPercent))
	}
	checkRealIO(t, m, before, after)
}

// checkRealIO: when the source reads I/O counters, the second sample has
// both deltas, and each is at most what the counters grew by around the
// two samples: a total instead of a delta, or a read and write swapped on
// a busy disk, would exceed it.
func checkRealIO(t *testing.T, m *codec.Metric, before, after reading) {
	t.Helper()
	if !before.ioOK || !after.ioOK {
		t.Logf("source %v reads no I/O counters here", m.Metadata["source"])
		return
	}
	if after.ioRead < before.ioRead || after.ioWrite < before.ioWrite {
		t.Skipf("I/O counters went backwards during the test (%d→%d, %d→%d)", before.ioRead, after.ioRead, before.ioWrite, after.ioWrite)
	}
	if m.IOReadBytes == nil || m.IOWriteBytes == nil {
		t.Fatalf("io = %v/%v, want both set: the source read I/O counters", val(m.IOReadBytes), val(m.IOWriteBytes))
	}
	maxRead, maxWrite := int64(after.ioRead-before.ioRead), int64(after.ioWrite-before.ioWrite)
	if *m.IOReadBytes > maxRead || *m.IOWriteBytes > maxWrite {
		t.Errorf("io = %d/%d bytes, want at most %d/%d (the counters' growth during the test; totals are %d/%d)",
			*m.IOReadBytes, *m.IOWriteBytes, maxRead, maxWrite, after.ioRead, after.ioWrite)
	}
}

func val[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// BenchmarkSample: the cost of one reading of this machine.
func BenchmarkSample(b *testing.B) {
	s := NewSampler(nil)
	s.DiskPath = b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sample(); err != nil {
			b.Fatal(err)
		}
	}
}
