package store

import (
	"fmt"
	"strings"

	"github.com/openclaw/openclaw-trace/codec"
)

// The statements on the data tables are derived from codec's table
// definitions (codec/table.go says how to add a column); only the
// migrations in schema.go spell the tables out.

// DataTables are the names of the tables whose rows are pushed, in push
// order.
var DataTables = func() []string {
	names := make([]string, 0, codec.NumDataTables)
	for _, t := range codec.DataTables {
		names = append(names, t.Name)
	}
	return names
}()

// insertSQL is the INSERT of one row of t, columns in t's order.
func insertSQL(t *codec.Table) string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return "INSERT INTO " + t.Name + " (" + strings.Join(names, ", ") + ") VALUES (?" +
		strings.Repeat(", ?", len(names)-1) + ")"
}

// pageSQL is the query of one page of unsynced rows of t, each row one
// JSON object of t's columns (id, synced and pushed_at are local
// bookkeeping the receiver has no use for). SQLite builds the JSON, so Go
// never decodes and re-encodes a row.
func pageSQL(t *codec.Table) string {
	args := make([]string, 0, len(t.Columns))
	for _, c := range t.Columns {
		v := c.Name
		if c.JSON {
			// Embedded as an object; a value that is not valid JSON is sent
			// as a string rather than failing the query: one bad row must
			// not block every push.
			v = fmt.Sprintf("CASE WHEN json_valid(%[1]s) THEN json(%[1]s) ELSE %[1]s END", c.Name)
		}
		args = append(args, fmt.Sprintf("'%s', %s", c.Name, v))
	}
	return "SELECT id, json_object(" + strings.Join(args, ", ") + ") FROM " + t.Name +
		" WHERE synced = 0 AND id > ? ORDER BY id LIMIT ?"
}

// pageSQLs holds pageSQL of every data table by name, built once.
var pageSQLs = func() map[string]string {
	m := make(map[string]string, codec.NumDataTables)
	for _, t := range codec.DataTables {
		m[t.Name] = pageSQL(t)
	}
	return m
}()
