package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/logtail"
	"github.com/openclaw/openclaw-trace/push"
	"github.com/openclaw/openclaw-trace/push/webhook"
	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/store/budget"
)

// checkStats: each stat of a list has a unique key, a valid unique family
// name (or none), a type, help, and a value /metrics can write.
func checkStats[T any](t *testing.T, list string, stats []stat[T], v T, names map[string]string) {
	t.Helper()
	validName := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	keys := map[string]bool{}
	for _, st := range stats {
		if st.key != "" {
			if keys[st.key] {
				t.Errorf("%s: key %q twice", list, st.key)
			}
			keys[st.key] = true
		}
		val := st.get(v)
		switch val.(type) {
		case int64, float64, *int64, *float64:
		case map[string]int64:
			if st.label == "" && st.name != "" {
				t.Errorf("%s: %s has keyed values and no label", list, st.name)
			}
		default:
			t.Errorf("%s: %s/%s reads a %T", list, st.key, st.name, val)
		}
		if st.name == "" {
			continue
		}
		if prev, dup := names[st.name]; dup {
			t.Errorf("family %s in %s and %s", st.name, prev, list)
		}
		names[st.name] = list
		if !validName.MatchString(st.name) || (st.typ != counter && st.typ != gauge) || st.help == "" {
			t.Errorf("%s: family %q, type %q, help %q", list, st.name, st.typ, st.help)
		}
		if (st.typ == counter) != strings.HasSuffix(st.name, "_total") {
			t.Errorf("%s: %s is a %s: counters, and only they, end in _total", list, st.name, st.typ)
		}
	}
}

// TestStatListsWellFormed checks every list that drives both pages.
func TestStatListsWellFormed(t *testing.T) {
	names := map[string]string{}
	checkStats(t, "transportStats", transportStats, codec.Counts{}, names)
	checkStats(t, "topStats", topStats, &snapshot{}, names)
	checkStats(t, "pushStats", pushStats, &push.Stats{}, names)
	checkStats(t, "logtailStats", logtailStats, &logtail.Stats{}, names)
	checkStats(t, "walStats", walStats, &store.WALMonitor{}, names)
	checkStats(t, "cleanupStats", cleanupStats, &store.Cleaner{}, names)
	checkStats(t, "alertStats", alertStats, budget.NewAlerter(nil, nil), names)
	checkStats(t, "webhookStats", webhookStats, webhook.New(""), names)
}

// TestPagesAgree: /metrics writes the values /health shows, under the
// labels the lists name, from the one snapshot.
func TestPagesAgree(t *testing.T) {
	m := &Main{}
	var producer, writer codec.Counters
	producer.Units.Add(3)
	producer.Bytes.Add(300)
	producer.Drop(codec.DropInvalid, 2)
	producer.Received.Add(4)
	producer.ClientReportedDrops.Add(7)
	writer.Written.Add(3)
	writer.Dropped[codec.DropShutdown].Add(1)
	m.account(codec.UDP, &producer)
	m.account(codec.UDP, &writer)
	s := m.snapshot(t.Context(), false)
	s.Logtail = readGroup(logtailStats, &logtail.Stats{})
	var b strings.Builder
	writeMetrics(&b, s)
	page := b.String()
	for _, line := range []string{
		`openclaw_trace_units_received_total{transport="udp"} 3`,
		`openclaw_trace_bytes_received_total{transport="udp"} 300`,
		`openclaw_trace_events_received_total{transport="udp"} 6`,
		`openclaw_trace_events_written_total{transport="udp"} 3`,
		`openclaw_trace_events_dropped_total{transport="udp",reason="invalid"} 2`,
		`openclaw_trace_events_dropped_total{transport="udp",reason="shutdown"} 1`,
		`openclaw_trace_events_dropped_total{transport="http",reason="invalid"} 0`,
		`openclaw_trace_client_reported_drops_total 7`,
		`openclaw_trace_logtail_lines_folded_total 0`,
	} {
		if !strings.Contains(page, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if strings.Contains(page, "udp_kernel_drops") || strings.Contains(page, "push_cycles") {
		t.Errorf("/metrics shows what is unknown or off:\n%s", page)
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Transports map[string]struct {
			Received, Written   int64
			Dropped             map[string]int64
			ClientReportedDrops int64 `json:"client_reported_drops"`
		}
		Received, Written, Dropped int64
		DroppedByReason            map[string]int64 `json:"dropped_by_reason"`
		Push                       map[string]any
	}
	if err := json.Unmarshal(js, &h); err != nil {
		t.Fatal(err)
	}
	udp := h.Transports["udp"]
	if udp.Received != 6 || udp.Written != 3 || udp.Dropped["invalid"] != 2 || udp.Dropped["shutdown"] != 1 ||
		udp.ClientReportedDrops != 7 || len(udp.Dropped) != int(codec.NumDropReasons) || len(h.Transports) != int(codec.NumTransports) {
		t.Errorf("/health transports = %+v", h.Transports)
	}
	if h.Received != 6 || h.Written != 3 || h.Dropped != 3 || h.DroppedByReason["shutdown"] != 1 || h.Push != nil {
		t.Errorf("/health totals = %+v", h)
	}
}

// pageShape is what clients rely on in /health and /metrics: every key
// path of /health with its JSON type, and every /metrics family of ours
// with its label names.
func pageShape(t *testing.T, health, metrics []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(health, &v); err != nil {
		t.Fatal(err)
	}
	var lines []string
	var walk func(string, any)
	walk = func(path string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, x := range m {
			kind := "null"
			switch x.(type) {
			case map[string]any:
				kind = "object"
			case float64:
				kind = "number"
			case string:
				kind = "string"
			case bool:
				kind = "bool"
			}
			lines = append(lines, fmt.Sprintf("health %s/%s %s", path, k, kind))
			walk(path+"/"+k, x)
		}
	}
	walk("", v)
	labelNames := regexp.MustCompile(`="(?:[^"\\]|\\.)*"`)
	for _, l := range strings.Split(string(metrics), "\n") {
		if strings.HasPrefix(l, metricPrefix) {
			name, _, _ := strings.Cut(l, " ")
			lines = append(lines, "metrics "+labelNames.ReplaceAllString(name, ""))
		}
	}
	sort.Strings(lines)
	return strings.Join(slices.Compact(lines), "\n") + "\n"
}
