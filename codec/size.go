package codec

// Per-event overheads of Size, beside the bytes of its strings: the
// structs (Event 64 bytes, Trace 320, Error 104, Metric 96, Log 128 on
// 64-bit), the targets of their pointers, and the allocator's rounding.
const (
	sizeEvent = 512 // an event with its payload struct and pointers
	sizeEntry = 64  // one metadata entry beyond its JSON bytes: map slot, interface, string header
)

// Size estimates the heap an event holds while it waits in a Queue: its
// strings, text and metadata plus a fixed overhead. It is an estimate for
// a byte budget, not an exact count, and is computed once, by Offer.
func (e *Event) Size() int64 {
	n := sizeEvent + len(e.TraceID)
	switch {
	case e.Trace != nil:
		t := e.Trace
		n += len(t.Provider) + len(t.Model) + len(t.CostSource) + len(t.Status) +
			strLen(t.InputText) + strLen(t.OutputText) + strLen(t.PriceVersion) + strLen(t.ErrorType) +
			len(t.AgentID) + len(t.Channel) + len(t.Trigger) + len(t.CronJobID) +
			len(t.SessionKey) + len(t.RunID) + len(t.CallKind) +
			metadataSize(t.Metadata) + namesSize(t.Unknown)
	case e.Error != nil:
		r := e.Error
		n += len(r.ErrorType) + len(r.Message) + len(r.Severity) + strLen(r.Code) + strLen(r.StackTrace) +
			metadataSize(r.Metadata) + namesSize(r.Unknown)
	case e.Metric != nil:
		n += metadataSize(e.Metric.Metadata)
	case e.Log != nil:
		l := e.Log
		n += len(l.Kind) + len(l.Subsystem) + len(l.Channel) + len(l.Level) + len(l.Message) +
			metadataSize(l.Metadata) + namesSize(l.Unknown)
		if l.Cursor != nil {
			n += len(l.Cursor.Key) + len(l.Cursor.File)
		}
	}
	return int64(n)
}

func strLen(s *string) int {
	if s == nil {
		return 0
	}
	return len(*s)
}

// metadataSize is md's JSON size plus a map entry's overhead per key; the
// parser's caps (MaxMetadataKeys, MaxMetadataBytes) bound it.
func metadataSize(md map[string]any) int {
	if len(md) == 0 {
		return 0
	}
	return jsonSize(md, -1) + sizeEntry*len(md)
}

func namesSize(names []string) int {
	n := 16 * len(names)
	for _, s := range names {
		n += len(s)
	}
	return n
}
