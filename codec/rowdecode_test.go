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
