package view

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestSessionCalls(t *testing.T) {
	db := attributedFixture(t)
	v := New(db.Reader())
	sc, err := v.SessionCalls(context.Background(), "s3", 0)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Total != 2 || sc.Truncated || len(sc.Calls) != 2 {
		t.Fatalf("%+v", sc)
	}
	first, second := sc.Calls[0], sc.Calls[1]
	if first.At != sumNow.Add(-5*time.Hour).UnixMilli() || first.CostUSD != nil || *first.CostSource != "unpriced" ||
		*first.LatencyMS != 700 || *first.TTFTMS != 175 || *first.Trigger != "cron" || *first.CronJobID != "nightly" ||
		second.At != sumNow.Add(-4*time.Hour).UnixMilli() || *second.CostUSD != 0.005 || second.Status != "ok" {
		t.Errorf("calls in order: %+v\n%+v", first, second)
	}
	// The newest limit calls, still oldest first.
	sc, err = v.SessionCalls(context.Background(), "s1", 1)
	if err != nil || sc.Total != 2 || !sc.Truncated || len(sc.Calls) != 1 || sc.Calls[0].At != sumNow.Add(-time.Hour).UnixMilli() {
		t.Errorf("limit 1: %+v %v", sc, err)
	}
	sc, err = v.SessionCalls(context.Background(), "nobody", 0)
	if err != nil || sc.Total != 0 || sc.Calls == nil || len(sc.Calls) != 0 {
		t.Errorf("unknown session: %+v %v", sc, err)
	}
}

func TestCallRow(t *testing.T) {
	db := openDB(t)
	ev := attributed(time.Hour, "main", "user", "", "s1", ptr(0.5), 100)
	ev.Trace.Metadata = map[string]any{"harness": "pi"}
	writeEvents(t, db, ev)
	v := New(db.Reader())
	row, err := v.CallRow(context.Background(), ev.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(row)
	var got map[string]any
	json.Unmarshal(b, &got)
	if got["trace_id"] != ev.TraceID || got["agent_id"] != "main" || got["cost_usd"] != 0.5 || got["model"] != "gpt-4o" ||
		got["metadata"].(map[string]any)["harness"] != "pi" || got["input_text"] != nil || got["session_key"] != "s1" {
		t.Errorf("row %s", b)
	}
	if _, err := v.CallRow(context.Background(), "no-such-id"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

// TestOlderSchemaNames: report reads files it does not migrate; one from
// before the attribution columns has the names in metadata, and a row
// whose metadata is not JSON must not fail the read.
func TestOlderSchemaNames(t *testing.T) {
	db := summaryFixture(t)
	rawExec(t, db.Path,
		`UPDATE llm_traces SET metadata = json_set(metadata, '$.session_key', 'sx') WHERE model = 'gpt-4o'`,
		`UPDATE llm_traces SET metadata = 'not json {' WHERE model = 'llama3'`,
		// what the file looked like: no columns, no rollups
		`UPDATE llm_traces SET agent_id = NULL, channel = NULL, session_key = NULL`,
		`PRAGMA user_version = 3`)
	v := New(db.Reader())
	s, err := v.Summary(context.Background(), SummaryOptions{Since: sumNow.Add(-24 * time.Hour), Until: sumNow})
	if err != nil {
		t.Fatal(err)
	}
	agents := map[string]int64{}
	for _, a := range s.ByAgent {
		agents[a.Key] = a.Calls
	}
	if s.Totals.Calls != 6 || agents["main"] != 2 || agents["ops"] != 2 || agents[""] != 2 || s.Coverage.RollupFrom != "" {
		t.Errorf("calls %d agents %v coverage %+v", s.Totals.Calls, agents, s.Coverage)
	}
	sc, err := v.SessionCalls(context.Background(), "sx", 0)
	if err != nil || sc.Total != 4 || sc.Calls[0].AgentID != nil {
		t.Errorf("session from metadata: %+v %v", sc, err)
	}
}
