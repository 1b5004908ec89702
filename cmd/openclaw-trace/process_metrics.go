package main

import (
	"bytes"
	"io"
	"strings"

	vm "github.com/VictoriaMetrics/metrics"
)

// writeProcessMetrics writes the metrics library's process_* and go_*
// metrics, each name after a HELP line of its own. The library writes
// them without one (promtool check metrics: "no help text"), and with its
// metadata switched on it types some against their names (go_cgo_calls_count
// a counter, process_io_*_total gauges), which promtool rejects too; so
// they stay untyped, as before, and get help text here.
func writeProcessMetrics(w io.Writer) {
	var b bytes.Buffer
	vm.WriteProcessMetrics(&b)
	prev := ""
	for line := range strings.Lines(b.String()) {
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if name != prev && !strings.HasPrefix(line, "#") {
			io.WriteString(w, "# HELP "+name+" "+processHelp(name)+"\n")
			prev = name
		}
		io.WriteString(w, line)
	}
}

// processHelp says what the library's metric name is.
func processHelp(name string) string {
	if h, ok := processHelps[name]; ok {
		return h
	}
	if strings.HasPrefix(name, "go_") {
		return "Go runtime metric of the sidecar (github.com/VictoriaMetrics/metrics WriteProcessMetrics)."
	}
	return "Process metric of the sidecar (github.com/VictoriaMetrics/metrics WriteProcessMetrics)."
}

var processHelps = map[string]string{
	"process_resident_memory_bytes":      "Resident set size of the sidecar, in bytes.",
	"process_resident_memory_peak_bytes": "Largest resident set size of the sidecar so far, in bytes.",
	"process_virtual_memory_bytes":       "Virtual memory size of the sidecar, in bytes.",
	"process_cpu_seconds_total":          "CPU time the sidecar used, user and system, in seconds.",
	"process_start_time_seconds":         "When the sidecar started, unix seconds: the usage series count from here.",
	"process_num_threads":                "OS threads of the sidecar.",
	"go_goroutines":                      "Goroutines of the sidecar.",
	"go_memstats_heap_inuse_bytes":       "Bytes in in-use heap spans of the sidecar.",
	"go_memlimit_bytes":                  "The sidecar's GOMEMLIMIT, in bytes.",
}
