package push

import (
	"encoding/json"
	"strconv"
)

// body is one push body under construction:
//
//	{"agent_id":…,"batch_id":…,"sent_at":…,"llm_traces":[…],"error_events":[…],"system_metrics":[…],"log_events":[…]}
//
// Rows are written straight into buf as they arrive, tables in the order
// of tables, so a body costs its own size and no copy of its rows. size is
// the length the body will have once finished, so fits is exact.
type body struct {
	buf     []byte
	limit   int // the cap bodies are built for: buf grows no further
	size    int
	open    int // index of the table whose array is open; -1 before the first row
	ids     [len(tables)][]int64
	refs    []rowRef // every row, in order, for Narrow
	rows    int
	batchID string
}

// rowRef is where one row of a body lies in buf.
type rowRef struct {
	table      int
	id         int64
	start, end int
}

// tableRow is one row of a body and its table.
type tableRow struct {
	table int
	Row
}

// reset starts a new, empty body; buf keeps its capacity.
func (b *body) reset(agentID, batchID string, sentAt int64) {
	b.buf = b.buf[:0]
	b.open = -1
	for i := range b.ids {
		b.ids[i] = b.ids[i][:0]
	}
	b.refs = b.refs[:0]
	b.rows = 0
	b.batchID = batchID
	agent, _ := json.Marshal(agentID) // a string always encodes
	head := `{"agent_id":` + string(agent) + `,"batch_id":"` + batchID + `","sent_at":` + strconv.FormatInt(sentAt, 10)
	// Every table appears, empty or not, so receivers see one shape.
	b.size = len(head) + 1 // the closing brace
	for _, t := range tables {
		b.size += len(emptySection(t))
	}
	b.grow()
	b.buf = append(b.buf, head...)
}

// grow makes room for the whole body as sized so far, so appends never
// reallocate behind its back. It doubles like append, but never past limit
// (unless one row is larger): a full 5 MB body holds 5 MB, not 8.
func (b *body) grow() {
	if cap(b.buf) >= b.size {
		return
	}
	n := max(min(2*cap(b.buf), b.limit), 64<<10, b.size)
	buf := make([]byte, len(b.buf), n)
	copy(buf, b.buf)
	b.buf = buf
}

func emptySection(table string) string { return `,"` + table + `":[]` }

// fits reports whether a row of n bytes can join the body within max. An
// empty body takes any row, so a row larger than max is sent alone.
func (b *body) fits(table, n, max int) bool {
	return b.rows == 0 || b.size+n+b.comma(table) <= max
}

func (b *body) comma(table int) int {
	if len(b.ids[table]) > 0 {
		return 1
	}
	return 0
}

// add appends r to the array of table; tables must come in order.
func (b *body) add(table int, r Row) {
	comma := b.comma(table)
	b.size += len(r.JSON) + comma
	b.grow()
	if table != b.open {
		b.closeOpen()
		for t := b.open + 1; t < table; t++ {
			b.buf = append(b.buf, emptySection(tables[t])...)
		}
		b.buf = append(b.buf, `,"`+tables[table]+`":[`...)
		b.open = table
	}
	if comma == 1 {
		b.buf = append(b.buf, ',')
	}
	start := len(b.buf)
	b.buf = append(b.buf, r.JSON...)
	b.ids[table] = append(b.ids[table], r.ID)
	b.refs = append(b.refs, rowRef{table, r.ID, start, len(b.buf)})
	b.rows++
}

// tableRows returns the rows of the body, their JSON within buf: valid
// until the next reset.
func (b *body) tableRows() []tableRow {
	out := make([]tableRow, len(b.refs))
	for i, r := range b.refs {
		out[i] = tableRow{r.table, Row{ID: r.id, JSON: b.buf[r.start:r.end:r.end]}}
	}
	return out
}

func (b *body) closeOpen() {
	if b.open >= 0 {
		b.buf = append(b.buf, ']')
	}
}

// finish closes the arrays and the object and returns the body, which
// stays valid until the next reset.
func (b *body) finish() []byte {
	b.closeOpen()
	for t := b.open + 1; t < len(tables); t++ {
		b.buf = append(b.buf, emptySection(tables[t])...)
	}
	b.buf = append(b.buf, '}')
	return b.buf
}
