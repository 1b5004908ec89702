package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestMigration2Backfills opens a database written by a binary at schema
// 1 and wants migration 2 to give its traces a cost_source: supplied where
// a cost was stored, unpriced where none was (there was no table then).
func TestMigration2Backfills(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{migrations[0], "PRAGMA user_version = 1",
		`INSERT INTO llm_traces (trace_id, created_at, provider, model, cost_usd) VALUES ('a', 1, 'openai', 'gpt-4o', 0.5), ('b', 2, 'ollama', 'x', NULL)`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Reader().Query("SELECT trace_id, cost_source, price_version FROM llm_traces ORDER BY trace_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string]string{"a": "supplied", "b": "unpriced"}
	n := 0
	for rows.Next() {
		var id, src string
		var version *string
		if err := rows.Scan(&id, &src, &version); err != nil {
			t.Fatal(err)
		}
		if src != want[id] || version != nil {
			t.Errorf("%s: cost_source %q price_version %v, want %q NULL", id, src, version, want[id])
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d rows", n)
	}
}

// TestMigration4Backfills opens a database of the release before
// attribution columns (schema 3), whose plugin sent agent, channel,
// trigger, session and run inside metadata, and wants migration 4 to fill
// the columns as codec lifts them for such senders, and Open to add every
// stored call to the daily rollups once.
func TestMigration4Backfills(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 257)
	day := int64(1772704800000) // 2026-03-05 10:00 UTC
	stmts := append(append([]string{}, migrations[:3]...), "PRAGMA user_version = 3",
		`INSERT INTO llm_traces (trace_id, created_at, provider, model, prompt_tokens, cost_usd, cost_source, latency_ms, status, metadata) VALUES
		('a', `+fmt.Sprint(day)+`, 'openai', 'gpt-4o', 100, 0.25, 'table', 1000, 'ok',
			'{"source":"openclaw-plugin","agent_id":"main","session_key":"agent:main:telegram:direct:1","run_id":"r1","channel":"telegram","trigger":"user"}'),
		('b', `+fmt.Sprint(day+1000)+`, 'openai', 'gpt-4o', 50, NULL, 'unpriced', 2000, 'error',
			'{"agent_id":"main","channel":"telegram","trigger":"user","cron_job_id":"nightly","call_kind":"compaction"}'),
		('c', `+fmt.Sprint(day+86400000)+`, 'anthropic', 'claude', 10, 0.5, 'supplied', NULL, 'ok',
			'{"agent_id":5,"channel":"","trigger":"`+long+`","session_key":{"k":1}}'),
		('d', `+fmt.Sprint(day+86400000)+`, 'anthropic', 'claude', 10, 0.5, 'supplied', NULL, 'ok', 'not json {'),
		('e', `+fmt.Sprint(day+86400000)+`, 'anthropic', 'claude', 10, 0.5, 'supplied', NULL, 'ok', NULL)`)
	for _, q := range stmts {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.BackfilledCalls != 5 {
		t.Errorf("backfilled %d calls, want 5", db.BackfilledCalls)
	}
	rows, err := db.Reader().Query(`SELECT trace_id, coalesce(agent_id, '-') || ' ' || coalesce(channel, '-') || ' ' ||
		coalesce(trigger, '-') || ' ' || coalesce(cron_job_id, '-') || ' ' || coalesce(session_key, '-') || ' ' ||
		coalesce(run_id, '-') || ' ' || coalesce(call_kind, '-') FROM llm_traces ORDER BY trace_id`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var id, attr string
		if err := rows.Scan(&id, &attr); err != nil {
			t.Fatal(err)
		}
		got[id] = attr
	}
	rows.Close()
	want := map[string]string{
		"a": "main telegram user - agent:main:telegram:direct:1 r1 -",
		"b": "main telegram user nightly - - compaction",
		"c": "- - - - - - -", // not strings, empty, too long: not lifted
		"d": "- - - - - - -", // metadata that is not JSON
		"e": "- - - - - - -",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attribution after migration:\n got %v\nwant %v", got, want)
	}
	wantRollups := []string{
		"2026-03-05 openai gpt-4o main telegram user : 1 0 100 250000000 0",
		"2026-03-05 openai gpt-4o main telegram user nightly: 1 1 50 0 1",
		"2026-03-06 anthropic claude    : 3 0 30 1500000000 0",
	}
	if got := rollupRows(t, db); !reflect.DeepEqual(got, wantRollups) {
		t.Errorf("rollups:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantRollups, "\n"))
	}
	var backfill int
	if err := db.Reader().QueryRow("SELECT backfill FROM rollup_state").Scan(&backfill); err != nil || backfill != 0 {
		t.Errorf("backfill flag %d %v, want 0", backfill, err)
	}
	// Once: a second Open adds nothing.
	db.Close()
	db2 := NewDB(path)
	if err := db2.Open(); err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got := rollupRows(t, db2); db2.BackfilledCalls != 0 || !reflect.DeepEqual(got, wantRollups) {
		t.Errorf("second open backfilled %d calls; rollups %q", db2.BackfilledCalls, got)
	}
}
