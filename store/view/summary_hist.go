package view

import (
	"math/bits"
	"slices"
)

// hist holds the first histSamples values exactly (percentiles of small
// groups are exact); past that it is a log-linear histogram of non-negative integers (milliseconds):
// exact below 256, then 128 buckets per power of two, so a percentile read
// from it is within 1/256 (0.4%) of the true one. Its size is bounded by
// the largest value (26 KB for an hour), not by the number of rows, so a
// summary of a million calls needs no million-element sort.
type hist struct {
	samples []int64 // exact values, until there are more than histSamples
	counts  []uint64
	n       int64
}

const histSamples = 1024

const (
	histExact = 256
	histSub   = histExact / 2 // buckets per power of two above histExact
)

func histIndex(v int64) int {
	if v < histExact {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - 8 // v>>shift is in [128, 256)
	return histExact + (shift-1)*histSub + int(v>>shift) - histSub
}

// histValue is the middle of bucket i, in whole milliseconds.
func histValue(i int) float64 {
	if i < histExact {
		return float64(i)
	}
	shift := (i-histExact)/histSub + 1
	lo := int64((i-histExact)%histSub+histSub) << shift
	return float64(lo + (int64(1)<<shift-1)/2)
}

func (h *hist) add(v int64) {
	if v < 0 {
		return
	}
	if h.counts == nil && len(h.samples) < histSamples {
		h.samples = append(h.samples, v)
		h.n++
		return
	}
	if h.samples != nil {
		h.spill()
	}
	h.count(v)
	h.n++
}

// addN adds n values v at once (a bucket of a rollup's digest).
func (h *hist) addN(v, n int64) {
	if v < 0 || n <= 0 {
		return
	}
	if h.counts == nil && int64(len(h.samples))+n <= histSamples {
		for range n {
			h.samples = append(h.samples, v)
		}
		h.n += n
		return
	}
	if h.samples != nil {
		h.spill()
	}
	h.count(v)
	h.counts[histIndex(v)] += uint64(n - 1)
	h.n += n
}

// spill moves the exact samples into the buckets.
func (h *hist) spill() {
	for _, s := range h.samples {
		h.count(s)
	}
	h.samples = nil
}

func (h *hist) count(v int64) {
	i := histIndex(v)
	if i >= len(h.counts) {
		grown := make([]uint64, i+1, max(i+1, 2*len(h.counts)))
		copy(grown, h.counts)
		h.counts = grown
	}
	h.counts[i]++
}

// quantile is the value at rank ceil(q·n) (nearest rank), nil when empty.
func (h *hist) quantile(q float64) *float64 {
	if h.n == 0 {
		return nil
	}
	rank := int64(q*float64(h.n) + 0.999999999)
	rank = min(max(rank, 1), h.n)
	if h.counts == nil {
		sorted := slices.Clone(h.samples)
		slices.Sort(sorted)
		v := float64(sorted[rank-1])
		return &v
	}
	var seen int64
	for i, c := range h.counts {
		seen += int64(c)
		if seen >= rank {
			v := histValue(i)
			return &v
		}
	}
	return nil
}

func (h *hist) merge(o *hist) {
	if h.counts == nil && o.counts == nil && len(h.samples)+len(o.samples) <= histSamples {
		h.samples = append(h.samples, o.samples...)
		h.n += o.n
		return
	}
	if h.samples != nil {
		h.spill()
	}
	for _, s := range o.samples {
		h.count(s)
	}
	if h.counts == nil {
		h.counts = []uint64{}
	}
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]uint64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}
