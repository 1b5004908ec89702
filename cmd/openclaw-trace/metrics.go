package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"

	llmusage "github.com/openclaw/openclaw-trace/metrics/usage" // a test helper is named usage
)

const metricPrefix = "openclaw_trace_"

// metricsHandler serves GET /metrics in Prometheus text format: the
// families of the snapshot /health also shows, the LLM usage series, and
// the library's process_* and go_* metrics.
//
// To add a family: build a *family (its name without metricPrefix,
// counter or gauge, help text), add its samples with add or addFloat,
// labels made by llmusage.Labels, and append it to fams below.
func (m *Main) metricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.snapshot(r.Context(), true)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fams := snapshotFamilies(s)
		fams = append(fams, m.costFamily())
		fams = append(fams, budgetFamilies(m.budgetsHealth())...)
		for _, f := range fams {
			f.write(w)
		}
		if m.Usage != nil {
			m.Usage.WritePrometheus(w)
		}
		writeProcessMetrics(w)
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
	// get returns int64, float64, *int64 or *float64 (nil: unknown, not
	// shown) or map[string]int64.
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
		f.addValue(nil, st.label, st.get(v))
		fams = append(fams, f)
	}
	return fams
}

// labelPair is [name, value] for llmusage.Labels, or none without a name.
func labelPair(name, value string) []string {
	if name == "" {
		return nil
	}
	return []string{name, value}
}

// addValue adds the samples of one stat value, inside labels (name,
// value pairs); a map's keys go in label.
func (f *family) addValue(labels []string, label string, v any) {
	switch v := v.(type) {
	case int64:
		f.add(llmusage.Labels(labels...), v)
	case float64:
		f.addFloat(llmusage.Labels(labels...), v)
	case *int64:
		if v != nil {
			f.add(llmusage.Labels(labels...), *v)
		}
	case *float64:
		if v != nil {
			f.addFloat(llmusage.Labels(labels...), *v)
		}
	case map[string]int64:
		for _, k := range sortedKeys(v) {
			f.add(llmusage.Labels(append(labels[:len(labels):len(labels)], label, k)...), v[k])
		}
	default:
		panic(fmt.Sprintf("metrics: %s: unexpected value %T", f.name, v))
	}
}

// family is one metric name: its HELP and TYPE lines, then its samples,
// values read for this request from the snapshot /health shows too. The
// metrics library keeps metrics that live across requests (the usage
// series are its) but has no type for a labelled family of values read
// now: its one-shot Write* helpers write one sample each, and a HELP and
// TYPE pair before each when metadata is on. So these few lines are
// written here, the header by llmusage.Header.
type family struct {
	name, typ, help string
	samples         []sample
}

type sample struct {
	labels string // llmusage.Labels
	value  float64
}

func (f *family) add(labels string, v int64) {
	f.samples = append(f.samples, sample{labels, float64(v)})
}

func (f *family) addFloat(labels string, v float64) {
	f.samples = append(f.samples, sample{labels, v})
}

// write writes nothing for a family without samples.
func (f *family) write(w io.Writer) {
	if len(f.samples) == 0 {
		return
	}
	io.WriteString(w, llmusage.Header(metricPrefix+f.name, f.typ, f.help))
	for _, s := range f.samples {
		fmt.Fprintf(w, "%s%s%s %v\n", metricPrefix, f.name, s.labels, s.value)
	}
}

// writeMetrics writes the families of s.
func writeMetrics(w io.Writer, s *snapshot) {
	for _, f := range snapshotFamilies(s) {
		f.write(w)
	}
}

// snapshotFamilies are the families of the numbers /health shows too.
func snapshotFamilies(s *snapshot) []*family {
	fams := groupFamilies(transportStats, "transport", s.Transports)
	fams = append(fams, valueFamilies(topStats, s)...)
	fams = append(fams, sinkFamilies(s.Sinks)...)
	fams = append(fams, groupFamilies(walStats, "", map[string]group{"": s.WAL})...)
	fams = append(fams, groupFamilies(cleanupStats, "", map[string]group{"": s.Cleanup})...)
	fams = append(fams, groupFamilies(pushStats, "", map[string]group{"": s.Push})...)
	fams = append(fams, groupFamilies(logtailStats, "", map[string]group{"": s.Logtail})...)
	fams = append(fams, groupFamilies(httpStats, "", map[string]group{"": s.HTTP})...)
	fams = append(fams, groupFamilies(fieldStats, "", map[string]group{"": s.Fields})...)
	return fams
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
