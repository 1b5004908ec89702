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
	units := &family{name: "units_received_total", typ: "counter", help: "Datagrams or HTTP requests read, by transport."}
	bytes := &family{name: "bytes_received_total", typ: "counter", help: "Payload bytes read, by transport."}
	received := &family{name: "events_received_total", typ: "counter", help: "Events received (an undecodable unit counts as one), by transport."}
	written := &family{name: "events_written_total", typ: "counter", help: "Events committed to SQLite, by transport."}
	dropped := &family{name: "events_dropped_total", typ: "counter", help: "Events not stored, by transport and reason."}
	for _, t := range sortedKeys(s.Transports) {
		ts := s.Transports[t]
		l := fmt.Sprintf(`{transport=%q}`, t)
		units.add(l, ts.Units)
		bytes.add(l, ts.Bytes)
		received.add(l, ts.Received)
		written.add(l, ts.Written)
		for _, r := range sortedKeys(ts.Dropped) {
			dropped.add(fmt.Sprintf(`{transport=%q,reason=%q}`, t, r), ts.Dropped[r])
		}
	}
	fams := []*family{units, bytes, received, written, dropped,
		single("client_reported_drops_total", "counter", "Drops clients counted on their side and reported in client_stats.", s.ClientReportedDrops),
		single("writer_batches_total", "counter", "Writer transactions committed.", s.WriterBatches),
		single("rows_evicted_total", "counter", "Unsynced rows deleted under disk pressure (the evicted drop).", s.Evicted),
		single("rows_expired_total", "counter", "Rows deleted by retention.", s.Expired),
		single("queue_depth", "gauge", "Events waiting in the ingest queue.", int64(s.QueueDepth)),
		single("queue_capacity", "gauge", "Capacity of the ingest queue (OCT_QUEUE_SIZE).", int64(s.QueueCapacity)),
		single("db_size_bytes", "gauge", "Size of the SQLite file.", s.dbBytes),
		single("wal_size_bytes", "gauge", "Size of the SQLite WAL file.", s.walBytes),
	}
	if s.KernelDrops != nil {
		fams = append(fams, single("udp_kernel_drops_total", "counter", "Datagrams the kernel dropped on our UDP socket.", *s.KernelDrops))
	}
	if s.unsynced != nil {
		fams = append(fams, single("unsynced_rows", "gauge", "Rows not yet pushed.", *s.unsynced))
	}
	fams = append(fams, sinkFamilies(s.Sinks)...)
	fams = append(fams, upkeepFamilies(s)...)
	for _, f := range fams {
		f.write(w)
	}
	writeComponentMetrics(w, s)
}

func single(name, typ, help string, v int64) *family {
	f := &family{name: name, typ: typ, help: help}
	f.add("", v)
	return f
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
