package otlp

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/push/otlp/otlptest"
)

// fixture is one row of every kind, with the fields the mapping reads.
func fixture() []codec.Event {
	okTrace := codec.Event{TraceID: codec.NewTraceID(), Transport: codec.HTTP, Trace: &codec.Trace{
		CreatedAt: 1700000000000, Provider: "anthropic", Model: "claude-sonnet-4",
		PromptTokens: ptr[int64](1200), CompletionTokens: ptr[int64](300), TotalTokens: ptr[int64](1500),
		CacheReadTokens: ptr[int64](800), CacheWriteTokens: ptr[int64](100), ReasoningTokens: ptr[int64](40),
		CostUSD: ptr(0.0123), CostSource: codec.CostSupplied, LatencyMS: ptr[int64](2500), TTFTMS: ptr[int64](400), Status: "ok",
		Metadata: map[string]any{"session_key": "agent:main:telegram:42", "agent_id": "main",
			"run_id": "run-7", "finish_reason": "end_turn"},
	}}
	failedTrace := codec.Event{TraceID: codec.NewTraceID(), Transport: codec.HTTP, Trace: &codec.Trace{
		CreatedAt: 1700000001000, Provider: "google", Model: "gemini-2.5-pro",
		PromptTokens: ptr[int64](10), LatencyMS: ptr[int64](30000), Status: "timeout", CostSource: codec.CostUnpriced,
		ErrorType: ptr("deadline_exceeded"),
	}}
	errEv := codec.Event{TraceID: codec.NewTraceID(), Transport: codec.HTTP, Error: &codec.Error{
		CreatedAt: 1700000002000, ErrorType: "llm_error", Message: "rate limited", Code: ptr("rate_limit"),
		StackTrace: ptr("at call()"), Severity: "critical", Metadata: map[string]any{"session_key": "s1"},
	}}
	logEv := codec.Event{TraceID: codec.NewTraceID(), Transport: codec.Logtail, Log: &codec.Log{
		CreatedAt: 1700000003000, Kind: codec.KindChannelOut, Subsystem: "gateway/channels/telegram",
		Channel: "telegram", Level: "WARN", Message: "telegram sendMessage slow",
	}}
	sample := codec.Event{TraceID: codec.NewTraceID(), Transport: codec.Sampler, Metric: &codec.Metric{
		CreatedAt: 1700000004000, CPUPercent: ptr(12.5), MemCurrent: ptr[int64](100 << 20),
		MemLimit: ptr[int64](512 << 20), MemRSS: ptr[int64](80 << 20), DiskTotal: ptr[int64](10 << 30),
		DiskUsed: ptr[int64](4 << 30), DiskFree: ptr[int64](6 << 30), DiskPercent: ptr(40.0),
		IOReadBytes: ptr[int64](4096), IOWriteBytes: ptr[int64](8192),
		Metadata: map[string]any{"source": "cgroup2"},
	}}
	return []codec.Event{okTrace, failedTrace, errEv, logEv, sample}
}

func attrs(m pcommon.Map) map[string]any { return m.AsRaw() }

func checkAttrs(t *testing.T, what string, got map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch wv := w.(type) {
		case []string:
			gl, _ := g.([]any)
			if len(gl) != len(wv) || (len(wv) > 0 && gl[0] != wv[0]) {
				t.Errorf("%s: %s = %v, want %v", what, k, g, w)
			}
			continue
		}
		if !ok || g != w {
			t.Errorf("%s: %s = %v (present %v), want %v", what, k, g, ok, w)
		}
	}
}

func TestOTLPExportsEveryRowWithConventionAttributes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		json, gzip bool
	}{{"protobuf", false, false}, {"protobuf+gzip", false, true}, {"json", true, false}, {"json+gzip", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			db := mustOpenDB(t)
			evs := fixture()
			writeEvents(t, db, evs...)
			rc := otlptest.NewReceiver(t, nil)
			e := newTestExporter(t, db, rc)
			e.JSON, e.Gzip = tc.json, tc.gzip
			n, err := e.ExportOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// 2 traces twice (spans, histograms), 1 error, 1 log, 1 sample.
			if n != 7 {
				t.Errorf("exported %d rows, want 7", n)
			}
			checkSpans(t, rc, evs[0], evs[1])
			checkLogs(t, rc, evs[2], evs[3])
			checkMetrics(t, rc)
			wantEncoding := ""
			if tc.gzip {
				wantEncoding = "gzip"
			}
			for _, h := range rc.Headers() {
				if h.Get("Authorization") != "Basic "+testToken || h.Get("User-Agent") == "" ||
					h.Get("Content-Encoding") != wantEncoding {
					t.Errorf("headers: %v", h)
				}
			}
			// The receiver takes both; only the sizes tell gzip was used.
			if raw, wire := e.BytesSent.Load(), e.WireBytesSent.Load(); tc.gzip != (wire < raw) {
				t.Errorf("gzip %v: %d bytes encoded, %d on the wire", tc.gzip, raw, wire)
			}
			if b, _ := e.Backlog(context.Background()); b != 0 {
				t.Errorf("backlog %d after export", b)
			}
			// A second cycle finds nothing new.
			if n, err := e.ExportOnce(context.Background()); n != 0 || err != nil {
				t.Errorf("second cycle: %d rows, %v", n, err)
			}
		})
	}
}

func checkSpans(t *testing.T, rc *otlptest.Receiver, okEv, failEv codec.Event) {
	t.Helper()
	spans, total := rc.SpansByTraceID()
	if total != 2 {
		t.Fatalf("%d spans, want 2", total)
	}
	s := spans[okEv.TraceID]
	u := uuid.MustParse(okEv.TraceID)
	if s.TraceID() != pcommon.TraceID(u) || s.SpanID().String() != okEv.TraceID[19:23]+okEv.TraceID[24:] {
		t.Errorf("ids %s/%s not derived from %s", s.TraceID(), s.SpanID(), okEv.TraceID)
	}
	if s.Kind() != ptrace.SpanKindClient || s.Name() != "chat claude-sonnet-4" {
		t.Errorf("kind %v name %q", s.Kind(), s.Name())
	}
	start, end := s.StartTimestamp().AsTime(), s.EndTimestamp().AsTime()
	if start.UnixMilli() != 1700000000000 || end.Sub(start) != 2500*time.Millisecond {
		t.Errorf("start %v end %v", start, end)
	}
	if s.Status().Code() != ptrace.StatusCodeUnset {
		t.Errorf("ok call has status %v", s.Status().Code())
	}
	checkAttrs(t, "ok span", attrs(s.Attributes()), map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
		"gen_ai.request.model": "claude-sonnet-4", "gen_ai.response.model": "claude-sonnet-4",
		"gen_ai.usage.input_tokens": int64(1200), "gen_ai.usage.output_tokens": int64(300),
		"gen_ai.usage.cache_read.input_tokens": int64(800), "gen_ai.usage.cache_creation.input_tokens": int64(100),
		"gen_ai.usage.reasoning.output_tokens": int64(40), "gen_ai.response.finish_reasons": []string{"end_turn"},
		"gen_ai.conversation.id": "agent:main:telegram:42", "session.id": "agent:main:telegram:42",
		"gen_ai.agent.id": "main", "gen_ai.usage.cost": 0.0123, "openclaw.trace_id": okEv.TraceID,
		"openclaw.ttft_ms": int64(400), "openclaw.metadata.run_id": "run-7", "openclaw.cost_source": "supplied",
	})
	if _, ok := s.Attributes().Get("error.type"); ok {
		t.Error("ok call has error.type")
	}
	f := spans[failEv.TraceID]
	if f.Status().Code() != ptrace.StatusCodeError || f.Name() != "chat gemini-2.5-pro" {
		t.Errorf("failed call: status %v name %q", f.Status().Code(), f.Name())
	}
	checkAttrs(t, "failed span", attrs(f.Attributes()), map[string]any{
		"error.type": "deadline_exceeded", "gen_ai.provider.name": "gcp.gemini", "openclaw.status": "timeout",
		"openclaw.cost_source": "unpriced",
	})
	if _, ok := f.Attributes().Get("gen_ai.usage.cost"); ok {
		t.Error("an unpriced call carries a cost")
	}
}

func checkLogs(t *testing.T, rc *otlptest.Receiver, errEv, logEv codec.Event) {
	t.Helper()
	logs, total := rc.LogsByTraceID()
	if total != 2 {
		t.Fatalf("%d log records, want 2", total)
	}
	e := logs[errEv.TraceID]
	if e.SeverityNumber() != plog.SeverityNumberFatal || e.Body().Str() != "rate limited" ||
		e.Timestamp().AsTime().UnixMilli() != 1700000002000 || e.EventName() != "openclaw.error" {
		t.Errorf("error record: %v %q %v %q", e.SeverityNumber(), e.Body().Str(), e.Timestamp(), e.EventName())
	}
	checkAttrs(t, "error record", attrs(e.Attributes()), map[string]any{
		"error.type": "llm_error", "exception.message": "rate limited", "exception.stacktrace": "at call()",
		"openclaw.error.code": "rate_limit", "gen_ai.conversation.id": "s1",
	})
	l := logs[logEv.TraceID]
	if l.SeverityNumber() != plog.SeverityNumberWarn || l.SeverityText() != "WARN" || l.Body().Str() != "telegram sendMessage slow" {
		t.Errorf("log record: %v %q %q", l.SeverityNumber(), l.SeverityText(), l.Body().Str())
	}
	checkAttrs(t, "log record", attrs(l.Attributes()), map[string]any{
		"openclaw.log.kind": "channel_out", "openclaw.log.subsystem": "gateway/channels/telegram",
		"openclaw.log.channel": "telegram",
	})
}

func checkMetrics(t *testing.T, rc *otlptest.Receiver) {
	t.Helper()
	m := rc.MetricsByName()
	gauges := map[string]float64{
		"system.cpu.utilization": 0.125, "container.memory.usage": 100 << 20, "system.memory.limit": 512 << 20,
		"container.memory.rss": 80 << 20, "system.filesystem.limit": 10 << 30, "system.filesystem.utilization": 0.4,
	}
	for name, want := range gauges {
		if len(m[name]) != 1 || m[name][0].Gauge().DataPoints().Len() != 1 {
			t.Errorf("gauge %s: %d metrics", name, len(m[name]))
			continue
		}
		dp := m[name][0].Gauge().DataPoints().At(0)
		got := dp.DoubleValue()
		if dp.ValueType() == 1 { // int
			got = float64(dp.IntValue())
		}
		if got != want || dp.Timestamp().AsTime().UnixMilli() != 1700000004000 {
			t.Errorf("gauge %s = %v at %v, want %v", name, got, dp.Timestamp(), want)
		}
	}
	if len(m["system.memory.usage"]) != 0 {
		t.Error("host memory gauge sent for a cgroup sample")
	}
	if pts := m["system.disk.io"]; len(pts) != 1 || pts[0].Gauge().DataPoints().Len() != 2 {
		t.Errorf("system.disk.io: %v", pts)
	}
	tok := m["gen_ai.client.token.usage"]
	if len(tok) != 1 {
		t.Fatalf("token histogram: %d", len(tok))
	}
	var count, sum float64
	for _, dp := range tok[0].Histogram().DataPoints().All() {
		count += float64(dp.Count())
		sum += dp.Sum()
		if dp.ExplicitBounds().Len() != len(tokenBuckets) || dp.ExplicitBounds().At(0) != 1 {
			t.Errorf("token buckets %v", dp.ExplicitBounds().AsRaw())
		}
	}
	if count != 3 || sum != 1200+300+10 {
		t.Errorf("token histogram: count %v sum %v, want 3 and 1510", count, sum)
	}
	dur := m["gen_ai.client.operation.duration"]
	if len(dur) != 1 || dur[0].Histogram().DataPoints().Len() != 2 || dur[0].Unit() != "s" {
		t.Fatalf("duration histogram: %v", dur)
	}
	for _, dp := range dur[0].Histogram().DataPoints().All() {
		et, failed := dp.Attributes().Get("error.type")
		want := 2.5
		if failed {
			want = 30
			if et.Str() != "deadline_exceeded" {
				t.Errorf("error.type %q", et.Str())
			}
		}
		if dp.Sum() != want || dp.Count() != 1 {
			t.Errorf("duration point: sum %v count %d, want %v", dp.Sum(), dp.Count(), want)
		}
	}
}

// answerStatus answers code to every request of path.
func answerStatus(path string, code int) func(string, int, http.ResponseWriter) bool {
	return func(p string, _ int, w http.ResponseWriter) bool {
		if p != path {
			return false
		}
		w.WriteHeader(code)
		return true
	}
}
