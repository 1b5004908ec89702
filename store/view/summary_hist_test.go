package view

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHistExactBelow256(t *testing.T) {
	var h hist
	for v := int64(1); v <= 200; v++ {
		h.add(v)
	}
	for _, tt := range []struct{ q, want float64 }{{0.5, 100}, {0.95, 190}, {0.99, 198}, {1, 200}, {0.001, 1}} {
		if got := h.quantile(tt.q); got == nil || *got != tt.want {
			t.Errorf("q%v = %v, want %v", tt.q, got, tt.want)
		}
	}
	var empty hist
	if empty.quantile(0.5) != nil {
		t.Error("empty histogram has a quantile")
	}
}

// TestHistWithinBound compares against exact nearest-rank percentiles of
// random latencies up to an hour.
func TestHistWithinBound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h hist
	vals := make([]int64, 100000)
	for i := range vals {
		vals[i] = int64(r.ExpFloat64() * 2000)
		if i%100 == 0 {
			vals[i] = r.Int64N(3_600_000)
		}
		h.add(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999} {
		exact := float64(vals[int(math.Ceil(q*float64(len(vals))))-1])
		got := *h.quantile(q)
		if math.Abs(got-exact) > exact/256+1 {
			t.Errorf("q%v = %v, exact %v", q, got, exact)
		}
	}
	for v := int64(0); v < 1<<20; v += 997 {
		if lo := histValue(histIndex(v)); math.Abs(lo-float64(v)) > float64(v)/256+1 {
			t.Fatalf("value %d in bucket %d reads %v", v, histIndex(v), lo)
		}
	}
}

// TestHistSpillAndMerge: exact while small, a histogram past histSamples,
// and merging either kind gives the percentiles of all values.
func TestHistSpillAndMerge(t *testing.T) {
	var small, big, merged hist
	for v := int64(1); v <= 500; v++ {
		small.add(v * 3)
	}
	if got := *small.quantile(0.5); got != 750 {
		t.Errorf("exact p50 = %v, want 750", got)
	}
	for v := int64(1); v <= 3000; v++ {
		big.add(v)
	}
	if big.samples != nil || big.n != 3000 {
		t.Fatalf("did not spill: %d samples, n %d", len(big.samples), big.n)
	}
	merged.merge(&small)
	merged.merge(&big)
	if merged.n != 3500 {
		t.Fatalf("merged n %d", merged.n)
	}
	// nearest rank 1750 of {3,6,…,1500} ∪ {1,…,3000}
	var all []int64
	for v := int64(1); v <= 500; v++ {
		all = append(all, v*3)
	}
	for v := int64(1); v <= 3000; v++ {
		all = append(all, v)
	}
	slices.Sort(all)
	exact := float64(all[1749])
	if got := *merged.quantile(0.5); math.Abs(got-exact) > exact/256+1 {
		t.Errorf("merged p50 = %v, exact %v", got, exact)
	}
}
