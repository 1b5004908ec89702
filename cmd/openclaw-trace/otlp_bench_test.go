package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/procfs"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/push/otlp/otlptest"
	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// seedBacklog writes n rows into a new database at path, as ingest would:
// 85% traces with a 1 KB prompt, then errors, log events and samples.
func seedBacklog(tb testing.TB, path string, n int) {
	tb.Helper()
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	in := make(chan codec.Event, 1024)
	w := store.NewWriter(db, in)
	w.BatchSize = 500
	done := make(chan error, 1)
	go func() { done <- w.Run() }()
	now := time.Now().UnixMilli()
	text := strings.Repeat("x", 1024)
	p := func(v int64) *int64 { return &v }
	for i := range n {
		ev := codec.Event{TraceID: codec.NewTraceID(), Transport: codec.HTTP}
		switch i % 20 {
		case 17:
			ev.Error = &codec.Error{CreatedAt: now, ErrorType: "llm_error", Message: "rate limited", Severity: "error"}
		case 18:
			ev.Log = &codec.Log{CreatedAt: now, Kind: codec.KindChannelOut, Level: "INFO", Message: "telegram sendMessage ok"}
		case 19:
			ev.Metric = &codec.Metric{CreatedAt: now, MemCurrent: p(100 << 20), DiskTotal: p(10 << 30)}
		default:
			ev.Trace = &codec.Trace{CreatedAt: now, Provider: "openai", Model: "gpt-4o", InputText: &text,
				PromptTokens: p(1200), CompletionTokens: p(300), LatencyMS: p(900), Status: "ok",
				Metadata: map[string]any{"session_key": "s-" + strconv.Itoa(i%50)}}
		}
		in <- ev
	}
	close(in)
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkOTLPBacklog exports a stored backlog (OCT_BENCH_ROWS, default
// 100,000) with the real daemon to a local pdata receiver and reports
// rows/s (from the first request to the last row received) and the
// daemon's peak RSS (VmHWM). Run it once:
//
//	go test ./cmd/openclaw-trace -run '^$' -bench OTLPBacklog -benchtime 1x
func BenchmarkOTLPBacklog(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("OCT_BENCH_ROWS")); err == nil && v > 0 {
		n = v
	}
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		seedBacklog(b, filepath.Join(dir, "trace.db"), n)
		sink := otlptest.NewReceiver(b, nil)
		b.StartTimer()
		d := startDaemon(b, dir, "OTEL_EXPORTER_OTLP_ENDPOINT="+sink.URL, "OCT_OTLP_INTERVAL=1s")
		poll.Until(b, "the whole backlog", 10*time.Minute, func() bool { return sink.Rows() >= n })
		took := time.Since(sink.First())
		peak := peakRSS(b, d.cmd.Process.Pid)
		b.StopTimer()
		if err := d.Stop(); err != nil {
			b.Error(err)
		}
		b.ReportMetric(float64(n)/took.Seconds(), "rows/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak_RSS_MiB")
	}
}

func peakRSS(tb testing.TB, pid int) uint64 {
	p, err := procfs.NewProc(pid)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := p.NewStatus()
	if err != nil {
		tb.Fatal(err)
	}
	return st.VmHWM
}
