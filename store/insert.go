package store

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/openclaw/openclaw-trace/codec"
)

var insertSQL = map[string]string{
	"llm_traces": `INSERT INTO llm_traces (trace_id, created_at, provider, model, input_text, output_text,
		prompt_tokens, completion_tokens, total_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
		cost_usd, latency_ms, ttft_ms, status, error_type, metadata)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	"error_events": `INSERT INTO error_events (trace_id, created_at, error_type, message, code, stack_trace, severity, metadata)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
	"system_metrics": `INSERT INTO system_metrics (trace_id, created_at, cpu_pct, mem_current_bytes, mem_limit_bytes,
		mem_rss_bytes, disk_total_bytes, disk_used_bytes, disk_free_bytes, disk_pct, io_read_bytes, io_write_bytes, metadata)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	"log_events": `INSERT INTO log_events (trace_id, created_at, kind, subsystem, channel, level, message, metadata)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
	"cursor": `INSERT INTO log_cursors (key, file, dev, inode, offset, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET file = excluded.file, dev = excluded.dev, inode = excluded.inode,
		offset = excluded.offset, updated_at = excluded.updated_at`,
}

// rawConn is what the writer needs of the driver's connection.
type rawConn interface {
	driver.ConnPrepareContext
	driver.ConnBeginTx
}

// prepare makes sure the statements are prepared on dc, the writer's
// connection as database/sql hands it out; a new connection (the pool
// replaced a broken one) gets them prepared again.
func (w *Writer) prepare(ctx context.Context, dc any) (rawConn, error) {
	c, ok := dc.(rawConn)
	if !ok {
		return nil, fmt.Errorf("sqlite driver connection %T lacks PrepareContext or BeginTx", dc)
	}
	if w.stmtConn == dc {
		return c, nil
	}
	w.closeStmts()
	w.stmts = make(map[string]driver.StmtExecContext, len(insertSQL))
	for name, q := range insertSQL {
		s, err := c.PrepareContext(ctx, q)
		if err != nil {
			w.closeStmts()
			return nil, fmt.Errorf("prepare %s insert: %w", name, err)
		}
		es, ok := s.(driver.StmtExecContext)
		if !ok {
			s.Close()
			w.closeStmts()
			return nil, fmt.Errorf("sqlite driver statement %T lacks ExecContext", s)
		}
		w.stmts[name] = es
	}
	w.stmtConn = dc
	return c, nil
}

func (w *Writer) closeStmts() {
	for _, s := range w.stmts {
		s.(driver.Stmt).Close()
	}
	w.stmts, w.stmtConn = nil, nil
}

// named turns column values into the driver's arguments in w.args, reused
// from row to row: database/sql would allocate and convert them anew for
// every row. Pointers are dereferenced, a nil one is NULL, as database/sql
// does it.
func (w *Writer) named(args []any) []driver.NamedValue {
	w.args = w.args[:0]
	for i, a := range args {
		switch v := a.(type) {
		case *string:
			a = nil
			if v != nil {
				a = *v
			}
		case *int64:
			a = nil
			if v != nil {
				a = *v
			}
		case *float64:
			a = nil
			if v != nil {
				a = *v
			}
		case uint64:
			a = int64(v)
		}
		w.args = append(w.args, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	return w.args
}

// insertArgs lists the column values of ev in the order of insertSQL.
func insertArgs(ev *codec.Event) ([]any, error) {
	md, err := metadataJSON(metadataOf(ev))
	if err != nil {
		return nil, err
	}
	switch {
	case ev.Trace != nil:
		t := ev.Trace
		return []any{ev.TraceID, t.CreatedAt, t.Provider, t.Model, t.InputText, t.OutputText,
			t.PromptTokens, t.CompletionTokens, t.TotalTokens, t.CacheReadTokens, t.CacheWriteTokens,
			t.ReasoningTokens, t.CostUSD, t.LatencyMS, t.TTFTMS, t.Status, t.ErrorType, md}, nil
	case ev.Error != nil:
		e := ev.Error
		return []any{ev.TraceID, e.CreatedAt, e.ErrorType, e.Message, e.Code, e.StackTrace, e.Severity, md}, nil
	case ev.Metric != nil:
		m := ev.Metric
		return []any{ev.TraceID, m.CreatedAt, m.CPUPercent, m.MemCurrent, m.MemLimit, m.MemRSS,
			m.DiskTotal, m.DiskUsed, m.DiskFree, m.DiskPercent, m.IOReadBytes, m.IOWriteBytes, md}, nil
	case ev.Log != nil:
		l := ev.Log
		return []any{ev.TraceID, l.CreatedAt, l.Kind, nullIfEmpty(l.Subsystem), nullIfEmpty(l.Channel),
			nullIfEmpty(l.Level), l.Message, md}, nil
	}
	return nil, fmt.Errorf("event %s has no payload", ev.TraceID)
}

// metadataOf is the metadata of whichever payload ev carries.
func metadataOf(ev *codec.Event) map[string]any {
	switch {
	case ev.Trace != nil:
		return ev.Trace.Metadata
	case ev.Error != nil:
		return ev.Error.Metadata
	case ev.Metric != nil:
		return ev.Metric.Metadata
	case ev.Log != nil:
		return ev.Log.Metadata
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
