package push

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
)

func TestBodySizeIsExact(t *testing.T) {
	cases := [][]int{ // table of each row added, in order
		{},
		{0},
		{3},
		{0, 0, 0},
		{1, 3},
		{0, 2, 2, 3},
		{0, 1, 2, 3, 3},
	}
	var b body
	for _, tablesOf := range cases {
		b.reset(`agent "quoted"`, "0190a6b0-0000-7000-8000-000000000000", 1700000000000)
		for i, table := range tablesOf {
			b.add(table, Row{ID: int64(i), JSON: json.RawMessage(fmt.Sprintf(`{"trace_id":"t%d"}`, i))})
		}
		size := b.size
		out := b.finish()
		if len(out) != size {
			t.Errorf("%v: size %d, body %d bytes: %s", tablesOf, size, len(out), out)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%v: %v: %s", tablesOf, err, out)
		}
		for _, table := range tables {
			if _, ok := m[table]; !ok {
				t.Errorf("%v: %s missing: %s", tablesOf, table, out)
			}
		}
		if !strings.HasPrefix(string(out), `{"agent_id":"agent \"quoted\"","batch_id":`) {
			t.Errorf("head: %s", out)
		}
	}
}

func TestBodyFits(t *testing.T) {
	var b body
	b.reset("a", "b", 1)
	if !b.fits(0, 1<<30, 10) {
		t.Error("an empty body refused a row")
	}
	b.add(0, Row{ID: 1, JSON: json.RawMessage(`{}`)})
	max := b.size + 3 // room for ",{}" exactly
	if !b.fits(0, 2, max) || b.fits(0, 3, max) {
		t.Error("fits is not exact")
	}
}

func TestFullJitter(t *testing.T) {
	c := NewClient("", nil)
	c.Retry.InitialInterval, c.Retry.MaxInterval = 100*time.Millisecond, 800*time.Millisecond
	caps := []time.Duration{100, 200, 400, 800, 800}
	for run := 0; run < 200; run++ {
		b := c.Retry.backOff()
		b.Reset()
		for i, cp := range caps {
			d := b.NextBackOff()
			if d < 0 || d >= cp*time.Millisecond || d == backoff.Stop {
				t.Fatalf("try %d: wait %v outside [0, %v)", i, d, cp*time.Millisecond)
			}
		}
	}
}

// Every table of the database that push bookkeeping applies to (it has
// a synced column, whatever codec says) is a section of the body, with
// its rows; the body has no other section.
func TestBodyHoldsEverySyncedTable(t *testing.T) {
	db := mustOpenDB(t)
	rs, err := db.Reader().Query(`SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND c.name = 'synced' ORDER BY m.name`)
	if err != nil {
		t.Fatal(err)
	}
	var synced []string
	for rs.Next() {
		var name string
		if err := rs.Scan(&name); err != nil {
			t.Fatal(err)
		}
		synced = append(synced, name)
	}
	rs.Close()
	if len(synced) == 0 {
		t.Fatal("no table with a synced column")
	}
	evs := allKinds()
	writeEvents(t, db, evs...)
	rc := newReceiver(t, nil)
	c := newTestClient(t, db, rc.srv.URL, nil)
	if _, err := c.PushOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	bodies := rc.received()
	if len(bodies) != 1 {
		t.Fatalf("%d bodies, want 1", len(bodies))
	}
	var sections []string
	for k := range bodies[0].body {
		if k != "agent_id" && k != "batch_id" && k != "sent_at" {
			sections = append(sections, k)
		}
	}
	sort.Strings(sections)
	if !reflect.DeepEqual(sections, synced) {
		t.Errorf("body sections %v, tables with a synced column %v", sections, synced)
	}
	got := bodies[0].traceIDs(t)
	if len(got) != len(evs) || unsynced(t, db) != 0 {
		t.Errorf("body holds %d rows of %d, %d left unsynced", len(got), len(evs), unsynced(t, db))
	}
}
