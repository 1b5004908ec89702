package codec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"sync"
)

// DecodeRow reads one stored row of t back into an Event: raw is the row
// as store pages it (Row.JSON: one object keyed by column name, NULL as
// null, a JSON column embedded as an object). Each column is set through
// the same field its Value reads, so what is written is what comes back;
// a column absent from the object stays zero. Transport is not stored and
// stays zero.
func (t *Table) DecodeRow(raw []byte) (Event, error) { return t.decodeRow(raw, false) }

// DecodeRowSkipContent is DecodeRow without the Content columns, which
// stay nil: a sink that does not send what was said (OTLP) neither
// allocates nor copies it.
func (t *Table) DecodeRowSkipContent(raw []byte) (Event, error) { return t.decodeRow(raw, true) }

func (t *Table) decodeRow(raw []byte, skipContent bool) (Event, error) {
	rt := t.rowTypes()
	typ := rt.full
	if skipContent {
		typ = rt.noContent
	}
	row := reflect.New(typ).Elem()
	if err := json.Unmarshal(raw, row.Addr().Interface()); err != nil {
		return Event{}, fmt.Errorf("decode %s row: %w", t.Name, err)
	}
	var ev Event
	t.payload(&ev)
	for i, c := range t.Columns {
		if !(skipContent && c.Content) {
			reflect.ValueOf(c.field(&ev)).Elem().Set(row.Field(i))
		}
	}
	return ev, nil
}

// rowType is, for a table, a struct type with one field per column, of
// the column's field type and tagged with its name: one json.Unmarshal
// decodes a row into it, as fast as a hand-written struct, and no tag is
// written by hand. noContent is the same with the Content columns
// untagged ("-"), so the decoder skips them. Both are built from the
// columns on first use.
type rowType struct {
	once            sync.Once
	full, noContent reflect.Type
}

var rowTypeOf sync.Map // *Table → *rowType

func (t *Table) rowTypes() *rowType {
	v, _ := rowTypeOf.LoadOrStore(t, &rowType{})
	rt := v.(*rowType)
	rt.once.Do(func() {
		var ev Event
		t.payload(&ev)
		full := make([]reflect.StructField, len(t.Columns))
		noContent := make([]reflect.StructField, len(t.Columns))
		for i, c := range t.Columns {
			full[i] = reflect.StructField{
				Name: "C" + strconv.Itoa(i),
				Type: reflect.TypeOf(c.field(&ev)).Elem(),
				Tag:  reflect.StructTag(`json:"` + c.Name + `"`),
			}
			noContent[i] = full[i]
			if c.Content {
				noContent[i].Tag = `json:"-"`
			}
		}
		rt.full, rt.noContent = reflect.StructOf(full), reflect.StructOf(noContent)
	})
	return rt
}
