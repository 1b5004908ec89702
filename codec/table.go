package codec

// The data tables are defined here once: each names its columns in order,
// with the field of an Event each column holds. store derives its insert
// and page statements from them, push its body sections, cleanup its
// table lists, and the OTLP sink reads stored rows back into Events with
// DecodeRow (row.go); the CREATE TABLE statements stay literal migrations
// in store/schema.go, because a released migration must never change.
//
// Adding a column to a data table:
//  1. add the field to the payload type (Trace, Error, Metric or Log) and
//     fill it where the payload is parsed;
//  2. append a Column pointing at the field to the table below (after the
//     existing ones, before metadata, which stays last by convention);
//  3. append a migration to store/schema.go (ALTER TABLE … ADD COLUMN);
//     store's TestTablesMatchSchema fails until the two agree, and its
//     TestRowsRoundTrip until every field has its column.
//
// Insert, page query, push body, OTLP rows and retention follow from the
// list.

// Column is one column of a data table that an event fills.
type Column struct {
	Name string
	// JSON columns hold an object as JSON text; push sends it as an object
	// rather than as a string.
	JSON bool
	// Content columns hold what was said (a prompt, a completion): OTLP
	// does not send it (the GenAI conventions make content opt-in) and
	// reads rows without it (DecodeRowSkipContent).
	Content bool
	// field points at the column's field in an event of the column's
	// table: a *string, *int64, **string, **int64, **float64 or
	// *map[string]any. Value reads through it and DecodeRow writes
	// through it, so a column is stored and read back by one line.
	field func(ev *Event) any
	// emptyIsNull stores an empty string as NULL (and NULL reads back "").
	emptyIsNull bool
}

// Value is the column's value for an event of the column's table: a
// string or int64, a pointer to a string, int64 or float64 (nil is NULL),
// nil, or for a JSON column a map[string]any (empty is NULL).
func (c Column) Value(ev *Event) any {
	switch p := c.field(ev).(type) {
	case *string:
		if c.emptyIsNull && *p == "" {
			return nil
		}
		return *p
	case *int64:
		return *p
	case **string:
		return *p
	case **int64:
		return *p
	case **float64:
		return *p
	case *map[string]any:
		return *p
	}
	panic("codec: column " + c.Name + " points at a field of a type Value does not know")
}

// Table is a data table: one row per event, pushed to the sinks. Besides
// Columns every data table has id (the local row id, push's position),
// synced, pushed_at and push_error (push's bookkeeping); those are
// store's business.
type Table struct {
	Name    string
	Columns []Column
	// payload gives an event the empty payload of this table, for DecodeRow.
	payload func(ev *Event)
}

// The tables the store keeps beside the data tables: the daily rollups
// of the calls, their one state row (zone, backfill, raw horizon), and
// the budget alerts raised. Their columns belong to the store; their
// names, like every table name, are spelled here only.
const (
	RollupsTable      = "llm_rollups"
	RollupStateTable  = "rollup_state"
	BudgetAlertsTable = "budget_alerts"
)

// NumDataTables is the number of data tables.
const NumDataTables = 4

// The data tables.
var (
	LLMTraces = &Table{Name: "llm_traces", payload: func(e *Event) { e.Trace = &Trace{} }, Columns: []Column{
		traceIDCol,
		traceCol("created_at", func(t *Trace) any { return &t.CreatedAt }),
		traceCol("provider", func(t *Trace) any { return &t.Provider }),
		traceCol("model", func(t *Trace) any { return &t.Model }),
		traceCol("input_text", func(t *Trace) any { return &t.InputText }).content(),
		traceCol("output_text", func(t *Trace) any { return &t.OutputText }).content(),
		traceCol("prompt_tokens", func(t *Trace) any { return &t.PromptTokens }),
		traceCol("completion_tokens", func(t *Trace) any { return &t.CompletionTokens }),
		traceCol("total_tokens", func(t *Trace) any { return &t.TotalTokens }),
		traceCol("cache_read_tokens", func(t *Trace) any { return &t.CacheReadTokens }),
		traceCol("cache_write_tokens", func(t *Trace) any { return &t.CacheWriteTokens }),
		traceCol("reasoning_tokens", func(t *Trace) any { return &t.ReasoningTokens }),
		traceCol("cost_usd", func(t *Trace) any { return &t.CostUSD }),
		traceCol("latency_ms", func(t *Trace) any { return &t.LatencyMS }),
		traceCol("ttft_ms", func(t *Trace) any { return &t.TTFTMS }),
		traceCol("status", func(t *Trace) any { return &t.Status }),
		traceCol("error_type", func(t *Trace) any { return &t.ErrorType }),
		traceCol("cost_source", func(t *Trace) any { return &t.CostSource }).nullIfEmpty(),
		traceCol("price_version", func(t *Trace) any { return &t.PriceVersion }),
		traceCol("agent_id", func(t *Trace) any { return &t.AgentID }).nullIfEmpty(),
		traceCol("channel", func(t *Trace) any { return &t.Channel }).nullIfEmpty(),
		traceCol("trigger", func(t *Trace) any { return &t.Trigger }).nullIfEmpty(),
		traceCol("cron_job_id", func(t *Trace) any { return &t.CronJobID }).nullIfEmpty(),
		traceCol("session_key", func(t *Trace) any { return &t.SessionKey }).nullIfEmpty(),
		traceCol("run_id", func(t *Trace) any { return &t.RunID }).nullIfEmpty(),
		traceCol("call_kind", func(t *Trace) any { return &t.CallKind }).nullIfEmpty(),
		traceCol("metadata", func(t *Trace) any { return &t.Metadata }).asJSON(),
	}}
	ErrorEvents = &Table{Name: "error_events", payload: func(e *Event) { e.Error = &Error{} }, Columns: []Column{
		traceIDCol,
		errorCol("created_at", func(x *Error) any { return &x.CreatedAt }),
		errorCol("error_type", func(x *Error) any { return &x.ErrorType }),
		errorCol("message", func(x *Error) any { return &x.Message }),
		errorCol("code", func(x *Error) any { return &x.Code }),
		errorCol("stack_trace", func(x *Error) any { return &x.StackTrace }),
		errorCol("severity", func(x *Error) any { return &x.Severity }),
		errorCol("metadata", func(x *Error) any { return &x.Metadata }).asJSON(),
	}}
	SystemMetrics = &Table{Name: "system_metrics", payload: func(e *Event) { e.Metric = &Metric{} }, Columns: []Column{
		traceIDCol,
		metricCol("created_at", func(m *Metric) any { return &m.CreatedAt }),
		metricCol("cpu_pct", func(m *Metric) any { return &m.CPUPercent }),
		metricCol("mem_current_bytes", func(m *Metric) any { return &m.MemCurrent }),
		metricCol("mem_limit_bytes", func(m *Metric) any { return &m.MemLimit }),
		metricCol("mem_rss_bytes", func(m *Metric) any { return &m.MemRSS }),
		metricCol("disk_total_bytes", func(m *Metric) any { return &m.DiskTotal }),
		metricCol("disk_used_bytes", func(m *Metric) any { return &m.DiskUsed }),
		metricCol("disk_free_bytes", func(m *Metric) any { return &m.DiskFree }),
		metricCol("disk_pct", func(m *Metric) any { return &m.DiskPercent }),
		metricCol("io_read_bytes", func(m *Metric) any { return &m.IOReadBytes }),
		metricCol("io_write_bytes", func(m *Metric) any { return &m.IOWriteBytes }),
		metricCol("metadata", func(m *Metric) any { return &m.Metadata }).asJSON(),
	}}
	LogEvents = &Table{Name: "log_events", payload: func(e *Event) { e.Log = &Log{} }, Columns: []Column{
		traceIDCol,
		logCol("created_at", func(l *Log) any { return &l.CreatedAt }),
		logCol("kind", func(l *Log) any { return &l.Kind }),
		logCol("subsystem", func(l *Log) any { return &l.Subsystem }).nullIfEmpty(),
		logCol("channel", func(l *Log) any { return &l.Channel }).nullIfEmpty(),
		logCol("level", func(l *Log) any { return &l.Level }).nullIfEmpty(),
		logCol("message", func(l *Log) any { return &l.Message }),
		logCol("metadata", func(l *Log) any { return &l.Metadata }).asJSON(),
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

var traceIDCol = Column{Name: "trace_id", field: func(e *Event) any { return &e.TraceID }}

func traceCol(name string, f func(*Trace) any) Column {
	return Column{Name: name, field: func(e *Event) any { return f(e.Trace) }}
}

func errorCol(name string, f func(*Error) any) Column {
	return Column{Name: name, field: func(e *Event) any { return f(e.Error) }}
}

func metricCol(name string, f func(*Metric) any) Column {
	return Column{Name: name, field: func(e *Event) any { return f(e.Metric) }}
}

func logCol(name string, f func(*Log) any) Column {
	return Column{Name: name, field: func(e *Event) any { return f(e.Log) }}
}

// nullIfEmpty stores an absent optional string as NULL.
func (c Column) nullIfEmpty() Column {
	c.emptyIsNull = true
	return c
}

// content marks a column that holds what was said.
func (c Column) content() Column {
	c.Content = true
	return c
}

// asJSON marks a column that holds an object as JSON text.
func (c Column) asJSON() Column {
	c.JSON = true
	return c
}
