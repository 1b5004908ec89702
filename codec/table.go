package codec

// The data tables are defined here once: each names its columns in order,
// with where each column's value comes from in an Event. store derives its
// insert and page statements from them, push its body sections, cleanup
// its table lists; the CREATE TABLE statements stay literal migrations in
// store/schema.go, because a released migration must never change.
//
// Adding a column to a data table:
//  1. add the field to the payload type (Trace, Error, Metric or Log) and
//     fill it where the payload is parsed;
//  2. append a Column to the table below (after the existing ones, before
//     metadata, which stays last by convention);
//  3. append a migration to store/schema.go (ALTER TABLE … ADD COLUMN);
//     store's TestTablesMatchSchema fails until the two agree.
//
// Insert, page query, push body and retention follow from the list.

// Column is one column of a data table that an event fills.
type Column struct {
	Name string
	// Value is the column's value for an event of the column's table: a
	// string, int64 or float64, a pointer to one (nil is NULL), nil, or for
	// a JSON column a map[string]any (empty is NULL).
	Value func(ev *Event) any
	// JSON columns hold an object as JSON text; push sends it as an object
	// rather than as a string.
	JSON bool
}

// Table is a data table: one row per event, pushed to the sinks. Besides
// Columns every data table has id (the local row id, push's position),
// synced and pushed_at (push's bookkeeping); those are store's business.
type Table struct {
	Name    string
	Columns []Column
}

// NumDataTables is the number of data tables.
const NumDataTables = 4

// The data tables.
var (
	LLMTraces = &Table{Name: "llm_traces", Columns: []Column{
		traceIDCol, createdCol(func(e *Event) int64 { return e.Trace.CreatedAt }),
		traceCol("provider", func(t *Trace) any { return t.Provider }),
		traceCol("model", func(t *Trace) any { return t.Model }),
		traceCol("input_text", func(t *Trace) any { return t.InputText }),
		traceCol("output_text", func(t *Trace) any { return t.OutputText }),
		traceCol("prompt_tokens", func(t *Trace) any { return t.PromptTokens }),
		traceCol("completion_tokens", func(t *Trace) any { return t.CompletionTokens }),
		traceCol("total_tokens", func(t *Trace) any { return t.TotalTokens }),
		traceCol("cache_read_tokens", func(t *Trace) any { return t.CacheReadTokens }),
		traceCol("cache_write_tokens", func(t *Trace) any { return t.CacheWriteTokens }),
		traceCol("reasoning_tokens", func(t *Trace) any { return t.ReasoningTokens }),
		traceCol("cost_usd", func(t *Trace) any { return t.CostUSD }),
		traceCol("latency_ms", func(t *Trace) any { return t.LatencyMS }),
		traceCol("ttft_ms", func(t *Trace) any { return t.TTFTMS }),
		traceCol("status", func(t *Trace) any { return t.Status }),
		traceCol("error_type", func(t *Trace) any { return t.ErrorType }),
		traceCol("cost_source", func(t *Trace) any { return nullIfEmpty(t.CostSource) }),
		traceCol("price_version", func(t *Trace) any { return t.PriceVersion }),
		traceCol("agent_id", func(t *Trace) any { return nullIfEmpty(t.AgentID) }),
		traceCol("channel", func(t *Trace) any { return nullIfEmpty(t.Channel) }),
		traceCol("trigger", func(t *Trace) any { return nullIfEmpty(t.Trigger) }),
		traceCol("cron_job_id", func(t *Trace) any { return nullIfEmpty(t.CronJobID) }),
		traceCol("session_key", func(t *Trace) any { return nullIfEmpty(t.SessionKey) }),
		traceCol("run_id", func(t *Trace) any { return nullIfEmpty(t.RunID) }),
		traceCol("call_kind", func(t *Trace) any { return nullIfEmpty(t.CallKind) }),
		metadataCol(func(e *Event) map[string]any { return e.Trace.Metadata }),
	}}
	ErrorEvents = &Table{Name: "error_events", Columns: []Column{
		traceIDCol, createdCol(func(e *Event) int64 { return e.Error.CreatedAt }),
		errorCol("error_type", func(x *Error) any { return x.ErrorType }),
		errorCol("message", func(x *Error) any { return x.Message }),
		errorCol("code", func(x *Error) any { return x.Code }),
		errorCol("stack_trace", func(x *Error) any { return x.StackTrace }),
		errorCol("severity", func(x *Error) any { return x.Severity }),
		metadataCol(func(e *Event) map[string]any { return e.Error.Metadata }),
	}}
	SystemMetrics = &Table{Name: "system_metrics", Columns: []Column{
		traceIDCol, createdCol(func(e *Event) int64 { return e.Metric.CreatedAt }),
		metricCol("cpu_pct", func(m *Metric) any { return m.CPUPercent }),
		metricCol("mem_current_bytes", func(m *Metric) any { return m.MemCurrent }),
		metricCol("mem_limit_bytes", func(m *Metric) any { return m.MemLimit }),
		metricCol("mem_rss_bytes", func(m *Metric) any { return m.MemRSS }),
		metricCol("disk_total_bytes", func(m *Metric) any { return m.DiskTotal }),
		metricCol("disk_used_bytes", func(m *Metric) any { return m.DiskUsed }),
		metricCol("disk_free_bytes", func(m *Metric) any { return m.DiskFree }),
		metricCol("disk_pct", func(m *Metric) any { return m.DiskPercent }),
		metricCol("io_read_bytes", func(m *Metric) any { return m.IOReadBytes }),
		metricCol("io_write_bytes", func(m *Metric) any { return m.IOWriteBytes }),
		metadataCol(func(e *Event) map[string]any { return e.Metric.Metadata }),
	}}
	LogEvents = &Table{Name: "log_events", Columns: []Column{
		traceIDCol, createdCol(func(e *Event) int64 { return e.Log.CreatedAt }),
		logCol("kind", func(l *Log) any { return l.Kind }),
		logCol("subsystem", func(l *Log) any { return nullIfEmpty(l.Subsystem) }),
		logCol("channel", func(l *Log) any { return nullIfEmpty(l.Channel) }),
		logCol("level", func(l *Log) any { return nullIfEmpty(l.Level) }),
		logCol("message", func(l *Log) any { return l.Message }),
		metadataCol(func(e *Event) map[string]any { return e.Log.Metadata }),
	}}
)

// DataTables are the data tables in the order a push body lists them.
var DataTables = [NumDataTables]*Table{LLMTraces, ErrorEvents, SystemMetrics, LogEvents}

// DataTable is the table ev belongs in, nil when it carries no payload.
func (e *Event) DataTable() *Table {
	switch {
	case e.Trace != nil:
		return LLMTraces
	case e.Error != nil:
		return ErrorEvents
	case e.Metric != nil:
		return SystemMetrics
	case e.Log != nil:
		return LogEvents
	}
	return nil
}

// TableNamed returns the data table called name, or nil.
func TableNamed(name string) *Table {
	for _, t := range DataTables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

var traceIDCol = Column{Name: "trace_id", Value: func(e *Event) any { return e.TraceID }}

func createdCol(f func(*Event) int64) Column {
	return Column{Name: "created_at", Value: func(e *Event) any { return f(e) }}
}

func metadataCol(f func(*Event) map[string]any) Column {
	return Column{Name: "metadata", JSON: true, Value: func(e *Event) any { return f(e) }}
}

func traceCol(name string, f func(*Trace) any) Column {
	return Column{Name: name, Value: func(e *Event) any { return f(e.Trace) }}
}

func errorCol(name string, f func(*Error) any) Column {
	return Column{Name: name, Value: func(e *Event) any { return f(e.Error) }}
}

func metricCol(name string, f func(*Metric) any) Column {
	return Column{Name: name, Value: func(e *Event) any { return f(e.Metric) }}
}

func logCol(name string, f func(*Log) any) Column {
	return Column{Name: name, Value: func(e *Event) any { return f(e.Log) }}
}

// nullIfEmpty stores an absent optional string as NULL.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
