package codec

import (
	"errors"
	"strconv"
)

// Payload is what an event carries: *Trace, *Error, *Metric or *Log.
type Payload interface{ put(*Event) }

func (t *Trace) put(e *Event)  { e.Trace = t }
func (e *Error) put(ev *Event) { ev.Error = e }
func (m *Metric) put(e *Event) { e.Metric = m }
func (l *Log) put(e *Event)    { e.Log = l }

// NewEvent makes the event that carries p into the writer, and gives it
// its trace_id: every producer makes its events here.
func NewEvent(t Transport, p Payload) Event {
	ev := Event{TraceID: NewTraceID(), Transport: t}
	p.put(&ev)
	return ev
}

// Batch is what one datagram or request body held: the events to store,
// what was refused, and the client_stats reports it carried.
type Batch struct {
	Elements int // the elements decoded, whatever became of them
	Events   []Event
	Refused  []Refused
	// Reports counts client_stats reports and ReportedDrops the drops
	// they tell of; they are not events.
	Reports, ReportedDrops int64
}

// Refused is an element of a batch that is not stored: its index in the
// array (0 for a lone object) and the field that is wrong.
type Refused struct {
	Index int
	Err   *FieldError
}

// ErrEmptyBatch is a request body holding an empty array.
var ErrEmptyBatch = errors.New("empty batch")

// Datagram decodes one datagram, JSON or msgpack as its first byte says,
// and decides each element by its "type": trace, error and log elements
// become events of transport t; client_stats reports are added up; an
// invalid element is refused and the others kept. The error is for a
// datagram that does not decode at all. b is not retained.
func (p *Parser) Datagram(b []byte, t Transport) (Batch, error) {
	f, err := Sniff(b)
	if err != nil {
		return Batch{}, err
	}
	vals, err := Decode(b, f)
	if err != nil {
		return Batch{}, err
	}
	batch := Batch{Elements: len(vals), Events: make([]Event, 0, len(vals))}
	for i, v := range vals {
		typ := typeOf(v)
		if typ == TypeClientStats {
			_, n, ferr := ClientStats(v)
			if ferr != nil {
				batch.Refused = append(batch.Refused, Refused{i, ferr})
				continue
			}
			batch.Reports++
			batch.ReportedDrops = sat(batch.ReportedDrops, n) // a report may claim any count
			continue
		}
		ev, ferr := p.event(typ, v, t)
		if ferr != nil {
			batch.Refused = append(batch.Refused, Refused{i, ferr})
			continue
		}
		batch.Events = append(batch.Events, ev)
	}
	return batch, nil
}

// Request decodes one HTTP request body in format f, whose path names the
// type of every element (TypeTrace, TypeError or TypeLog): an element may
// repeat it in "type" but not name another. A batch is all or nothing, so
// decoding stops at the first refused element and returns no events. The
// error is for a body that does not decode, or ErrEmptyBatch.
func (p *Parser) Request(b []byte, f Format, typ string) (Batch, error) {
	vals, err := Decode(b, f)
	if err != nil {
		return Batch{}, err
	}
	if len(vals) == 0 {
		return Batch{}, ErrEmptyBatch
	}
	evs := make([]Event, len(vals))
	for i, v := range vals {
		if t := typeOf(v); t != "" && t != typ {
			ferr := &FieldError{Field: "type", Msg: strconv.Quote(t) + " does not match the path (" + typ + ")"}
			return Batch{Elements: len(vals), Refused: []Refused{{i, ferr}}}, nil
		}
		ev, ferr := p.event(typ, v, HTTP)
		if ferr != nil {
			return Batch{Elements: len(vals), Refused: []Refused{{i, ferr}}}, nil
		}
		evs[i] = ev
	}
	return Batch{Elements: len(vals), Events: evs}, nil
}

// event validates v as an element of type typ and makes its event.
func (p *Parser) event(typ string, v any, t Transport) (Event, *FieldError) {
	var pl Payload
	var ferr *FieldError
	switch typ {
	case TypeTrace:
		var tr *Trace
		tr, ferr = p.Trace(v)
		pl = tr
	case TypeError:
		var e *Error
		e, ferr = p.Error(v)
		pl = e
	case TypeLog:
		var l *Log
		l, ferr = p.Log(v)
		pl = l
	default:
		return Event{}, fieldErr("type", "must be %q, %q or %q", TypeTrace, TypeError, TypeLog)
	}
	if ferr != nil {
		return Event{}, ferr
	}
	return NewEvent(t, pl), nil
}

// typeOf returns the "type" field of an element, or "" when absent or not
// a string.
func typeOf(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	s, _ := m["type"].(string)
	return s
}
