package codec

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecodeRow(t *testing.T) {
	md := map[string]any{"source": "cgroup2"}
	tests := []struct {
		name    string
		table   *Table
		raw     string
		want    Event
		wantErr string // substring; "" for success
	}{
		{"log with NULLs", LogEvents,
			`{"trace_id":"t1","created_at":5,"kind":"other","subsystem":null,"channel":"tg","level":null,"message":"m","metadata":null}`,
			Event{TraceID: "t1", Log: &Log{CreatedAt: 5, Kind: "other", Channel: "tg", Message: "m"}}, ""},
		{"sample", SystemMetrics,
			`{"trace_id":"t2","created_at":6,"cpu_pct":12.5,"mem_current_bytes":7,"mem_limit_bytes":null,"mem_rss_bytes":null,
			"disk_total_bytes":null,"disk_used_bytes":null,"disk_free_bytes":null,"disk_pct":null,"io_read_bytes":null,
			"io_write_bytes":null,"metadata":{"source":"cgroup2"},"extra":1}`,
			Event{TraceID: "t2", Metric: &Metric{CreatedAt: 6, CPUPercent: ptr(12.5), MemCurrent: ptr[int64](7), Metadata: md}}, ""},
		{"column absent", LogEvents,
			`{"trace_id":"t1","created_at":5,"kind":"other","subsystem":null,"level":null,"message":"m","metadata":null}`,
			Event{TraceID: "t1", Log: &Log{CreatedAt: 5, Kind: "other", Message: "m"}}, ""},
		{"wrong type", ErrorEvents,
			`{"trace_id":"t3","created_at":"soon","error_type":"crash","message":"m","code":null,"stack_trace":null,"severity":"error","metadata":null}`,
			Event{}, "created_at"},
		{"metadata not an object", ErrorEvents,
			`{"trace_id":"t3","created_at":1,"error_type":"crash","message":"m","code":null,"stack_trace":null,"severity":"error","metadata":"{broken"}`,
			Event{}, "metadata"},
		{"not an object", LLMTraces, `[1,2]`, Event{}, "decode llm_traces row"},
	}
	for _, tt := range tests {
		got, err := tt.table.DecodeRow([]byte(tt.raw))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want one containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

// A sink that does not send what was said reads rows without it; every
// other column comes back the same.
func TestDecodeRowSkipContent(t *testing.T) {
	raw := []byte(`{"trace_id":"t1","created_at":5,"provider":"p","model":"m","input_text":"what was asked",
		"output_text":"what was answered","prompt_tokens":3,"status":"ok","metadata":{"k":"v"}}`)
	full, err := LLMTraces.DecodeRow(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LLMTraces.DecodeRowSkipContent(raw)
	if err != nil {
		t.Fatal(err)
	}
	if full.Trace.InputText == nil || full.Trace.OutputText == nil {
		t.Fatal("DecodeRow dropped the content")
	}
	if got.Trace.InputText != nil || got.Trace.OutputText != nil {
		t.Errorf("content decoded: %v %v", got.Trace.InputText, got.Trace.OutputText)
	}
	full.Trace.InputText, full.Trace.OutputText = nil, nil
	if !reflect.DeepEqual(got, full) {
		t.Errorf("without content: %+v, want %+v", got.Trace, full.Trace)
	}
	var content []string
	for _, table := range DataTables {
		for _, c := range table.Columns {
			if c.Content {
				content = append(content, table.Name+"."+c.Name)
			}
		}
	}
	if want := []string{"llm_traces.input_text", "llm_traces.output_text"}; !reflect.DeepEqual(content, want) {
		t.Errorf("content columns %v, want %v", content, want)
	}
}
