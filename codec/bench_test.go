package codec

import (
	"strings"
	"testing"
)

// benchTrace is a trace of about 1 KB on the wire, the size the writer's
// figures are measured for.
func benchTrace() map[string]any {
	return map[string]any{
		"type": "trace", "provider": "anthropic", "model": "claude-sonnet-4",
		"input_text":    strings.Repeat("Summarise the following conversation. ", 14),
		"output_text":   strings.Repeat("The user asked about billing. ", 10),
		"prompt_tokens": 1234, "completion_tokens": 256, "cache_read_tokens": 1024,
		"cost_usd": 0.01234, "latency_ms": 1830, "ttft_ms": 412, "status": "ok",
		"ts":       int64(1_700_000_000_000),
		"metadata": map[string]any{"session_id": "5f0c8d1e-6b7a-4c1d-9e2f-3a4b5c6d7e8f", "channel": "telegram"},
	}
}

func benchmarkParse(b *testing.B, body []byte) {
	p := NewParser()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := Sniff(body)
		if err != nil {
			b.Fatal(err)
		}
		vals, err := Decode(body, f)
		if err != nil {
			b.Fatal(err)
		}
		if _, ferr := p.Trace(vals[0]); ferr != nil {
			b.Fatal(ferr)
		}
	}
}

func BenchmarkParseTraceJSON(b *testing.B) { benchmarkParse(b, mustJSON(b, benchTrace())) }

func BenchmarkParseTraceMsgpack(b *testing.B) { benchmarkParse(b, mustMsgpack(b, benchTrace())) }
