package usage

import (
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/openclaw/openclaw-trace/codec"
)

// DefaultMaxLabelSets is the cap on each family's label sets. A label set
// whose calls fill every family is ~35 lines of /metrics (two histograms
// are 27 of them), so 200 is at most ~7,000 series, a ~1.1 MB scrape and
// ~0.7 MB of heap (BenchmarkSeriesScrape); a gateway's provider × model ×
// agent × channel × trigger combinations are usually a few dozen.
const DefaultMaxLabelSets = 200

// key is a call's labels, clipped.
type key struct{ provider, model, agent, channel, trigger string }

var otherKey = key{Other, Other, Other, Other, Other}

func keyOf(t *codec.Trace) key {
	return key{clip(t.Provider), clip(t.Model), clip(t.AgentID), clip(t.Channel), clip(t.Trigger)}
}

// labels is the key as the inside of a label set.
func (k key) labels() string {
	var b strings.Builder
	writePairs(&b, "provider", k.provider, "model", k.model, "agent", k.agent, "channel", k.channel, "trigger", k.trigger)
	return b.String()
}

// calls are the series of one label set. Families a call may never need
// (a token kind, cost, the histograms) are registered on first use.
type calls struct {
	labels    string
	calls     *vm.Counter
	tokens    [numKinds]*vm.Counter
	costNanos int64 // exact sum; cost shows it in USD
	cost      *vm.FloatCounter
	unpriced  *vm.Counter
	latency   *vm.PrometheusHistogram
	ttft      *vm.PrometheusHistogram
}

type failKey struct {
	key
	code string
}

// Series holds the usage series of committed calls. Add is the writer's
// Committed hook; WritePrometheus writes the series for /metrics.
type Series struct {
	max  int
	sets [numFamilies]*vm.Set // one a family, so each is written whole under its HELP and TYPE

	mu     sync.Mutex
	calls  map[key]*calls
	failed map[failKey]*vm.Counter

	folded, foldedFailed *vm.Counter
	nCalls, nFailed      atomic.Int64 // label sets held, for the gauge
}

// NewSeries returns empty series holding at most maxLabelSets label sets
// a family (at least 1), "other" included.
func NewSeries(maxLabelSets int) *Series {
	s := &Series{max: max(maxLabelSets, 1), calls: map[key]*calls{}, failed: map[failKey]*vm.Counter{}}
	for i := range s.sets {
		s.sets[i] = vm.NewSet()
	}
	s.folded = s.sets[famFolded].NewCounter(FoldedName + Labels("series", "calls"))
	s.foldedFailed = s.sets[famFolded].NewCounter(FoldedName + Labels("series", "failed_calls"))
	s.sets[famLabelSets].NewGauge(LabelSetsName+Labels("series", "calls"), func() float64 { return float64(s.nCalls.Load()) })
	s.sets[famLabelSets].NewGauge(LabelSetsName+Labels("series", "failed_calls"), func() float64 { return float64(s.nFailed.Load()) })
	s.sets[famLabelLimit].NewGauge(LabelLimitName, func() float64 { return float64(s.max) })
	return s
}

// Add counts the calls among evs: it is the writer's Committed hook. Its
// own lock is one a scrape never takes; registering a label set's series
// (once) takes the library's, which a scrape holds while it sorts at most
// a cap's worth of them. It never waits on I/O.
func (s *Series) Add(evs []codec.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range evs {
		if t := evs[i].Trace; t != nil {
			s.add(t)
		}
	}
}

func (s *Series) add(t *codec.Trace) {
	c, k := s.callsOf(keyOf(t))
	c.calls.Inc()
	for kind, n := range [numKinds]*int64{t.PromptTokens, t.CompletionTokens, t.CacheReadTokens, t.CacheWriteTokens, t.ReasoningTokens} {
		if n != nil && *n > 0 {
			c.tokenCounter(s.sets[famTokens], kind).AddInt64(*n)
		}
	}
	if t.CostUSD != nil {
		if c.cost == nil {
			c.cost = s.sets[famCost].NewFloatCounter(CostName + "{" + c.labels + "}")
		}
		c.costNanos = addSat(c.costNanos, nanos(*t.CostUSD))
		c.cost.Set(float64(c.costNanos) / 1e9)
	} else {
		if c.unpriced == nil {
			c.unpriced = s.sets[famUnpriced].NewCounter(UnpricedName + "{" + c.labels + "}")
		}
		c.unpriced.Inc()
	}
	if t.LatencyMS != nil {
		if c.latency == nil {
			c.latency = s.sets[famLatency].NewPrometheusHistogramExt(LatencyName+"{"+c.labels+"}", LatencyBuckets)
		}
		c.latency.Update(float64(*t.LatencyMS) / 1000)
	}
	if t.TTFTMS != nil {
		if c.ttft == nil {
			c.ttft = s.sets[famTTFT].NewPrometheusHistogramExt(TTFTName+"{"+c.labels+"}", TTFTBuckets)
		}
		c.ttft.Update(float64(*t.TTFTMS) / 1000)
	}
	if t.Status != "ok" {
		s.failedOf(k, t).Inc()
	}
}

// callsOf returns the series of k and k, or, when the table is full and
// k is not in it, those of the "other" label set and otherKey. The table
// keeps one of its max places for "other".
func (s *Series) callsOf(k key) (*calls, key) {
	if c := s.calls[k]; c != nil {
		return c, k
	}
	if len(s.calls) >= s.max-1 && k != otherKey {
		s.folded.Inc()
		k = otherKey
		if c := s.calls[k]; c != nil {
			return c, k
		}
	}
	c := &calls{labels: k.labels()}
	c.calls = s.sets[famCalls].NewCounter(CallsName + "{" + c.labels + "}")
	s.calls[k] = c
	s.nCalls.Store(int64(len(s.calls)))
	return c, k
}

// failedOf returns the failed-calls counter of the label set k (the one
// the call was counted under) and t's code, or the "other" one when that
// table is full.
func (s *Series) failedOf(k key, t *codec.Trace) *vm.Counter {
	code := t.Status
	if t.ErrorType != nil && *t.ErrorType != "" {
		code = clip(*t.ErrorType)
	}
	fk := failKey{k, code}
	if n := s.failed[fk]; n != nil {
		return n
	}
	if other := (failKey{otherKey, Other}); len(s.failed) >= s.max-1 && fk != other {
		s.foldedFailed.Inc()
		fk = other
		if n := s.failed[fk]; n != nil {
			return n
		}
	}
	var b strings.Builder
	b.WriteString(fk.labels())
	b.WriteByte(',')
	writePairs(&b, "code", fk.code)
	n := s.sets[famFailed].NewCounter(FailedName + "{" + b.String() + "}")
	s.failed[fk] = n
	s.nFailed.Store(int64(len(s.failed)))
	return n
}

func (c *calls) tokenCounter(set *vm.Set, kind int) *vm.Counter {
	if c.tokens[kind] == nil {
		c.tokens[kind] = set.NewCounter(TokensName + "{" + c.labels + `,kind="` + kindNames[kind] + `"}`)
	}
	return c.tokens[kind]
}

// WritePrometheus writes every family that has series in the text
// format: its HELP and TYPE lines, then its samples, sorted, as the
// metrics library writes them.
func (s *Series) WritePrometheus(w io.Writer) {
	for i, set := range s.sets {
		f := &Families[i]
		set.WritePrometheus(&headed{w: w, header: Header(f.Name, f.Type, f.Help)})
	}
}

// nanos is usd in whole nano-dollars, bounded so a sum of them is too.
func nanos(usd float64) int64 {
	return int64(math.Round(min(usd, math.MaxInt64/1e9) * 1e9))
}

// addSat adds without wrapping past MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
