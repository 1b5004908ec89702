package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// A row set aside is kept with the receiver's answer, no page holds it,
// the unsynced count leaves it out, and retention deletes it like a
// delivered row; a synced row cannot be set aside.
func TestSetAside(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	day := 24 * time.Hour
	ids := seed(t, db, []seedRow{{"llm_traces", 5 * day, false}, {"llm_traces", 5 * day, false},
		{"llm_traces", 5 * day, true}, {"error_events", time.Hour, false}})
	page := mustPage(t, db, 0)
	if err := db.SetAside(ctx, "llm_traces", page[1].ID, "http 400: bad model", 42); err != nil {
		t.Fatal(err)
	}
	var synced, pushedAt int64
	var answer string
	if err := db.Reader().QueryRow(`SELECT synced, pushed_at, push_error FROM llm_traces WHERE trace_id = ?`, ids[1]).
		Scan(&synced, &pushedAt, &answer); err != nil {
		t.Fatal(err)
	}
	if synced != 2 || pushedAt != 42 || answer != "http 400: bad model" {
		t.Errorf("set aside row: synced %d pushed_at %d push_error %q", synced, pushedAt, answer)
	}
	if got := mustPage(t, db, 0); len(got) != 1 || got[0].ID != page[0].ID {
		t.Errorf("unsynced page holds %d rows, want only the first", len(got))
	}
	if n, err := db.UnsyncedCount(ctx); n != 2 || err != nil {
		t.Errorf("unsynced %d (%v), want 2", n, err)
	}
	// Synced rows stay synced.
	var syncedID int64
	db.Reader().QueryRow(`SELECT id FROM llm_traces WHERE trace_id = ?`, ids[2]).Scan(&syncedID)
	if err := db.SetAside(ctx, "llm_traces", syncedID, "http 400", 43); err != nil {
		t.Fatal(err)
	}
	if n, err := db.SetAsideCount(ctx); n != 1 || err != nil {
		t.Errorf("set aside count %d (%v), want 1", n, err)
	}
	if err := db.SetAside(ctx, "push_log", 1, "x", 1); err == nil {
		t.Error("SetAside accepted a table that is not a data table")
	}

	c := newTestCleaner(db)
	if _, err := c.CleanOnce(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{ids[0], ids[3]} // the old unsynced row and the young one
	slices.Sort(want)
	if got := remaining(t, db); !slices.Equal(got, want) {
		t.Errorf("after retention %v, want %v (the set aside row goes like a synced one)", got, want)
	}
}
