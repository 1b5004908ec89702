package store

import (
	"math"
	"math/bits"
	"strconv"
)

// A rollup counts the latencies (and times to first token) of its calls
// in LatencyBuckets fixed buckets: [0, 16) ms, then two buckets per power
// of two (bounds 16, 23, 32, 46, 64, … ms: each √2 wider than the one
// before) up to 262,144 ms, and one bucket above. A percentile read from
// them is the bucket's geometric middle: within 20% of the true value,
// enough for p50 and p95 of days gone by. Each bucket is a column, so a
// writer adds to a rollup with one upsert and no read.
const LatencyBuckets = 30

// latencyFloor is the lower bound of bucket 1.
const latencyFloor = 16

// LatencyBucket is the bucket of a latency of ms milliseconds (≥ 0).
func LatencyBucket(ms int64) int {
	if ms < latencyFloor {
		return 0
	}
	b := bits.Len64(uint64(ms)) - 1 // ms is in [2^b, 2^(b+1))
	i := 2*(b-4) + 1
	if hi, lo := bits.Mul64(uint64(ms), uint64(ms)); hi > 0 || lo >= 1<<(2*b+1) { // ms ≥ 2^b·√2
		i++
	}
	return min(i, LatencyBuckets-1)
}

// latencyLow is the lower bound of bucket i ≥ 1: the least ms it holds.
func latencyLow(i int) int64 {
	b := 4 + (i-1)/2
	if (i-1)%2 == 0 {
		return 1 << b
	}
	lo := int64(math.Ceil(math.Sqrt(float64(int64(1) << (2*b + 1)))))
	for (lo-1)*(lo-1) >= 1<<(2*b+1) { // the float root may land one above
		lo--
	}
	return lo
}

// LatencyBucketValue is the value a percentile that falls in bucket i
// reads as: the geometric middle of its bounds, in ms.
func LatencyBucketValue(i int) int64 {
	switch {
	case i <= 0:
		return latencyFloor / 2
	case i >= LatencyBuckets-1:
		return int64(math.Round(float64(latencyLow(LatencyBuckets-1)) * math.Sqrt(math.Sqrt2)))
	}
	return int64(math.Round(math.Sqrt(float64(latencyLow(i)) * float64(latencyLow(i+1)))))
}

// latencyColumns are the names of the bucket columns of one digest
// ("lat" or "ttft"): lat_0 … lat_29.
func latencyColumns(prefix string) []string {
	names := make([]string, LatencyBuckets)
	for i := range names {
		names[i] = prefix + "_" + strconv.Itoa(i)
	}
	return names
}
