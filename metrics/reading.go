package metrics

// reading is one raw read of a source: cumulative counters and current
// levels, before the sampler turns counters into per-interval figures.
type reading struct {
	cpuOK    bool
	cpuBusy  float64 // CPU seconds used, cumulative
	cpuTotal float64 // host only: CPU seconds elapsed over all cores, cumulative
	cores    float64 // what 100% CPU means, in cores (quota, cpuset or host CPUs)

	memCurrent *int64
	memLimit   *int64
	memRSS     *int64
	memLimited bool // memLimit is a cgroup limit, not the host's total

	ioOK    bool
	ioRead  uint64 // bytes, cumulative
	ioWrite uint64
}

// limitCores narrows the CPU capacity: a quota or cpuset below what is
// already known (0 = nothing known yet) wins.
func (r *reading) limitCores(c float64) {
	if c > 0 && (r.cores == 0 || c < r.cores) {
		r.cores = c
	}
}

// setMemLimit records the memory limit. Limit 0, a huge value (how v1
// says unlimited) or at least the host's total means unlimited, and the
// host's total is used.
func (r *reading) setMemLimit(limit, hostTotal uint64) {
	if limit == 0 || limit >= 1<<62 || (hostTotal > 0 && limit >= hostTotal) {
		r.memLimit = nil
		if hostTotal > 0 {
			r.memLimit = i64(hostTotal)
		}
		r.memLimited = false
		return
	}
	r.memLimit = i64(limit)
	r.memLimited = true
}

func i64(v uint64) *int64 {
	n := int64(v)
	return &n
}
