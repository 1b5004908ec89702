package store

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

var rollupSize = flag.Bool("rollup.size", false, "measure the rollups' bytes per day (TestRollupSize)")

// TestRollupSize measures what a day of rollups takes on disk, by how many
// name combinations the day's calls have (the size does not depend on the
// number of calls): 20 calls per combination, latencies over ~10 buckets.
//
//	go test ./store/ -run TestRollupSize -v -rollup.size
func TestRollupSize(t *testing.T) {
	if !*rollupSize {
		t.Skip("-rollup.size measures; it asserts nothing")
	}
	for _, keys := range []int{50, 500, 2000, 5000} {
		db := MustOpenDB(t)
		day := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
		var evs []codec.Event
		models := []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "claude-3-5-haiku", "gemini-2.5-pro", "gemini-2.5-flash"}
		triggers := []string{"user", "heartbeat", "cron", "memory"}
		for k := range keys {
			for c := range 20 {
				ev := call(day.Add(time.Duration(k*20+c)*time.Second/2), models[k%6], fmt.Sprintf("agent-%d", k/4), triggers[k%4],
					int64(1000+c*100), ptr(0.001*float64(c)), int64(200*(c%10+1)*(c%3+1)))
				ev.Trace.Channel = []string{"telegram", "slack", "web"}[k%3]
				if ev.Trace.Trigger == "cron" {
					ev.Trace.CronJobID = fmt.Sprintf("job-%d", k%7)
				}
				evs = append(evs, ev)
			}
		}
		writeEvents(t, db, evs...)
		var rows, bytes int64
		if err := db.Reader().QueryRow("SELECT count(*) FROM llm_rollups").Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if err := db.Reader().QueryRow("SELECT sum(pgsize) FROM dbstat WHERE name = 'llm_rollups'").Scan(&bytes); err != nil {
			t.Fatal(err)
		}
		t.Logf("%5d combinations a day: %5d rows, %8d bytes (%d bytes a row); 400 days: %.1f MB",
			keys, rows, bytes, bytes/rows, float64(bytes)*400/1e6)
	}
}
