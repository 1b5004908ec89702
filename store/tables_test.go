package store

import (
	"slices"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

// The migrated schema and codec's table definitions must agree: a column
// added to codec without a migration (or the reverse) fails here, not at
// the writer's first prepare in production.
func TestTablesMatchSchema(t *testing.T) {
	db := MustOpenDB(t)
	local := []string{"id", "synced", "pushed_at", "push_error"} // store's bookkeeping
	for _, table := range codec.DataTables {
		rows, err := db.Reader().Query("SELECT name FROM pragma_table_info(?) ORDER BY cid", table.Name)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(local, name) {
				got = append(got, name)
			}
		}
		rows.Close()
		var want []string
		for _, c := range table.Columns {
			want = append(want, c.Name)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema columns %v, codec columns %v", table.Name, got, want)
		}
	}
}

func TestInsertSQL(t *testing.T) {
	tb := &codec.Table{Name: "t", Columns: []codec.Column{{Name: "a"}, {Name: "b"}, {Name: "c", JSON: true}}}
	if got, want := insertSQL(tb), "INSERT INTO t (a, b, c) VALUES (?, ?, ?)"; got != want {
		t.Errorf("insertSQL = %q, want %q", got, want)
	}
	want := "SELECT id, json_object('a', a, 'b', b, 'c', CASE WHEN json_valid(c) THEN json(c) ELSE c END)" +
		" FROM t WHERE synced = 0 AND id > ? ORDER BY id LIMIT ?"
	if got := pageSQL(tb); got != want {
		t.Errorf("pageSQL = %q, want %q", got, want)
	}
}
