package usage

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

// fullCall is a call that fills every family: five token kinds, a cost,
// both histograms and a failure.
func fullCall(model string) codec.Event {
	return call(model, func(t *codec.Trace) {
		t.PromptTokens, t.CompletionTokens, t.CacheReadTokens = ptr[int64](1000), ptr[int64](200), ptr[int64](300)
		t.CacheWriteTokens, t.ReasoningTokens = ptr[int64](50), ptr[int64](80)
		t.CostUSD, t.LatencyMS, t.TTFTMS = ptr(0.0123), ptr[int64](1800), ptr[int64](350)
		t.Status, t.ErrorType = "error", ptr("rate_limit")
	})
}

// filled returns series that saw one full call of each of names models
// padded to width bytes.
func filled(names, limit, width int) *Series {
	s := NewSeries(limit)
	for i := range names {
		m := fmt.Sprintf("provider/model-%06d", i)
		m += strings.Repeat("x", max(width-len(m), 0))
		s.Add([]codec.Event{fullCall(m)})
	}
	return s
}

// BenchmarkSeriesAdd is the writer's cost per committed call, on label
// sets already held (batches of 50 over 20 label sets).
func BenchmarkSeriesAdd(b *testing.B) {
	s := NewSeries(DefaultMaxLabelSets)
	batch := make([]codec.Event, 50)
	for i := range batch {
		batch[i] = fullCall(fmt.Sprintf("model-%d", i%20))
	}
	s.Add(batch)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.Add(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/call")
}

// BenchmarkSeriesScrape is one /metrics write of the usage series, and
// the heap the series hold: every label set full (all families).
// -bench SeriesScrape -benchtime 20x
func BenchmarkSeriesScrape(b *testing.B) {
	for _, c := range []struct{ names, limit, width int }{
		{1000, 2000, 24},                  // 1,000 model names, under the cap
		{10_000, DefaultMaxLabelSets, 24}, // cap reached (default)
		{10_000, 2000, 24},
		{10_000, DefaultMaxLabelSets, MaxLabelBytes}, // cap reached, longest names
	} {
		b.Run(fmt.Sprintf("names=%d/cap=%d/width=%d", c.names, c.limit, c.width), func(b *testing.B) {
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			s := filled(c.names, c.limit, c.width)
			runtime.GC()
			runtime.ReadMemStats(&m1)
			var w countingWriter
			s.WritePrometheus(&w)
			size, lines := w.n, w.lines
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				s.WritePrometheus(io.Discard)
			}
			b.ReportMetric(float64(size), "bytes/scrape")
			b.ReportMetric(float64(lines), "lines/scrape")
			b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc), "heap-bytes")
			runtime.KeepAlive(s)
		})
	}
}

type countingWriter struct{ n, lines int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	w.lines += strings.Count(string(p), "\n")
	return len(p), nil
}
