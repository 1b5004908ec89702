package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestPositionsPageAfterAndAdvance(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	seed(t, db, []seedRow{{"llm_traces", time.Hour, true}, {"llm_traces", time.Hour, false}, {"llm_traces", time.Hour, false}})
	if p, err := db.Position(ctx, "otlp", "llm_traces"); p != 0 || err != nil {
		t.Fatalf("position before any export = %d, %v", p, err)
	}
	page, err := db.PageAfter(ctx, "llm_traces", 0, 10)
	if err != nil || len(page) != 3 {
		t.Fatalf("page after 0: %d rows, %v; want all 3, synced or not", len(page), err)
	}
	if err := db.Advance(ctx, "otlp", "llm_traces", page[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Advance(ctx, "otlp", "llm_traces", page[0].ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := db.Position(ctx, "otlp", "llm_traces"); p != page[1].ID {
		t.Errorf("position %d, want %d: a position never moves back", p, page[1].ID)
	}
	if p, _ := db.Position(ctx, "otlp.histograms", "llm_traces"); p != 0 {
		t.Errorf("streams share a position: %d", p)
	}
	if n, err := db.CountAfter(ctx, "llm_traces", page[1].ID); n != 1 || err != nil {
		t.Errorf("count after = %d, %v; want 1", n, err)
	}
	if _, err := db.PageAfter(ctx, "nope", 0, 1); err == nil {
		t.Error("unknown table accepted")
	}
}

// With the exporter enabled, a synced row it has not sent is not
// delivered: retention keeps it, and disk pressure takes it only after
// every delivered row, counted as evicted.
func TestCleanWaitsForEverySink(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	day := 24 * time.Hour
	ids := seed(t, db, []seedRow{
		{"llm_traces", 5 * day, true}, {"llm_traces", 4 * day, true}, {"llm_traces", 4 * day, false},
	})
	page, _ := db.PageAfter(ctx, "llm_traces", 0, 10)
	if err := db.Advance(ctx, "otlp", "llm_traces", page[0].ID); err != nil {
		t.Fatal(err)
	}
	c := newTestCleaner(db)
	c.Streams = map[string][]string{"llm_traces": {"otlp"}}
	if _, err := c.CleanOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := remaining(t, db), pick(ids, func(i int) bool { return i > 0 }); !slices.Equal(got, want) {
		t.Fatalf("retention left %v; want all but the first (the only row both sinks have)", got)
	}
	c.HighWatermark = 80
	c.Volume = func() (Volume, error) { return percentUsed(99), nil }
	res, err := c.CleanOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if Sum(res.Evicted) != 2 || Sum(res.Relieved) != 0 {
		t.Errorf("pressure: evicted %d relieved %d, want 2 and 0 (neither row reached every sink)",
			Sum(res.Evicted), Sum(res.Relieved))
	}
}
