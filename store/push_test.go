package store

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

// writeEvents stores evs through a Writer, as ingest does.
func writeEvents(tb testing.TB, db *DB, evs ...codec.Event) {
	tb.Helper()
	in := make(chan codec.Event, len(evs))
	for _, ev := range evs {
		in <- ev
	}
	close(in)
	if err := NewWriter(db, in).Run(); err != nil {
		tb.Fatal(err)
	}
}

func metricEvent() codec.Event {
	return codec.Event{TraceID: codec.NewTraceID(), Transport: codec.Sampler, Metric: &codec.Metric{
		CreatedAt: 1700000000002, CPUPercent: ptr(12.5), MemRSS: ptr[int64](1 << 20),
		Metadata: map[string]any{"source": "cgroup2"},
	}}
}

func logEvent() codec.Event {
	return codec.Event{TraceID: codec.NewTraceID(), Transport: codec.Logtail, Log: &codec.Log{
		CreatedAt: 1700000000003, Kind: codec.KindLifecycle, Subsystem: "gateway", Level: "INFO",
		Message: "listening on ws://127.0.0.1:18789",
	}}
}

func decodeRow(t *testing.T, r codec.Row) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.JSON, &m); err != nil {
		t.Fatalf("row %d is not JSON: %v: %s", r.ID, err, r.JSON)
	}
	return m
}

func TestUnsyncedPageFields(t *testing.T) {
	db := MustOpenDB(t)
	tr, er, me, le := traceEvent("gpt-4o"), errorEvent(), metricEvent(), logEvent()
	tr.Trace.CostSource, tr.Trace.PriceVersion = codec.CostTable, ptr("genai-prices-0.1.8")
	tr.Trace.AgentID, tr.Trace.Trigger, tr.Trace.CronJobID = "main", "cron", "nightly"
	writeEvents(t, db, tr, er, me, le)
	ctx := context.Background()

	tests := []struct {
		table string
		want  map[string]any
	}{
		{"llm_traces", map[string]any{"trace_id": tr.TraceID, "created_at": 1700000000000.0, "provider": "openai",
			"model": "gpt-4o", "input_text": "hi", "output_text": nil, "prompt_tokens": 10.0, "completion_tokens": 5.0,
			"total_tokens": 15.0, "cache_read_tokens": nil, "cache_write_tokens": nil, "reasoning_tokens": nil,
			"cost_usd": 0.25, "latency_ms": nil, "ttft_ms": nil, "status": "ok", "error_type": nil,
			"cost_source": "table", "price_version": "genai-prices-0.1.8", "agent_id": "main", "channel": nil,
			"trigger": "cron", "cron_job_id": "nightly", "session_key": nil, "run_id": nil, "call_kind": nil,
			"metadata": map[string]any{"k": "v"}}},
		{"error_events", map[string]any{"trace_id": er.TraceID, "created_at": 1700000000001.0, "error_type": "crash",
			"message": "boom", "code": "oom", "stack_trace": nil, "severity": "critical", "metadata": nil}},
		{"system_metrics", map[string]any{"trace_id": me.TraceID, "created_at": 1700000000002.0, "cpu_pct": 12.5,
			"mem_current_bytes": nil, "mem_limit_bytes": nil, "mem_rss_bytes": 1048576.0, "disk_total_bytes": nil,
			"disk_used_bytes": nil, "disk_free_bytes": nil, "disk_pct": nil, "io_read_bytes": nil,
			"io_write_bytes": nil, "metadata": map[string]any{"source": "cgroup2"}}},
		{"log_events", map[string]any{"trace_id": le.TraceID, "created_at": 1700000000003.0, "kind": "lifecycle",
			"subsystem": "gateway", "channel": nil, "level": "INFO", "message": "listening on ws://127.0.0.1:18789",
			"metadata": nil}},
	}
	for _, tt := range tests {
		page, err := db.UnsyncedPage(ctx, tt.table, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 1 {
			t.Fatalf("%s: %d rows, want 1", tt.table, len(page))
		}
		if got := decodeRow(t, page[0]); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s row:\n got %v\nwant %v", tt.table, got, tt.want)
		}
	}
}

func TestUnsyncedPageOrderAndMark(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	const n = 1234 // more than markChunk, so marking takes several statements
	evs := make([]codec.Event, n)
	for i := range evs {
		evs[i] = traceEvent("m")
	}
	writeEvents(t, db, evs...)

	var ids []int64
	var after int64
	for {
		page, err := db.UnsyncedPage(ctx, "llm_traces", after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if r.ID <= after {
				t.Fatalf("id %d after %d: not oldest first", r.ID, after)
			}
			after = r.ID
			ids = append(ids, r.ID)
		}
	}
	if len(ids) != n {
		t.Fatalf("paged %d rows, want %d", len(ids), n)
	}
	if got := decodeRow(t, codec.Row{ID: ids[0], JSON: mustPage(t, db, 0)[0].JSON})["trace_id"]; got != evs[0].TraceID {
		t.Errorf("first row %v, want %s", got, evs[0].TraceID)
	}

	if err := db.MarkSynced(ctx, "llm_traces", ids[:n-1], 42); err != nil {
		t.Fatal(err)
	}
	left := mustPage(t, db, 0)
	if len(left) != 1 || left[0].ID != ids[n-1] {
		t.Fatalf("left unsynced: %v", left)
	}
	// Marking again must not move pushed_at of rows already synced.
	if err := db.MarkSynced(ctx, "llm_traces", ids, 43); err != nil {
		t.Fatal(err)
	}
	var first, second int64
	db.Reader().QueryRow(`SELECT count(*) FROM llm_traces WHERE synced = 1 AND pushed_at = 42`).Scan(&first)
	db.Reader().QueryRow(`SELECT count(*) FROM llm_traces WHERE synced = 1 AND pushed_at = 43`).Scan(&second)
	if first != n-1 || second != 1 {
		t.Errorf("pushed_at 42: %d rows, 43: %d rows; want %d and 1", first, second, n-1)
	}
}

func mustPage(t *testing.T, db *DB, after int64) []codec.Row {
	t.Helper()
	page, err := db.UnsyncedPage(context.Background(), "llm_traces", after, 10)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// A metadata value that is not JSON (written by hand, or by an older
// version) is sent as a string instead of failing the whole page.
func TestUnsyncedPageBadMetadata(t *testing.T) {
	db := MustOpenDB(t)
	if _, err := db.write.Exec(`INSERT INTO error_events (trace_id, created_at, error_type, message, metadata)
		VALUES ('x', 1, 'crash', 'm', 'not json')`); err != nil {
		t.Fatal(err)
	}
	page, err := db.UnsyncedPage(context.Background(), "error_events", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || decodeRow(t, page[0])["metadata"] != "not json" {
		t.Errorf("page = %v", page)
	}
}

func TestUnsyncedPageUsesIndex(t *testing.T) {
	db := MustOpenDB(t)
	rows, err := db.Reader().Query("EXPLAIN QUERY PLAN "+pageSQLs["llm_traces"], 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		rows.Scan(&id, &parent, &notused, &detail)
		plan += detail + "\n"
	}
	if want := "llm_traces_unsynced"; !strings.Contains(plan, want) {
		t.Errorf("plan does not use %s:\n%s", want, plan)
	}
}

func TestPushUnknownTable(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	if _, err := db.UnsyncedPage(ctx, "push_log; DROP TABLE x", 0, 1); err == nil {
		t.Error("UnsyncedPage accepted an unknown table")
	}
	if err := db.MarkSynced(ctx, "push_log", []int64{1}, 1); err == nil {
		t.Error("MarkSynced accepted an unknown table")
	}
}

func TestLogPush(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	for _, a := range []codec.PushAttempt{
		{At: 1, BatchID: "b1", Status: "error", Bytes: 100, DurationMS: 5, Error: "dial tcp: connection refused"},
		{At: 2, BatchID: "b1", Status: "ok", HTTPStatus: 200, Rows: 3, Bytes: 100, DurationMS: 7},
	} {
		if err := db.LogPush(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	type row struct {
		status string
		http   *int64
		rows   int64
		errMsg *string
	}
	var got []row
	rs, err := db.Reader().Query(`SELECT status, http_status, events_pushed, error_message FROM push_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.status, &r.http, &r.rows, &r.errMsg); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 2 || got[0].http != nil || got[0].errMsg == nil || got[1].errMsg != nil ||
		*got[1].http != 200 || got[1].rows != 3 {
		t.Errorf("push_log rows wrong: %+v", got)
	}
}
