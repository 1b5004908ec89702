// Package metrics samples the machine openclaw-trace runs on as the
// container sees it: CPU as a percent of the container's quota, memory
// against the container's limit, the DB volume's disk usage and I/O per
// interval. It reads cgroup v2, else cgroup v1, else the host's /proc, and
// says in each row's metadata which one it used, because the same number
// means different things under each (M-1, M-6 in the seeds' pitfalls).
package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// Defaults for NewSampler.
const (
	DefaultProcRoot   = "/proc"
	DefaultCgroupRoot = "/sys/fs/cgroup"
	DefaultInterval   = 15 * time.Second
)

// Sampler reads the system every Interval and sends one codec.Metric event
// per reading. Set the fields before the first Sample or Run.
type Sampler struct {
	ProcRoot   string
	CgroupRoot string
	DiskPath   string        // a path on the volume to measure (the DB's directory); "" skips disk
	Interval   time.Duration // 0 turns Run's loop off
	Now        func() time.Time
	Logger     *slog.Logger                         // nil discards
	DiskUsage  func(path string) (DiskUsage, error) // Statfs unless tests inject one

	// Counters is the accounting of the samples offered: a unit and an
	// event each, dropped as queue_full or shutdown when the queue refuses
	// it. The priming reading is never offered, so it is not counted.
	// Errors counts readings with at least one failed part.
	Counters codec.Counters
	Errors   atomic.Int64

	out    Sink
	cancel context.CancelFunc // stops the loop Open started
	wg     sync.WaitGroup

	mu   sync.Mutex // guards st and prev: Sample may be called while Run runs
	st   *state
	prev *snapshot // the previous reading; nil until primed
}

// state is what detection found; built on the first Sample so that the
// fields set after NewSampler count.
type state struct {
	host   *host
	layout layout
}

type snapshot struct {
	r  reading
	at time.Time
}

// Sink takes events without blocking: *codec.Queue in the daemon.
type Sink interface {
	Offer(evs ...codec.Event) error
}

// NewSampler returns a Sampler offering to out, with default roots and interval.
func NewSampler(out Sink) *Sampler {
	return &Sampler{
		ProcRoot:   DefaultProcRoot,
		CgroupRoot: DefaultCgroupRoot,
		Interval:   DefaultInterval,
		Now:        time.Now,
		DiskUsage:  Statfs,
		out:        out,
	}
}

// Open runs Run in the background until Close; Interval 0 starts nothing.
func (s *Sampler) Open() {
	if s.Interval <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Go(func() { s.Run(ctx) })
}

// Close stops the loop Open started and waits for it: no sample is
// offered after it returns.
func (s *Sampler) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

// Run samples every Interval until ctx is done. The first reading only
// primes the counters and is not sent, so no row carries a CPU percent
// measured against zero. Interval 0 returns at once.
func (s *Sampler) Run(ctx context.Context) {
	if s.Interval <= 0 {
		return
	}
	if _, err := s.Sample(); err != nil {
		s.logger().Warn("metrics: prime sample", "err", err)
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sampleAndSend()
		}
	}
}

func (s *Sampler) sampleAndSend() {
	m, err := s.Sample()
	if err != nil {
		s.Errors.Add(1)
		s.logger().Warn("metrics: sample", "err", err)
	}
	if m == nil {
		return
	}
	s.Counters.Units.Add(1)
	// Offer never blocks the sampler on a slow writer; a drop is counted.
	s.Counters.Offered(1, s.out.Offer(codec.NewEvent(codec.Sampler, m)))
}

func (s *Sampler) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Sampler) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s.Logger
}

// Sample takes one reading. The first call only primes the counters: its
// metric has CPUPercent, IOReadBytes and IOWriteBytes nil (memory and disk
// are set). A part that fails leaves its fields nil and its error joined in
// err; m is nil only when nothing at all could be read.
func (s *Sampler) Sample() (m *codec.Metric, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		if s.st, err = s.detect(); err != nil && s.st == nil {
			return nil, err
		}
	}
	now := s.now()
	r, rerr := s.read()
	m = &codec.Metric{CreatedAt: now.UnixMilli(), Metadata: s.metadata(r)}
	m.MemCurrent, m.MemLimit, m.MemRSS = r.memCurrent, r.memLimit, r.memRSS
	s.setDeltas(m, r, now)
	derr := s.setDisk(m)
	if err = errors.Join(err, rerr, derr); err != nil && m.MemCurrent == nil &&
		m.DiskTotal == nil && !r.cpuOK && !r.ioOK {
		return nil, err
	}
	return m, err
}

// detect opens ProcRoot and finds the source. An error finding our own
// cgroup is returned with a usable state (pointing at the root).
func (s *Sampler) detect() (*state, error) {
	h, err := newHost(s.ProcRoot)
	if err != nil {
		return nil, err
	}
	l, err := detect(h.fs, s.CgroupRoot)
	return &state{host: h, layout: l}, err
}

func (s *Sampler) read() (reading, error) {
	switch s.st.layout.source {
	case SourceCgroup2:
		return readCgroup2(s.st.layout, s.st.host)
	case SourceCgroup1:
		return readCgroup1(s.st.layout, s.st.host)
	}
	return readHost(s.st.host)
}

func (s *Sampler) metadata(r reading) map[string]any {
	md := map[string]any{"source": s.st.layout.source}
	if r.cpuOK {
		md["cpu_quota_cores"] = r.cores
	}
	if r.memLimit != nil {
		md["memory_limited"] = r.memLimited
	}
	return md
}

// setDeltas fills the per-interval fields from the previous reading and
// keeps r as the next one's base. A counter that went backwards (our cgroup
// was recreated, a device vanished) gives nil for this interval.
func (s *Sampler) setDeltas(m *codec.Metric, r reading, now time.Time) {
	prev := s.prev
	s.prev = &snapshot{r: r, at: now}
	if prev == nil {
		return
	}
	if r.cpuOK && prev.r.cpuOK {
		m.CPUPercent = cpuPercent(prev.r, r, now.Sub(prev.at))
	}
	if r.ioOK && prev.r.ioOK && r.ioRead >= prev.r.ioRead && r.ioWrite >= prev.r.ioWrite {
		m.IOReadBytes = i64(r.ioRead - prev.r.ioRead)
		m.IOWriteBytes = i64(r.ioWrite - prev.r.ioWrite)
	}
}

// cpuPercent is CPU time used over CPU time available, where available is
// the host's own tick total when known, else wall time × cores.
func cpuPercent(prev, cur reading, wall time.Duration) *float64 {
	busy := cur.cpuBusy - prev.cpuBusy
	avail := cur.cpuTotal - prev.cpuTotal
	if cur.cpuTotal == 0 {
		avail = wall.Seconds() * cur.cores
	}
	if busy < 0 || avail <= 0 {
		return nil
	}
	p := busy / avail * 100
	return &p
}

func (s *Sampler) setDisk(m *codec.Metric) error {
	if s.DiskPath == "" {
		return nil
	}
	usage := s.DiskUsage
	if usage == nil {
		usage = Statfs
	}
	d, err := usage(s.DiskPath)
	if err != nil {
		return fmt.Errorf("disk usage: %w", err)
	}
	pct := d.Percent()
	m.DiskTotal, m.DiskUsed, m.DiskFree, m.DiskPercent = &d.Total, &d.Used, &d.Free, &pct
	return nil
}
