package logtail

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

var testNow = time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)

func ms(t *testing.T, s string) int64 {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts.UnixMilli()
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "parse", name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}

func TestParse(t *testing.T) {
	const tg = "gateway/channels/telegram"
	tests := []struct {
		name   string
		want   codec.Log
		isJSON bool
	}{
		{"telegram_send_ok", codec.Log{Kind: codec.KindChannelOut, Subsystem: tg, Channel: "telegram", Level: "info",
			Message: "telegram sendMessage ok chat=569065324 message=30823", CreatedAt: ms(t, "2026-03-06T19:17:15.210+01:00")}, true},
		{"telegram_inbound", codec.Log{Kind: codec.KindChannelIn, Subsystem: tg, Channel: "telegram", Level: "info",
			Message: "inbound message from 569065324 (private) len=42", CreatedAt: ms(t, "2026-03-06T19:17:10.002+01:00")}, true},
		{"whatsapp_received_object", codec.Log{Kind: codec.KindChannelIn, Subsystem: "gateway/channels/whatsapp", Channel: "whatsapp", Level: "info",
			Message: "received message", CreatedAt: ms(t, "2026-03-06T19:18:00+01:00"),
			Metadata: map[string]any{"from": "+15551234567", "chatType": "direct", "mediaCount": 0.0}}, true},
		{"discord_reply_message_key", codec.Log{Kind: codec.KindChannelOut, Subsystem: "gateway/channels/discord", Channel: "discord", Level: "info",
			Message: "reply delivered to channel 1122334455 (2 chunks)", CreatedAt: ms(t, "2026-03-06T19:18:01.5+01:00")}, true},
		{"provider_old_telegram_update", codec.Log{Kind: codec.KindChannelIn, Subsystem: "gateway/providers/telegram", Channel: "telegram", Level: "info",
			Message: "update 884422 received: message from 569065324", CreatedAt: ms(t, "2025-11-02T08:00:00Z")}, true},
		{"provider_old_signal_sent", codec.Log{Kind: codec.KindChannelOut, Subsystem: "gateway/providers/signal", Channel: "signal", Level: "info",
			Message: "signal: sent reply to +15550001111", CreatedAt: ms(t, "2025-11-02T08:00:01Z")}, true},
		{"telegram_send_failed_warn", codec.Log{Kind: codec.KindGatewayError, Subsystem: tg, Channel: "telegram", Level: "warn",
			Message: "telegram sendMessage failed: 403 Forbidden: bot was blocked by the user", CreatedAt: ms(t, "2026-03-06T19:19:00+01:00")}, true},
		{"lane_task_error", codec.Log{Kind: codec.KindGatewayError, Subsystem: "diagnostic", Level: "error",
			Message: `lane task error: lane=main durationMs=15 error="FailoverError: No API key found for provider \"openai\""`, CreatedAt: ms(t, "2026-03-06T19:20:00+01:00")}, true},
		{"fatal_uncaught", codec.Log{Kind: codec.KindGatewayError, Subsystem: "gateway", Level: "fatal",
			Message: "Uncaught exception: Error: EADDRINUSE: address already in use 127.0.0.1:18789", CreatedAt: ms(t, "2026-03-06T19:20:01+01:00")}, true},
		{"config_change_detected", codec.Log{Kind: codec.KindConfigChange, Subsystem: "gateway/reload", Level: "info",
			Message: "config change detected; evaluating reload (gateway.auth.token)", CreatedAt: ms(t, "2026-03-06T19:17:16+01:00")}, true},
		{"config_hot_reload", codec.Log{Kind: codec.KindConfigChange, Subsystem: "gateway/reload", Level: "info",
			Message: "config hot reload applied (channels.telegram.allowFrom)", CreatedAt: ms(t, "2026-03-06T19:17:16.12+01:00")}, true},
		{"config_requires_restart", codec.Log{Kind: codec.KindConfigChange, Subsystem: "gateway/reload", Level: "warn",
			Message: "config change requires gateway restart (gateway.port)", CreatedAt: ms(t, "2026-03-06T19:17:16.13+01:00")}, true},
		{"listening", codec.Log{Kind: codec.KindLifecycle, Subsystem: "gateway", Level: "info",
			Message: "listening on ws://127.0.0.1:18789 (PID 29370)", CreatedAt: ms(t, "2026-03-06T19:00:00+01:00")}, true},
		{"sigterm", codec.Log{Kind: codec.KindLifecycle, Subsystem: "gateway", Level: "info",
			Message: "signal SIGTERM received; shutting down", CreatedAt: ms(t, "2026-03-06T23:59:59+01:00")}, true},
		{"channel_starting", codec.Log{Kind: codec.KindLifecycle, Subsystem: tg, Channel: "telegram", Level: "info",
			Message: "[default] starting provider (@openclaw_bot)", CreatedAt: ms(t, "2026-03-06T19:00:00.5+01:00")}, true},
		{"plain_subsystem_three_args", codec.Log{Kind: codec.KindOther, Subsystem: "agent/embedded", Level: "info",
			Message: "embedded run done: runId=abc123 durationMs=5400", CreatedAt: ms(t, "2026-03-06T19:21:00+01:00"),
			Metadata: map[string]any{"1": "run"}}, true},
		{"single_arg_no_subsystem", codec.Log{Kind: codec.KindLifecycle, Level: "info",
			Message: "Gateway ready", CreatedAt: ms(t, "2026-03-06T19:00:00.1+01:00")}, true},
		{"meta_date_only_debug", codec.Log{Kind: codec.KindOther, Subsystem: "gateway/ws", Level: "debug",
			Message: "ws client connected id=7", CreatedAt: ms(t, "2026-03-06T18:22:00Z")}, true},
		{"level_id_only_no_time", codec.Log{Kind: codec.KindOther, Subsystem: "cron", Level: "info",
			Message: "cron tick: 0 jobs due", CreatedAt: testNow.UnixMilli()}, true},
		{"extra_top_level_key", codec.Log{Kind: codec.KindChannelOut, Subsystem: "gateway/channels/slack", Channel: "slack", Level: "info",
			Message: "slack: outbound text chunk 1/1", CreatedAt: ms(t, "2026-03-06T19:22:00+01:00"),
			Metadata: map[string]any{"requestId": "r-9"}}, true},
		// Shapes of the OpenClaw 2026.9.6 source the real log did not show
		// (the run in testdata/real never ended with an error and the
		// provider never went away).
		{"run_end_error", codec.Log{Kind: codec.KindGatewayError, Subsystem: "agents/agent-command", Level: "info",
			Message: "[agent] run 5fa19205-e806-4340-920e-fe91e3e7ee86 ended with stopReason=error", CreatedAt: ms(t, "2026-12-02T15:06:30+00:00"),
			Metadata: map[string]any{"hostname": "vm", "rule": RuleRunEnd, "runId": "5fa19205-e806-4340-920e-fe91e3e7ee86", "stopReason": "error"}}, true},
		{"model_fetch_transport_error", codec.Log{Kind: codec.KindGatewayError, Subsystem: "provider-transport-fetch", Level: "warn",
			Message:   "[model-fetch] error provider=mock api=openai-completions model=ok elapsedMs=3 TypeError: fetch failed (cause: ECONNREFUSED 127.0.0.1:18611)",
			CreatedAt: ms(t, "2026-12-02T15:06:31+00:00"),
			Metadata:  map[string]any{"hostname": "vm", "rule": RuleModelTransportError, "provider": "mock", "api": "openai-completions", "model": "ok", "elapsedMs": 3.0}}, true},
		{"not_json", codec.Log{Kind: codec.KindOther, CreatedAt: testNow.UnixMilli(),
			Message: "Error: Cannot find module 'sharp' at Module._resolveFilename (node:internal/modules/cjs/loader:1140:15)"}, false},
		{"broken_json", codec.Log{Kind: codec.KindOther, CreatedAt: testNow.UnixMilli(),
			Message: `{"0":"{\"subsystem\":\"gateway\"}","1":"listening on ws://127.0.0.1:18789"`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, isJSON := Parse(readFixture(t, tt.name), testNow)
			if isJSON != tt.isJSON {
				t.Errorf("isJSON = %v, want %v", isJSON, tt.isJSON)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseLongLine(t *testing.T) {
	// "é" is two bytes, so MaxLineBytes falls inside a rune.
	line := []byte("x" + strings.Repeat("é", MaxLineBytes))
	got, isJSON := Parse(line, testNow)
	if isJSON {
		t.Error("long line parsed as JSON")
	}
	if len(got.Message) != MaxLineBytes-1 || !strings.HasPrefix(got.Message, "xé") {
		t.Errorf("message cut to %d bytes, want %d", len(got.Message), MaxLineBytes-1)
	}
	want := map[string]any{"truncated": map[string]any{"line": len(line)}}
	if got.Kind != codec.KindOther || !reflect.DeepEqual(got.Metadata, want) {
		t.Errorf("got kind %q metadata %v, want other %v", got.Kind, got.Metadata, want)
	}
}

// TestParseNeverPanics feeds odd shapes that a fuzzer would find first.
func TestParseNeverPanics(t *testing.T) {
	for _, in := range []string{
		"", "{", "{}", "[]", "null", `{"0":null}`, `{"0":5,"1":{"a":1}}`, `{"0":"{\"subsystem\":5}"}`,
		`{"0":"{not json","1":"x"}`, `{"_meta":"x","time":5}`, `{"_meta":{"logLevelId":99}}`,
		`{"message":7,"-1":"x","01":"y"}`, "\xff\xfe{\"0\":1}", `{"0":{"subsystem":"gateway/channels/"}}`,
	} {
		if l, _ := Parse([]byte(in), testNow); l == nil {
			t.Errorf("Parse(%q) = nil", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"0":"{\"subsystem\":\"gateway/channels/telegram\"}","1":"sent","_meta":{"logLevelName":"INFO"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, _ := Parse(b, testNow); l == nil {
			t.Fatal("nil log")
		}
	})
}

func BenchmarkParse(b *testing.B) {
	var lines [][]byte
	entries, err := os.ReadDir(filepath.Join("testdata", "parse"))
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		l, err := os.ReadFile(filepath.Join("testdata", "parse", e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, bytes.TrimSuffix(l, []byte("\n")))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		Parse(lines[i%len(lines)], testNow)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func TestCapMessage(t *testing.T) {
	l := &codec.Log{Message: "ab€cd"} // € is 3 bytes: a b [e2 82 ac] c d
	capMessage(l, 4)
	if l.Message != "ab" || l.Metadata["truncated"].(map[string]any)["message"] != 7 {
		t.Errorf("got %q %v", l.Message, l.Metadata)
	}
	short := &codec.Log{Message: "ok"}
	capMessage(short, 4)
	if short.Message != "ok" || short.Metadata != nil {
		t.Errorf("short message changed: %+v", short)
	}
}
