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
func (t *Table) DecodeRow(raw []byte) (Event, error) {
	rt := t.rowType()
	row := reflect.New(rt.typ).Elem()
	if err := json.Unmarshal(raw, row.Addr().Interface()); err != nil {
		return Event{}, fmt.Errorf("decode %s row: %w", t.Name, err)
	}
	var ev Event
	t.payload(&ev)
	for i, c := range t.Columns {
		reflect.ValueOf(c.field(&ev)).Elem().Set(row.Field(i))
	}
	return ev, nil
}

// rowType is a struct type with one field per column of a table, of the
// column's field type and tagged with its name: one json.Unmarshal
// decodes a row into it, as fast as a hand-written struct, and no tag is
// written by hand. It is built from the columns on first use.
type rowType struct {
	once sync.Once
	typ  reflect.Type
}

var rowTypes sync.Map // *Table → *rowType

func (t *Table) rowType() *rowType {
	v, _ := rowTypes.LoadOrStore(t, &rowType{})
	rt := v.(*rowType)
	rt.once.Do(func() {
		var ev Event
		t.payload(&ev)
		fields := make([]reflect.StructField, len(t.Columns))
		for i, c := range t.Columns {
			fields[i] = reflect.StructField{
				Name: "C" + strconv.Itoa(i),
				Type: reflect.TypeOf(c.field(&ev)).Elem(),
				Tag:  reflect.StructTag(`json:"` + c.Name + `"`),
			}
		}
		rt.typ = reflect.StructOf(fields)
	})
	return rt
}
