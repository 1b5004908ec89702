package view

import (
	"slices"
	"strings"
	"time"

	"github.com/openclaw/openclaw-trace/store"
)

// The aggregator folds calls, from raw rows (scan.go) and daily rollups
// (rollup_scan.go), into groupings: one Stats per key of each. A summary
// has one grouping per table it shows; a breakdown (report --by) one of
// several dimensions.

// window is the span every aggregator of one summary shares.
type window struct {
	since, until int64 // unix ms, [since, until)
	bucketMS     int64 // series bucket; 0: no series
	loc          *time.Location
}

// grouping adds calls up by the key its dimensions make.
type grouping struct {
	dims []Dim
	// pos holds, per dimension, where its parts are among the names read.
	pos [][]int
	// period is the dimension that comes from the call's time (DimDay or
	// DimHour), numDims when none does.
	period Dim
	m      map[string]*Stats
	// skipRollups leaves out calls read from rollups (the summary's top
	// sessions: rollups know no session); keys labels groups with Keys.
	skipRollups, keys bool
}

// aggregator folds calls into groupings, the totals, a time series and
// the newest failed calls.
type aggregator struct {
	w         *window
	parts     []part // the names read of each call, in order
	groupings []*grouping
	fine      map[string]*fine // by the names read, joined
	totals    Stats
	timed     bool // some grouping has a period

	series       []Point
	seriesCost   []int64
	seriesPriced []bool
	recent       []RecentError
	maxRecent    int
	modelPos     int // where the model name is among the names; -1: not read

	days  store.Days
	hours hours
}

// fine is one combination of names: the groups its calls add to,
// resolved once.
type fine struct {
	names []string
	flat  []*Stats            // per grouping without a period
	timed []map[string]*Stats // per grouping with one, by period label
}

// newAggregator returns an aggregator for groupings of dims, which reads
// every part they need (and the model, for recent errors, when recent >
// 0); buckets > 0 keeps a series.
func newAggregator(w *window, groupings [][]Dim, buckets, recent int) *aggregator {
	a := &aggregator{w: w, fine: map[string]*fine{}, maxRecent: recent, modelPos: -1,
		days: store.Days{Location: w.loc}, hours: hours{loc: w.loc}}
	need := [numParts]bool{}
	for _, dims := range groupings {
		for _, d := range dims {
			for _, p := range dimParts[d] {
				need[p] = true
			}
		}
	}
	if recent > 0 {
		need[pModel] = true
	}
	at := [numParts]int{}
	for p := range numParts {
		if need[p] {
			at[p] = len(a.parts)
			a.parts = append(a.parts, p)
		}
	}
	if need[pModel] {
		a.modelPos = at[pModel]
	}
	for _, dims := range groupings {
		g := &grouping{dims: dims, period: numDims, m: map[string]*Stats{}}
		for _, d := range dims {
			var pos []int
			for _, p := range dimParts[d] {
				pos = append(pos, at[p])
			}
			g.pos = append(g.pos, pos)
			if d == DimDay || d == DimHour {
				g.period, a.timed = d, true
			}
		}
		a.groupings = append(a.groupings, g)
	}
	if buckets > 0 {
		a.series, a.seriesCost, a.seriesPriced = make([]Point, buckets), make([]int64, buckets), make([]bool, buckets)
		for i := range a.series {
			a.series[i].Start = w.since + int64(i)*w.bucketMS
		}
	}
	return a
}

const nameSep = "\x1f"

// fineFor returns the fine of the names joined in key.
func (a *aggregator) fineFor(key string) *fine {
	f := a.fine[key]
	if f == nil {
		names := strings.Split(key, nameSep)
		for len(names) < len(a.parts) {
			names = append(names, "")
		}
		f = &fine{names: names, flat: make([]*Stats, len(a.groupings)), timed: make([]map[string]*Stats, len(a.groupings))}
		for i, g := range a.groupings {
			if g.period == numDims {
				f.flat[i] = g.stats(names, "")
			} else {
				f.timed[i] = map[string]*Stats{}
			}
		}
		a.fine[key] = f
	}
	return f
}

// stats returns the group of the names and period label, made on first use.
func (g *grouping) stats(names []string, label string) *Stats {
	var b strings.Builder
	for i, d := range g.dims {
		if i > 0 {
			b.WriteString(nameSep)
		}
		if d == g.period {
			b.WriteString(label)
			continue
		}
		for j, p := range g.pos[i] {
			if j > 0 {
				b.WriteString(nameSep)
			}
			b.WriteString(names[p])
		}
	}
	key := b.String()
	st := g.m[key]
	if st == nil {
		st = &Stats{}
		for i, d := range g.dims {
			if d == g.period {
				st.vals = append(st.vals, label)
				st.period = label
				continue
			}
			for _, p := range g.pos[i] {
				st.vals = append(st.vals, names[p])
			}
		}
		g.m[key] = st
	}
	return st
}

// statsAt returns the group of grouping i that f's calls of the day and
// hour labels add to.
func (a *aggregator) statsAt(f *fine, i int, day, hour string) *Stats {
	if st := f.flat[i]; st != nil {
		return st
	}
	label := day
	if a.groupings[i].period == DimHour {
		label = hour
	}
	st := f.timed[i][label]
	if st == nil {
		st = a.groupings[i].stats(f.names, label)
		f.timed[i][label] = st
	}
	return st
}

// addRecent keeps the newest maxRecent errors, newest first.
func (a *aggregator) addRecent(e RecentError) {
	if a.maxRecent <= 0 || len(a.recent) == a.maxRecent && e.At <= a.recent[len(a.recent)-1].At {
		return
	}
	i, _ := slices.BinarySearchFunc(a.recent, e.At, func(r RecentError, at int64) int {
		switch {
		case r.At > at:
			return -1
		case r.At < at:
			return 1
		}
		return 0
	})
	a.recent = slices.Insert(a.recent, i, e)
	if len(a.recent) > a.maxRecent {
		a.recent = a.recent[:a.maxRecent]
	}
}

// bucket is the series point of unix ms at, -1 when outside.
func (a *aggregator) bucket(at int64) int {
	if a.series == nil {
		return -1
	}
	i := (at - a.w.since) / a.w.bucketMS
	if i < 0 || int(i) >= len(a.series) {
		return -1
	}
	return int(i)
}

// hours tells the hour of the zone's clock an instant falls in, like
// store.Days for days.
type hours struct {
	loc        *time.Location
	start, end int64
	label      string
}

func (h *hours) hour(at int64) string {
	if h.label != "" && at >= h.start && at < h.end {
		return h.label
	}
	t := time.UnixMilli(at).In(h.loc)
	_, off := t.Zone()
	hourMS := int64(time.Hour / time.Millisecond)
	h.start = at - ((at+int64(off)*1000)%hourMS+hourMS)%hourMS
	h.end = h.start + hourMS
	h.label = time.UnixMilli(h.start).In(h.loc).Format("2006-01-02 15:00")
	return h.label
}
