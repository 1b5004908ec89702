package otlp

import (
	"sort"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/openclaw/openclaw-trace/codec"
)

// Bucket boundaries the GenAI conventions (v1.41) give for the client
// histograms.
var (
	tokenBuckets = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144,
		1048576, 4194304, 16777216, 67108864}
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56,
		5.12, 10.24, 20.48, 40.96, 81.92}
)

func (e *Exporter) newMetrics() (pmetric.Metrics, pmetric.MetricSlice) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	e.putResource(rm.Resource().Attributes())
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(scopeName)
	return md, sm.Metrics()
}

// gauge is one metric of the samples: its name by the system and
// container conventions, unit, and the points it gets.
type gauge struct {
	m pmetric.Metric
}

func newGauge(ms pmetric.MetricSlice, name, unit, desc string) gauge {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(desc)
	m.SetEmptyGauge()
	return gauge{m}
}

func (g gauge) point(r *codec.Metric) pmetric.NumberDataPoint {
	dp := g.m.Gauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(msToTimestamp(r.CreatedAt))
	if src := metaString(r.Metadata, "source"); src != "" {
		dp.Attributes().PutStr("openclaw.metrics.source", src)
	}
	return dp
}

func (g gauge) int(r *codec.Metric, v *int64, attrs ...string) {
	if v != nil {
		dp := g.point(r)
		dp.SetIntValue(*v)
		putPairs(dp.Attributes(), attrs)
	}
}

func (g gauge) ratio(r *codec.Metric, pct *float64) {
	if pct != nil {
		g.point(r).SetDoubleValue(*pct / 100)
	}
}

func putPairs(a pcommon.Map, kv []string) {
	for i := 0; i+1 < len(kv); i += 2 {
		a.PutStr(kv[i], kv[i+1])
	}
}

// buildGauges maps system samples to gauges. Names follow the conventions:
// container.* where the sample came from a cgroup, system.* from the
// host; CPU is system.cpu.utilization (0–1) of what the agent may use
// (its cgroup quota when one is set). I/O is the bytes of the sample's
// interval, sent as system.disk.io points with disk.io.direction.
func (e *Exporter) buildGauges(rows []codec.Event) (pmetric.Metrics, int, int) {
	md, ms := e.newMetrics()
	cpu := newGauge(ms, "system.cpu.utilization", "1", "CPU used, as a fraction of the quota (cgroup) or of all CPUs (host)")
	memC := newGauge(ms, "container.memory.usage", "By", "memory charged to the container's cgroup")
	memH := newGauge(ms, "system.memory.usage", "By", "memory in use on the host")
	limit := newGauge(ms, "system.memory.limit", "By", "cgroup memory limit, or host total when unlimited")
	rss := newGauge(ms, "container.memory.rss", "By", "resident set of the container's processes")
	fsUse := newGauge(ms, "system.filesystem.usage", "By", "the database volume, used and free")
	fsLimit := newGauge(ms, "system.filesystem.limit", "By", "size of the database volume")
	fsUtil := newGauge(ms, "system.filesystem.utilization", "1", "used fraction of the database volume")
	diskIO := newGauge(ms, "system.disk.io", "By", "bytes read and written in the sample's interval")
	for i := range rows {
		r := rows[i].Metric
		cpu.ratio(r, r.CPUPercent)
		if strings.HasPrefix(metaString(r.Metadata, "source"), "cgroup") {
			memC.int(r, r.MemCurrent)
		} else {
			memH.int(r, r.MemCurrent, "system.memory.state", "used")
		}
		limit.int(r, r.MemLimit)
		rss.int(r, r.MemRSS)
		fsUse.int(r, r.DiskUsed, "system.filesystem.state", "used")
		fsUse.int(r, r.DiskFree, "system.filesystem.state", "free")
		fsLimit.int(r, r.DiskTotal)
		fsUtil.ratio(r, r.DiskPercent)
		diskIO.int(r, r.IOReadBytes, "disk.io.direction", "read")
		diskIO.int(r, r.IOWriteBytes, "disk.io.direction", "write")
	}
	// Metrics without a point are dropped: a receiver may reject them.
	ms.RemoveIf(func(m pmetric.Metric) bool { return m.Gauge().DataPoints().Len() == 0 })
	return md, len(rows), 0
}

// histKey is the attribute set of one histogram point.
type histKey struct {
	op, provider, model, respModel, tokenType, errType string
}

type hist struct {
	counts     []uint64
	sum        float64
	n          uint64
	start, end int64
	min, max   float64
}

func (h *hist) add(v float64, bounds []float64, at int64) {
	if h.counts == nil {
		h.counts = make([]uint64, len(bounds)+1)
		h.start, h.end, h.min, h.max = at, at, v, v
	}
	h.counts[sort.SearchFloat64s(bounds, v)]++ // buckets are (b[i-1], b[i]]
	h.sum += v
	h.n++
	h.start, h.end = min(h.start, at), max(h.end, at)
	h.min, h.max = min(h.min, v), max(h.max, v)
}

// buildHistograms aggregates trace rows into the conventions' client
// histograms gen_ai.client.token.usage and gen_ai.client.operation.duration,
// one delta point per attribute set over the rows of this request. Each
// row is counted once: the histograms keep their own position.
func (e *Exporter) buildHistograms(rows []codec.Event) (pmetric.Metrics, int, int) {
	tokens := map[histKey]*hist{}
	durations := map[histKey]*hist{}
	get := func(m map[histKey]*hist, k histKey) *hist {
		h := m[k]
		if h == nil {
			h = &hist{}
			m[k] = h
		}
		return h
	}
	for i := range rows {
		r := rows[i].Trace
		k := histKey{op: operationName(r.Metadata), provider: providerName(r.Provider), model: r.Model,
			respModel: responseModel(r)}
		if r.PromptTokens != nil {
			kt := k
			kt.tokenType = "input"
			get(tokens, kt).add(float64(*r.PromptTokens), tokenBuckets, r.CreatedAt)
		}
		if r.CompletionTokens != nil {
			kt := k
			kt.tokenType = "output"
			get(tokens, kt).add(float64(*r.CompletionTokens), tokenBuckets, r.CreatedAt)
		}
		if r.LatencyMS != nil {
			kd := k
			if failed(r) {
				kd.errType = errorType(r)
			}
			get(durations, kd).add(float64(*r.LatencyMS)/1000, durationBuckets, r.CreatedAt)
		}
	}
	md, ms := e.newMetrics()
	putHistogram(ms, "gen_ai.client.token.usage", "{token}", "Number of input and output tokens used", tokens, tokenBuckets)
	putHistogram(ms, "gen_ai.client.operation.duration", "s", "GenAI operation duration", durations, durationBuckets)
	return md, len(rows), 0
}

func putHistogram(ms pmetric.MetricSlice, name, unit, desc string, points map[histKey]*hist, bounds []float64) {
	if len(points) == 0 {
		return
	}
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(desc)
	h := m.SetEmptyHistogram()
	h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	for k, p := range points {
		dp := h.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(msToTimestamp(p.start))
		dp.SetTimestamp(msToTimestamp(p.end))
		dp.ExplicitBounds().FromRaw(bounds)
		dp.BucketCounts().FromRaw(p.counts)
		dp.SetCount(p.n)
		dp.SetSum(p.sum)
		dp.SetMin(p.min)
		dp.SetMax(p.max)
		a := dp.Attributes()
		a.PutStr("gen_ai.operation.name", k.op)
		a.PutStr("gen_ai.provider.name", k.provider)
		a.PutStr("gen_ai.request.model", k.model)
		a.PutStr("gen_ai.response.model", k.respModel)
		if k.tokenType != "" {
			a.PutStr("gen_ai.token.type", k.tokenType)
		}
		if k.errType != "" {
			a.PutStr("error.type", k.errType)
		}
	}
}
