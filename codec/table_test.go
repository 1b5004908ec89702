package codec

import (
	"reflect"
	"testing"
)

// Every data table starts with trace_id and created_at and ends with
// metadata, and each column reads its value from the table's own payload.
func TestDataTableColumns(t *testing.T) {
	s, n, f := "s", int64(7), 1.5
	md := map[string]any{"k": "v"}
	tests := []struct {
		ev   Event
		want map[string]any // a few columns
	}{
		{Event{TraceID: "t1", Trace: &Trace{CreatedAt: 1, Provider: "p", Model: "m", InputText: &s, TTFTMS: &n, CostUSD: &f, Metadata: md}},
			map[string]any{"trace_id": "t1", "created_at": int64(1), "provider": "p", "input_text": &s, "ttft_ms": &n, "cost_usd": &f, "metadata": md}},
		{Event{TraceID: "t2", Error: &Error{CreatedAt: 2, ErrorType: "x", Message: "boom", Code: &s, Severity: "error"}},
			map[string]any{"trace_id": "t2", "created_at": int64(2), "message": "boom", "code": &s, "severity": "error"}},
		{Event{TraceID: "t3", Metric: &Metric{CreatedAt: 3, MemRSS: &n, DiskPercent: &f}},
			map[string]any{"created_at": int64(3), "mem_rss_bytes": &n, "disk_pct": &f, "cpu_pct": (*float64)(nil)}},
		{Event{TraceID: "t4", Log: &Log{CreatedAt: 4, Kind: KindOther, Channel: "tg"}},
			map[string]any{"created_at": int64(4), "kind": KindOther, "channel": "tg", "subsystem": nil}},
	}
	for _, tt := range tests {
		table := tt.ev.DataTable()
		if table == nil || TableNamed(table.Name) != table || tt.ev.Table() != table.Name {
			t.Fatalf("event %s: table %v", tt.ev.TraceID, table)
		}
		cols := table.Columns
		if cols[0].Name != "trace_id" || cols[1].Name != "created_at" || cols[len(cols)-1].Name != "metadata" || !cols[len(cols)-1].JSON {
			t.Errorf("%s: columns start %s, %s and end %s", table.Name, cols[0].Name, cols[1].Name, cols[len(cols)-1].Name)
		}
		seen := map[string]bool{}
		for _, c := range cols {
			if seen[c.Name] {
				t.Errorf("%s: column %s twice", table.Name, c.Name)
			}
			seen[c.Name] = true
			got := c.Value(&tt.ev)
			if want, ok := tt.want[c.Name]; ok && !reflect.DeepEqual(got, want) {
				t.Errorf("%s.%s = %#v, want %#v", table.Name, c.Name, got, want)
			}
		}
	}
	if (&Event{}).DataTable() != nil || TableNamed("push_log") != nil {
		t.Error("an event without payload or a non-data table has a data table")
	}
}
