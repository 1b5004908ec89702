package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
)

// notColumns are payload fields that are not columns of their table.
var notColumns = map[string]bool{
	"Log.Cursor": true, // saved in log_cursors, with the row's batch
	// Unknown top-level fields are kept in metadata; their names go in the
	// HTTP answer only.
	"Trace.Unknown": true,
	"Error.Unknown": true,
	"Log.Unknown":   true,
}

// fill sets every exported field of the payload v points at to a value no
// other field has, so a column that reads or sets the wrong field, or a
// field without a column, shows in a round trip. It fails on a field type
// it does not know, so a new kind of column extends it first.
func fill(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f, sf := rv.Field(i), rv.Type().Field(i)
		name := rv.Type().Name() + "." + sf.Name
		if !sf.IsExported() || notColumns[name] {
			continue
		}
		if sf.Anonymous && f.Kind() == reflect.Struct { // codec.Attribution
			fill(t, f.Addr().Interface())
			continue
		}
		n := int64(1000 + 7*i)
		switch p := f.Addr().Interface().(type) {
		case *string:
			*p = name
		case *int64:
			*p = n
		case **string:
			*p = &name
		case **int64:
			*p = &n
		case **float64:
			x := float64(n) + 0.5 // exact in the 15 digits SQLite's JSON keeps
			*p = &x
		case *map[string]any:
			*p = map[string]any{"field": name, "n": float64(n)}
		default:
			t.Fatalf("%s: fill does not know %s", name, sf.Type)
		}
	}
}

// Every column of every data table comes back as it went in: an event is
// written by the Writer, paged as the sinks read it, and decoded with
// codec's DecodeRow. A payload field without a column, a column that
// reads or sets another field, or a page query that drops or renames a
// column fails here.
func TestRowsRoundTrip(t *testing.T) {
	db := MustOpenDB(t)
	var evs []codec.Event
	for _, payload := range []any{&codec.Trace{}, &codec.Error{}, &codec.Metric{}, &codec.Log{}} {
		fill(t, payload)
		ev := codec.Event{TraceID: codec.NewTraceID()}
		switch p := payload.(type) {
		case *codec.Trace:
			ev.Trace = p
		case *codec.Error:
			ev.Error = p
		case *codec.Metric:
			ev.Metric = p
		case *codec.Log:
			ev.Log = p
		}
		evs = append(evs, ev)
	}
	writeEvents(t, db, evs...)
	for _, want := range evs {
		table := want.DataTable()
		page, err := db.PageAfter(context.Background(), table.Name, 0, 10)
		if err != nil || len(page) != 1 {
			t.Fatalf("%s: page %d rows, %v", table.Name, len(page), err)
		}
		got, err := table.DecodeRow(page[0].JSON)
		if err != nil {
			t.Fatalf("%s: %v", table.Name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: round trip\n got %s\nwant %s", table.Name, show(got), show(want))
		}
	}
}

func show(ev codec.Event) string {
	for _, p := range []any{ev.Trace, ev.Error, ev.Metric, ev.Log} {
		if v := reflect.ValueOf(p); !v.IsNil() {
			return fmt.Sprintf("%s %+v", ev.TraceID, deref(v.Elem()))
		}
	}
	return ev.TraceID
}

// deref shows a payload's pointer fields by value.
func deref(v reflect.Value) map[string]any {
	m := map[string]any{}
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			f = f.Elem()
		}
		m[v.Type().Field(i).Name] = f.Interface()
	}
	return m
}
