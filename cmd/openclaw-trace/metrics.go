package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"

	vm "github.com/VictoriaMetrics/metrics"
)

const metricPrefix = "openclaw_trace_"

// metricsHandler serves GET /metrics in Prometheus text format from the
// same snapshot /health uses, plus the standard process_* metrics.
func (m *Main) metricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.snapshot(r.Context(), true)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		writeMetrics(w, s)
		m.writeCostMetrics(w)
		vm.WriteProcessMetrics(w)
	})
}

// stat is one number both pages show, declared once: its key in its
// group's /health object, its /metrics family, and how to read it from T.
type stat[T any] struct {
	key  string // in the group's /health object ("" for a top-level field of snapshot)
	name string // the /metrics family without metricPrefix ("" when /metrics does not show it)
	typ  string // counter or gauge
	help string
	// label, for a map value, is the label its keys go in.
	label string
	// get returns int64, float64, *int64 (nil: unknown, not shown) or
	// map[string]int64.
	get func(T) any
}

const (
	counter = "counter"
	gauge   = "gauge"
)

// group is one component's stats read at one moment: the object /health
// shows, by key; /metrics writes the same values.
type group map[string]any

// readGroup reads every stat of stats from v.
func readGroup[T any](stats []stat[T], v T) group {
	g := make(group, len(stats))
	for _, st := range stats {
		g[st.key] = st.get(v)
	}
	return g
}

// groupFamilies are the families of stats over groups, one group per value
// of the label outer ("" for a single group, keyed "").
func groupFamilies[T any](stats []stat[T], outer string, groups map[string]group) []*family {
	var fams []*family
	for _, st := range stats {
		if st.name == "" {
			continue
		}
		f := &family{name: st.name, typ: st.typ, help: st.help}
		for _, k := range sortedKeys(groups) {
			if g := groups[k]; g != nil {
				f.addValue(labelPair(outer, k), st.label, g[st.key])
			}
		}
		fams = append(fams, f)
	}
	return fams
}

// valueFamilies are the families of stats read straight from v.
func valueFamilies[T any](stats []stat[T], v T) []*family {
	fams := make([]*family, 0, len(stats))
	for _, st := range stats {
		f := &family{name: st.name, typ: st.typ, help: st.help}
		f.addValue("", st.label, st.get(v))
		fams = append(fams, f)
	}
	return fams
}

// labelPair is `name="value"`, or "" without a name.
func labelPair(name, value string) string {
	if name == "" {
		return ""
	}
	return name + "=" + promLabel(value)
}

// addValue adds the samples of one stat value, inside labels (k="v", ...).
func (f *family) addValue(labels, label string, v any) {
	braces := func(l string) string {
		if l == "" {
			return ""
		}
		return "{" + l + "}"
	}
	switch v := v.(type) {
	case int64:
		f.add(braces(labels), v)
	case float64:
		f.samples = append(f.samples, sample{braces(labels), v})
	case *int64:
		if v != nil {
			f.add(braces(labels), *v)
		}
	case map[string]int64:
		for _, k := range sortedKeys(v) {
			l := labelPair(label, k)
			if labels != "" {
				l = labels + "," + l
			}
			f.add(braces(l), v[k])
		}
	default:
		panic(fmt.Sprintf("metrics: %s: unexpected value %T", f.name, v))
	}
}

// family is one metric name with its HELP and TYPE written once, then
// its samples.
type family struct {
	name, typ, help string
	samples         []sample
}

type sample struct {
	labels string
	value  float64
}

func (f *family) add(labels string, v int64) {
	f.samples = append(f.samples, sample{labels, float64(v)})
}

func (f *family) write(w io.Writer) {
	if len(f.samples) == 0 {
		return
	}
	fmt.Fprintf(w, "# HELP %s%s %s\n# TYPE %s%s %s\n", metricPrefix, f.name, f.help, metricPrefix, f.name, f.typ)
	for _, s := range f.samples {
		fmt.Fprintf(w, "%s%s%s %v\n", metricPrefix, f.name, s.labels, s.value)
	}
}

func writeMetrics(w io.Writer, s *snapshot) {
	fams := groupFamilies(transportStats, "transport", s.Transports)
	fams = append(fams, valueFamilies(topStats, s)...)
	fams = append(fams, sinkFamilies(s.Sinks)...)
	fams = append(fams, groupFamilies(walStats, "", map[string]group{"": s.WAL})...)
	fams = append(fams, groupFamilies(cleanupStats, "", map[string]group{"": s.Cleanup})...)
	fams = append(fams, groupFamilies(pushStats, "", map[string]group{"": s.Push})...)
	fams = append(fams, groupFamilies(logtailStats, "", map[string]group{"": s.Logtail})...)
	for _, f := range fams {
		f.write(w)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
