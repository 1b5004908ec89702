package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/openclaw/openclaw-trace/push/otlp/otlptest"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

func postIDs(t *testing.T, url, body string) []string {
	t.Helper()
	code, out := post(t, url, "application/json", []byte(body))
	if code != 202 {
		t.Fatalf("POST %s: %d %v", url, code, out)
	}
	var ids []string
	for _, id := range out["trace_ids"].([]any) {
		ids = append(ids, id.(string))
	}
	return ids
}

// TestEndToEndOTLPThroughCollector: the real daemon exports to a real
// OpenTelemetry Collector (OTLP/HTTP receiver), whose otlphttp exporter
// forwards to a pdata receiver here. Every trace, error, gateway log line
// and sample arrives with its attributes, in both encodings, so the
// collector decoded what the sidecar sent and could re-encode it.
func TestEndToEndOTLPThroughCollector(t *testing.T) {
	for _, proto := range []string{"http/protobuf", "http/json"} {
		t.Run(strings.ReplaceAll(proto, "/", "_"), func(t *testing.T) {
			sink := otlptest.NewReceiver(t, nil)
			col := startCollector(t, sink.URL)
			logDir := t.TempDir()
			logFile := filepath.Join(logDir, "openclaw-"+time.Now().Format("2006-01-02")+".log")
			appendLines(t, logFile, 0, 3)
			const secret = "s3cret-header-value"
			d := startDaemon(t, "",
				"OTEL_EXPORTER_OTLP_ENDPOINT="+col, "OTEL_EXPORTER_OTLP_PROTOCOL="+proto,
				"OTEL_EXPORTER_OTLP_COMPRESSION=gzip", "OTEL_EXPORTER_OTLP_HEADERS=x-api-key="+secret,
				"OTEL_SERVICE_NAME=gw-e2e", "OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=test",
				"OCT_OTLP_INTERVAL=100ms", "OCT_METRICS_INTERVAL=100ms", "OCT_LOG_PATH="+logFile)
			traces := postIDs(t, d.URL("/v1/traces"), `[
				{"provider":"openai","model":"gpt-4o","prompt_tokens":120,"completion_tokens":30,"cache_read_tokens":100,
				 "cost_usd":0.0004,"latency_ms":850,"metadata":{"session_key":"sess-1","agent_id":"main"}},
				{"provider":"anthropic","model":"claude-sonnet-4","prompt_tokens":10,"completion_tokens":5,"latency_ms":120},
				{"provider":"openai","model":"gpt-4o","status":"error","error_type":"rate_limit","latency_ms":40}]`)
			errs := postIDs(t, d.URL("/v1/errors"), `[{"error_type":"llm_error","message":"upstream 503","code":"api_error"},
				{"error_type":"crash","message":"boom","severity":"critical","stack_trace":"at x"}]`)

			poll.Until(t, "every trace and error through the collector", 30*time.Second, func() bool {
				for _, id := range traces {
					if _, ok := sink.Span(id); !ok {
						return false
					}
				}
				for _, id := range errs {
					if _, ok := sink.Log(id); !ok {
						return false
					}
				}
				return true
			})
			// Two calls carry input and output tokens: 4 token points; 3 durations.
			poll.Until(t, "log events, samples and histograms", 30*time.Second, func() bool {
				return countGatewayLogs(sink) >= 3 && sink.Points("system.filesystem.limit") >= 1 &&
					sink.Points("gen_ai.client.token.usage") == 4 && sink.Points("gen_ai.client.operation.duration") == 3
			})
			sp, _ := sink.Span(traces[0])
			a := sp.Attributes().AsRaw()
			for k, want := range map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
				"gen_ai.usage.input_tokens": int64(120), "gen_ai.usage.output_tokens": int64(30),
				"gen_ai.usage.cache_read.input_tokens": int64(100), "gen_ai.conversation.id": "sess-1",
				"gen_ai.usage.cost": 0.0004,
			} {
				if a[k] != want {
					t.Errorf("span %s = %v, want %v", k, a[k], want)
				}
			}
			if sp.Kind() != ptrace.SpanKindClient || sp.Name() != "chat gpt-4o" ||
				sp.EndTimestamp().AsTime().Sub(sp.StartTimestamp().AsTime()) != 850*time.Millisecond {
				t.Errorf("span %q kind %v", sp.Name(), sp.Kind())
			}
			if failed, _ := sink.Span(traces[2]); failed.Status().Code() != ptrace.StatusCodeError {
				t.Errorf("failed call status %v", failed.Status().Code())
			}
			if lr, _ := sink.Log(errs[1]); lr.SeverityNumber() != plog.SeverityNumberFatal || lr.Body().Str() != "boom" {
				t.Errorf("critical error record: %v %q", lr.SeverityNumber(), lr.Body().Str())
			}
			res := sink.Resource()
			if res["service.name"] != "gw-e2e" || res["deployment.environment.name"] != "test" {
				t.Errorf("resource %v", res)
			}
			poll.Until(t, "otlp backlog 0 in /health", 10*time.Second, func() bool {
				o := d.Health()["counters"].(map[string]any)["sinks"].(map[string]any)["otlp"].(map[string]any)
				b, _ := o["backlog"].(float64)
				return o["status"] == "ok" && o["backlog"] != nil && b == 0
			})
			resp, err := http.Get(d.URL("/metrics"))
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// Values move (a sample every 100 ms): the lines must be there.
			for _, line := range []string{`openclaw_trace_sink_backlog_rows{sink="otlp"} `,
				`openclaw_trace_sink_rows_delivered_total{sink="otlp"} `, `openclaw_trace_sink_last_success_timestamp_ms{sink="otlp"} `} {
				if !strings.Contains(string(page), line) {
					t.Errorf("/metrics lacks %q", line)
				}
			}
			if err := d.Stop(); err != nil {
				t.Errorf("exit: %v", err)
			}
			if strings.Contains(d.Logs(), secret) {
				t.Error("an OTLP header value reached the log")
			}
		})
	}
}

func countGatewayLogs(s *otlptest.Receiver) int {
	logs, _ := s.LogsByTraceID()
	n := 0
	for _, lr := range logs {
		if k, ok := lr.Attributes().Get("openclaw.log.kind"); ok && k.Str() != "" {
			n++
		}
	}
	return n
}
