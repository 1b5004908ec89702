package store

import "testing"

func TestLatencyBucket(t *testing.T) {
	for _, tc := range []struct {
		ms   int64
		want int
	}{
		{0, 0}, {15, 0}, {16, 1}, {22, 1}, {23, 2}, {31, 2}, {32, 3}, {45, 3}, {46, 4}, {64, 5},
		{1000, 12}, {1448, 13}, {1449, 14}, {262143, 28}, {262144, 29}, {1 << 40, 29}, {1<<63 - 1, 29},
	} {
		if got := LatencyBucket(tc.ms); got != tc.want {
			t.Errorf("LatencyBucket(%d) = %d, want %d", tc.ms, got, tc.want)
		}
	}
	// Buckets are contiguous: each lower bound is in its bucket and one
	// less is in the one before.
	for i := 1; i < LatencyBuckets; i++ {
		lo := latencyLow(i)
		if LatencyBucket(lo) != i || LatencyBucket(lo-1) != i-1 {
			t.Errorf("bucket %d starts at %d: %d is in %d, %d in %d", i, lo, lo, LatencyBucket(lo), lo-1, LatencyBucket(lo-1))
		}
	}
}

// The value a bucket reads as is inside it and within 20% of every value
// it holds (bucket 0 and the open last bucket aside).
func TestLatencyBucketValue(t *testing.T) {
	for i := 1; i < LatencyBuckets-1; i++ {
		v, lo, hi := LatencyBucketValue(i), latencyLow(i), latencyLow(i+1)-1
		if LatencyBucket(v) != i {
			t.Errorf("value %d of bucket %d is in bucket %d", v, i, LatencyBucket(v))
		}
		for _, x := range []int64{lo, hi} {
			if r := float64(v) / float64(x); r < 1/1.2 || r > 1.2 {
				t.Errorf("bucket %d [%d, %d]: value %d is %.2f× %d", i, lo, hi, v, r, x)
			}
		}
	}
	if v := LatencyBucketValue(LatencyBuckets - 1); LatencyBucket(v) != LatencyBuckets-1 {
		t.Errorf("last bucket reads as %d", v)
	}
}
