package price

import (
	"runtime/debug"
	"sync"
)

// Lazy is the embedded table plus overrides, parsed on the first Cost: a
// daemon that never sees a trace without cost_usd never pays for the
// table (~11 ms, ~0.9 MiB of heap kept, ~2 MB of garbage; ~2.3 MiB of
// daemon RSS, measured in BENCHMARKS.md).
type Lazy struct {
	overrides []byte
	once      sync.Once
	table     *Table
	err       error
}

// NewLazy validates overrides (the bytes of an OCT_PRICES_FILE; nil for
// none) now, so a bad file stops start-up, and defers the table's parse.
func NewLazy(overrides []byte) (*Lazy, error) {
	if overrides != nil {
		if _, err := parseOverrides(overrides); err != nil {
			return nil, err
		}
	}
	return &Lazy{overrides: overrides}, nil
}

// Table parses the table on first use.
func (l *Lazy) Table() (*Table, error) {
	l.once.Do(func() {
		l.table, l.err = Embedded()
		if l.err == nil && l.overrides != nil {
			l.table, l.err = l.table.WithOverrides(l.overrides)
		}
		// The parse's garbage would stay mapped for minutes; returned
		// now, the first priced trace adds ~2.3 MiB of RSS instead of
		// ~3.2 (measured, BENCHMARKS.md).
		debug.FreeOSMemory()
	})
	return l.table, l.err
}

// Cost is Table.Cost; a table that failed to parse prices nothing.
func (l *Lazy) Cost(provider, model string, u Usage) (usd float64, version string, ok bool) {
	t, err := l.Table()
	if err != nil {
		return 0, "", false
	}
	return t.Cost(provider, model, u)
}
