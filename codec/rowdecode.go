package codec

import (
	"encoding/json"
	"fmt"
)

// DecodeRow reads one stored row of t back into an Event: raw is the row
// as store pages it (Row.JSON: one object keyed by column name, NULL as
// null, a JSON column embedded as an object). Each column is set through
// the same field its Value reads, so what is written is what comes back.
// A column missing from the object is an error: a row paged with other
// columns must not read as NULLs. Transport is not stored and stays zero.
func (t *Table) DecodeRow(raw []byte) (Event, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Event{}, fmt.Errorf("decode %s row: %w", t.Name, err)
	}
	var ev Event
	t.payload(&ev)
	for _, c := range t.Columns {
		v, ok := obj[c.Name]
		if !ok {
			return Event{}, fmt.Errorf("decode %s row: column %s missing", t.Name, c.Name)
		}
		if err := json.Unmarshal(v, c.field(&ev)); err != nil {
			return Event{}, fmt.Errorf("decode %s row: column %s: %w", t.Name, c.Name, err)
		}
	}
	return ev, nil
}
