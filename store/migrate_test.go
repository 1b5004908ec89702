package store

import (
	"database/sql"
	"path/filepath"
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
