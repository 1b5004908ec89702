package budget

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

// Tracker follows the spend of each budget in its current window, in
// memory: Committed adds the calls the writer commits, Restore what the
// database held at start, and Doc answers from memory. A call counts in
// the window its created_at falls in (the day rollups count it in), once,
// when committed; spend is summed in whole nano-dollars.
type Tracker struct {
	// Now is the clock windows roll over by. OnAlert is told of each
	// threshold crossed, once per budget and window, outside the lock; it
	// must not block (Committed runs on the writer's goroutine).
	Now     func() time.Time
	OnAlert func(Alert)

	// Late counts calls dated before their budget's current window (its
	// earlier window is over: they change nothing); Beyond, calls dated
	// past the next maxAhead windows, which are not kept.
	Late, Beyond atomic.Int64

	loc  *time.Location
	warn []int

	mu      sync.Mutex
	budgets []*tracked
}

// maxAhead bounds the later windows a budget keeps calls for (a sender's
// clock ahead of ours): they count once that window begins.
const maxAhead = 4

// NewTracker returns a Tracker of specs, whose windows are in loc (nil is
// UTC), warning at the percentages warn (ParseWarn) and at 100%.
func NewTracker(specs []Spec, warn []int, loc *time.Location) *Tracker {
	if loc == nil {
		loc = time.UTC
	}
	t := &Tracker{Now: time.Now, loc: loc, warn: warn}
	pcts := append(append([]int{}, warn...), 100)
	for _, sp := range specs {
		b := &tracked{spec: sp, pcts: pcts, ahead: map[int64]*sums{}}
		for _, p := range pcts {
			// ceil(limit × p / 100); limit ≤ MaxLimit keeps it in range.
			b.thresholds = append(b.thresholds, (sp.Limit*int64(p)+99)/100)
		}
		t.budgets = append(t.budgets, b)
	}
	return t
}

// Len is the number of budgets.
func (t *Tracker) Len() int { return len(t.budgets) }

// Location is the zone of the windows.
func (t *Tracker) Location() *time.Location { return t.loc }

// sums is what a budget counts of its calls.
type sums struct {
	spent    int64 // nano-dollars of the priced calls
	calls    int64
	unpriced int64 // calls without a price: spent is a lower bound
}

// add counts t as the rollups do: a failed call that reported no usage
// (no_usage) is a call, neither priced nor unpriced: nothing was billed.
func (s *sums) add(t *codec.Trace) {
	s.calls++
	if t.CostUSD != nil {
		s.spent += store.CostNanos(*t.CostUSD)
	} else if t.CostSource != codec.CostNoUsage {
		s.unpriced++
	}
}

// tracked is one budget's state.
type tracked struct {
	spec       Spec
	pcts       []int   // alert thresholds: the warnings, then 100
	thresholds []int64 // pcts of the limit, in nano-dollars
	start, end int64   // the current window, unix ms [start, end)
	startDay   string  // its first date and the date after it, as rollups
	endDay     string  // label days (YYYY-MM-DD)
	sums
	// incomplete: the window holds calls Restore could not count (a
	// session's calls past raw retention, a rollup overflow row).
	incomplete bool
	alerted    uint64          // bit i: pcts[i] alerted in this window
	ahead      map[int64]*sums // calls dated in later windows, by window start
}

// setWindow makes the window that holds now current, when it is not.
func (b *tracked) setWindow(now int64, loc *time.Location) {
	if b.start != 0 && now >= b.start && now < b.end {
		return
	}
	s, e := b.spec.Window.Bounds(time.UnixMilli(now), loc)
	if b.start != 0 && s.UnixMilli() < b.start && b.sums != (sums{}) {
		b.ahead[b.start] = &sums{b.spent, b.calls, b.unpriced} // the clock went back
	}
	b.start, b.end = s.UnixMilli(), e.UnixMilli()
	b.startDay, b.endDay = s.Format(time.DateOnly), e.Format(time.DateOnly)
	b.sums, b.incomplete, b.alerted = sums{}, false, 0
	if a := b.ahead[b.start]; a != nil {
		b.sums = *a
	}
	for k := range b.ahead {
		if k <= b.start {
			delete(b.ahead, k)
		}
	}
}

// later returns the sums of the later window that holds at, nil when
// maxAhead windows are kept already.
func (b *tracked) later(at int64, loc *time.Location) *sums {
	s, _ := b.spec.Window.Bounds(time.UnixMilli(at), loc)
	k := s.UnixMilli()
	if a := b.ahead[k]; a != nil {
		return a
	}
	if len(b.ahead) >= maxAhead {
		return nil
	}
	a := &sums{}
	b.ahead[k] = a
	return a
}

// Committed adds the calls of evs, which the writer just committed, to
// the budgets whose scope they are in, and raises the alerts they cause.
// It is the writer's Committed hook: cheap, never blocking.
func (t *Tracker) Committed(evs []codec.Event) {
	t.mu.Lock()
	now := t.Now().UnixMilli()
	for _, b := range t.budgets {
		b.setWindow(now, t.loc)
	}
	for i := range evs {
		if tr := evs[i].Trace; tr != nil {
			t.addLocked(tr)
		}
	}
	alerts := t.checkLocked(now)
	t.mu.Unlock()
	t.raise(alerts)
}

func (t *Tracker) addLocked(tr *codec.Trace) {
	for _, b := range t.budgets {
		if !b.spec.Matches(tr) {
			continue
		}
		switch at := tr.CreatedAt; {
		case at >= b.start && at < b.end:
			b.sums.add(tr)
		case at < b.start:
			t.Late.Add(1)
		default:
			if a := b.later(at, t.loc); a != nil {
				a.add(tr)
			} else {
				t.Beyond.Add(1)
			}
		}
	}
}

// checkLocked returns an alert for each threshold crossed and not yet
// alerted in its window, lowest first, and marks it alerted.
func (t *Tracker) checkLocked(now int64) []Alert {
	var alerts []Alert
	for _, b := range t.budgets {
		for i, thr := range b.thresholds {
			if b.spent >= thr && b.alerted&(1<<i) == 0 {
				b.alerted |= 1 << i
				alerts = append(alerts, Alert{Status: t.statusLocked(b), ThresholdPct: b.pcts[i], At: now, Zone: t.loc})
			}
		}
	}
	return alerts
}

func (t *Tracker) raise(alerts []Alert) {
	if t.OnAlert == nil {
		return
	}
	for _, a := range alerts {
		t.OnAlert(a)
	}
}

// Check rolls the windows over to now and raises the alerts of thresholds
// crossed and not yet alerted: after Restore, and on each read.
func (t *Tracker) Check() {
	t.mu.Lock()
	now := t.Now().UnixMilli()
	for _, b := range t.budgets {
		b.setWindow(now, t.loc)
	}
	alerts := t.checkLocked(now)
	t.mu.Unlock()
	t.raise(alerts)
}
