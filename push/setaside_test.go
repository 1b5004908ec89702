package push

import (
	"bytes"
	"context"
	"maps"
	"math/bits"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

const poison = "POISON"

// refusingReceiver answers code to every body holding poison and 200 to
// the others.
func refusingReceiver(t *testing.T, code int) *receiver {
	var rc *receiver
	rc = newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if bytes.Contains(rc.received()[n].raw, []byte(poison)) {
			http.Error(w, `{"error":"row refused"}`, code)
			return true
		}
		return false
	})
	return rc
}

// delivered counts, by trace_id, the rows of the bodies rc answered 2xx.
func delivered(t *testing.T, rc *receiver) map[string]int {
	seen := map[string]int{}
	for _, b := range rc.received() {
		if bytes.Contains(b.raw, []byte(poison)) {
			continue
		}
		for _, id := range b.traceIDs(t) {
			seen[id]++
		}
	}
	return seen
}

func openDB(t *testing.T, path string) *store.DB {
	t.Helper()
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	return db
}

// One row the receiver refuses (400 to any body holding it) no longer
// stops the push: the body is narrowed down to that row, which is set
// aside (kept, marked, counted); every other row is delivered once; no
// cycle sends it again, after a restart neither. The figures:
// 1,100 rows before the bad one, 2,076 after, bodies of about 1,000.
func TestRefusedRowSetAsideRestDelivered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.db")
	db := openDB(t, path)
	evs := traces(3177, strings.Repeat("lorem ipsum ", 75))
	bad := evs[1100]
	bad.Trace.InputText = ptr(poison + " " + *bad.Trace.InputText)
	writeEvents(t, db, evs...)
	rc := refusingReceiver(t, http.StatusBadRequest)
	c := newTestClient(t, db, rc.srv.URL, nil)
	res, err := c.PushOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3176 || res.SetAside != 1 || unsynced(t, db) != 0 {
		t.Errorf("result %+v, %d unsynced; want 3176 rows delivered, 1 set aside, 0 left", res, unsynced(t, db))
	}
	got := delivered(t, rc)
	for _, ev := range evs {
		if want := map[bool]int{true: 0, false: 1}[ev.TraceID == bad.TraceID]; got[ev.TraceID] != want {
			t.Errorf("%s delivered %d times, want %d", ev.TraceID, got[ev.TraceID], want)
		}
	}
	if want := map[string]int64{"http_400": 1}; !maps.Equal(c.Rejected.Snapshot(), want) {
		t.Errorf("rejected %v, want %v", c.Rejected.Snapshot(), want)
	}
	// Narrowing is bounded: the refused body, then one refused half per
	// level of halving (a body holds at most 1,024 rows of these).
	var refused, empty int
	for _, b := range rc.received() {
		switch {
		case bytes.Contains(b.raw, []byte(poison)):
			refused++
		case len(b.traceIDs(t)) == 0:
			empty++
		}
	}
	t.Logf("%d rows delivered, %d set aside, in %d requests (%d refused, %d without rows)",
		res.Rows, res.SetAside, len(rc.received()), refused, empty)
	if limit := 1 + bits.Len(1024); refused > limit || empty != 1 {
		t.Errorf("%d bodies refused (limit %d), %d without rows (want 1)", refused, limit, empty)
	}
	var synced int
	var answer string
	db.Reader().QueryRow(`SELECT synced, push_error FROM llm_traces WHERE trace_id = ?`, bad.TraceID).Scan(&synced, &answer)
	if synced != 2 || !strings.HasPrefix(answer, `http 400: {"error":"row refused"}`) {
		t.Errorf("bad row: synced %d, push_error %q", synced, answer)
	}

	sent := len(rc.received())
	if _, err := c.PushOnce(context.Background()); err != nil || len(rc.received()) != sent {
		t.Errorf("next cycle: %v, %d more requests", err, len(rc.received())-sent)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, path) // a restart
	defer db.Close()
	c = newTestClient(t, db, rc.srv.URL, nil)
	if _, err := c.PushOnce(context.Background()); err != nil || len(rc.received()) != sent {
		t.Errorf("after a restart: %v, %d more requests", err, len(rc.received())-sent)
	}
	if n, err := db.SetAsideCount(context.Background()); n != 1 || err != nil {
		t.Errorf("set aside after a restart: %d (%v), want 1", n, err)
	}
}

// A row larger than the cap goes alone; when the receiver refuses it
// (413) while it is the oldest, it is set aside and the rows behind it
// go, in the same cycle.
func TestOversizeRowRefusedAlone(t *testing.T) {
	db := mustOpenDB(t)
	big := traceEvent(poison + strings.Repeat("y", 10<<10))
	evs := append([]codec.Event{big}, traces(20, "small")...)
	writeEvents(t, db, evs...)
	rc := refusingReceiver(t, http.StatusRequestEntityTooLarge)
	c := newTestClient(t, db, rc.srv.URL, nil)
	c.MaxBytes = 4 << 10
	res, err := c.PushOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 20 || res.SetAside != 1 || unsynced(t, db) != 0 || c.Rejected.Snapshot()["http_413"] != 1 {
		t.Errorf("result %+v, %d unsynced, rejected %v", res, unsynced(t, db), c.Rejected.Snapshot())
	}
	if got := delivered(t, rc); len(got) != 20 {
		t.Errorf("%d rows delivered, want 20", len(got))
	}
}

// Narrow sends parts in order and halves only refused ones; its cost for
// one refused row among n is at most 1 + 2·⌈log2 n⌉ requests.
func TestNarrowHalvesRefusedParts(t *testing.T) {
	for _, tc := range []struct {
		n, bad   int
		requests int
	}{{1, 0, 1}, {2, 1, 3}, {8, 0, 7}, {8, 7, 7}, {1000, 500, 21}, {1000, 999, 21}} {
		rows := make([]int, tc.n)
		for i := range rows {
			rows[i] = i
		}
		var requests int
		var got, setAside []int
		deliver := func(_ context.Context, part []int) error {
			requests++
			for _, r := range part {
				if r == tc.bad {
					return &StatusError{Code: 422}
				}
			}
			got = append(got, part...)
			return nil
		}
		err := Narrow(context.Background(), rows, &StatusError{Code: 400}, deliver,
			func(_ context.Context, r int, why *StatusError) error {
				if why.Code != 422 && tc.n > 1 {
					t.Errorf("n=%d: row %d set aside for %d, want the answer to it alone (422)", tc.n, r, why.Code)
				}
				setAside = append(setAside, r)
				return nil
			})
		if err != nil || len(setAside) != 1 || setAside[0] != tc.bad || len(got) != tc.n-1 || requests > tc.requests {
			t.Errorf("n=%d bad=%d: err %v, set aside %v, %d delivered, %d requests (at most %d)",
				tc.n, tc.bad, err, setAside, len(got), requests, tc.requests)
		}
		for i := 1; i < len(got); i++ {
			if got[i] < got[i-1] {
				t.Errorf("n=%d: delivered out of order: %v", tc.n, got)
				break
			}
		}
	}
}
