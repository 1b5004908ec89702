package codec

import (
	"strings"
	"testing"
)

func TestParserTraceAttribution(t *testing.T) {
	all := Attribution{AgentID: "main", Channel: "telegram", Trigger: "cron", CronJobID: "nightly",
		SessionKey: "agent:main:telegram:direct:1001", RunID: "r1", CallKind: "compaction"}
	wireAll := []any{"agent_id", "main", "channel", "telegram", "trigger", "cron", "cron_job_id", "nightly",
		"session_key", "agent:main:telegram:direct:1001", "run_id", "r1", "call_kind", "compaction"}
	long := strings.Repeat("x", MaxAttributionBytes+1)
	tests := []struct {
		name string
		in   wire
		want Attribution
		md   map[string]any // the stored metadata
	}{
		{"top level", wire{v: trace(wireAll...)}, all, nil},
		{"absent", wire{v: trace()}, Attribution{}, nil},
		{"lifted from metadata (older senders)", wire{v: trace("metadata", obj(wireAll...))}, all, obj(wireAll...)},
		{"top level wins over metadata",
			wire{v: trace("agent_id", "ops", "metadata", obj("agent_id", "main", "trigger", "heartbeat"))},
			Attribution{AgentID: "ops", Trigger: "heartbeat"}, obj("agent_id", "main", "trigger", "heartbeat")},
		{"empty top level is absent: metadata fills it",
			wire{v: trace("channel", "", "metadata", obj("channel", "slack"))},
			Attribution{Channel: "slack"}, obj("channel", "slack")},
		{"null top level is absent", wire{v: trace("trigger", nil)}, Attribution{}, nil},
		{"metadata that is not a string is not lifted",
			wire{v: trace("metadata", obj("agent_id", 5, "channel", obj("x", 1), "trigger", true))},
			Attribution{}, obj("agent_id", 5, "channel", obj("x", 1), "trigger", true)},
		{"metadata longer than the cap is not lifted",
			wire{v: trace("metadata", obj("session_key", long))}, Attribution{}, obj("session_key", long)},
		{"unknown trigger kept as is", wire{v: trace("trigger", "webhook")}, Attribution{Trigger: "webhook"}, nil},
		{"at the cap", wire{v: trace("run_id", long[1:])}, Attribution{RunID: long[1:]}, nil},
	}
	for _, tt := range tests {
		for format, in := range tt.in.inputs(t) {
			t.Run(tt.name+"/"+format.String(), func(t *testing.T) {
				got, ferr := testParser().Trace(in)
				if ferr != nil {
					t.Fatal(ferr)
				}
				if got.Attribution != tt.want {
					t.Errorf("attribution %+v, want %+v", got.Attribution, tt.want)
				}
				if g, w := asJSON(t, got.Metadata), asJSON(t, tt.md); g != w {
					t.Errorf("metadata %s, want %s", g, w)
				}
			})
		}
	}
}

func TestParserTraceAttributionInvalid(t *testing.T) {
	long := strings.Repeat("é", MaxAttributionBytes/2+1)
	for _, f := range attributionFields {
		for name, v := range map[string]any{"number": 5, "object": obj("a", 1), "bool": true, "too long": long} {
			got, ferr := testParser().Trace(decodeOne(t, mustJSON(t, trace(f.key, v))))
			if ferr == nil || ferr.Field != f.key || got != nil {
				t.Errorf("%s %s: %v %v, want an error on %s", f.key, name, got, ferr, f.key)
			}
		}
	}
}

// Each attribution field is a column of llm_traces, stored NULL when absent.
func TestAttributionColumns(t *testing.T) {
	ev := Event{TraceID: "t", Trace: &Trace{Provider: "p", Model: "m", Attribution: Attribution{AgentID: "main", CallKind: "turn"}}}
	cols := map[string]any{}
	for _, c := range LLMTraces.Columns {
		cols[c.Name] = c.Value(&ev)
	}
	for _, f := range attributionFields {
		v, ok := cols[f.key]
		if !ok {
			t.Errorf("llm_traces has no %s column", f.key)
			continue
		}
		want := any(nil)
		if s := *f.dst(&ev.Trace.Attribution); s != "" {
			want = s
		}
		if v != want {
			t.Errorf("%s = %v, want %v", f.key, v, want)
		}
	}
}
