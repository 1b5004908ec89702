// Package codec holds the event types every stage of openclaw-trace passes
// around, and the decoding and validation of wire protocol v1 (JSON or
// msgpack, one object or an array of objects).
package codec

// Transport says where an event entered the process. Every counter of the
// accounting (received = written + Σ drops) is kept per transport.
type Transport uint8

// The transports, in the order counters list them.
const (
	HTTP Transport = iota
	Unixgram
	UDP
	Sampler
	Logtail
	Budget // the budget alerts' events (error_type budget)
	NumTransports
)

var transportNames = [NumTransports]string{"http", "unixgram", "udp", "metrics", "logtail", "budget"}

func (t Transport) String() string {
	if t < NumTransports {
		return transportNames[t]
	}
	return "unknown"
}

// Event is one unit of work for the writer: exactly one of Trace, Error,
// Metric or Log is set.
type Event struct {
	TraceID   string // UUIDv7, assigned by the stage that accepts the event
	Transport Transport
	Trace     *Trace
	Error     *Error
	Metric    *Metric
	Log       *Log

	queued int64 // the Size a Queue charged for it, until Release
}

// Table names the SQLite table the event belongs in ("" without a
// payload); DataTable (table.go) is the table itself.
func (e *Event) Table() string {
	if t := e.DataTable(); t != nil {
		return t.Name
	}
	return ""
}

// Trace is one LLM call (table llm_traces). Optional numbers are pointers so
// that "absent" is stored as NULL, not 0.
type Trace struct {
	CreatedAt        int64 // unix ms
	Provider         string
	Model            string
	InputText        *string
	OutputText       *string
	PromptTokens     *int64
	CompletionTokens *int64
	TotalTokens      *int64
	CacheReadTokens  *int64
	CacheWriteTokens *int64
	ReasoningTokens  *int64
	CostUSD          *float64
	CostSource       string  // CostSupplied, CostTable or CostUnpriced; set by Parser.Trace
	PriceVersion     *string // price table version when CostSource is CostTable
	LatencyMS        *int64
	TTFTMS           *int64
	Status           string
	ErrorType        *string
	Attribution      // who and what made the call; "" is absent (NULL)
	Metadata         map[string]any
	// Unknown names the top-level fields no trace field reads, sorted:
	// kept in Metadata, named in the HTTP answer. Not a column.
	Unknown []string `json:"-"`
}

// Error is one error event (table error_events).
type Error struct {
	CreatedAt  int64
	ErrorType  string
	Message    string
	Code       *string
	StackTrace *string
	Severity   string
	Metadata   map[string]any
	Unknown    []string `json:"-"` // as Trace.Unknown
}

// Metric is one system sample (table system_metrics).
type Metric struct {
	CreatedAt    int64
	CPUPercent   *float64
	MemCurrent   *int64 // bytes charged to the container (cgroup) or used on the host
	MemLimit     *int64 // cgroup limit, or host total when unlimited
	MemRSS       *int64 // resident set of the container's processes
	DiskTotal    *int64 // volume holding the DB
	DiskUsed     *int64
	DiskFree     *int64
	DiskPercent  *float64
	IOReadBytes  *int64 // since the previous sample
	IOWriteBytes *int64
	Metadata     map[string]any // at least "source": cgroup2 | cgroup1 | host
}

// Log is one gateway log event (table log_events).
type Log struct {
	CreatedAt int64
	Kind      string // channel_in | channel_out | gateway_error | config_change | lifecycle | other
	Subsystem string
	Channel   string
	Level     string
	Message   string
	Metadata  map[string]any
	Unknown   []string `json:"-"` // as Trace.Unknown; none from the log follower
	// Cursor, when set, is saved in the same transaction as the row, so a
	// restart resumes after the last stored line: no loss, no repeat.
	Cursor *Cursor
}

// Cursor is a position in a followed file.
type Cursor struct {
	Key    string // what is followed (the configured path)
	File   string // the file being read
	Dev    uint64
	Inode  uint64
	Offset int64 // byte offset after the line
}

// Log event kinds.
const (
	KindChannelIn    = "channel_in"
	KindChannelOut   = "channel_out"
	KindGatewayError = "gateway_error"
	KindConfigChange = "config_change"
	KindLifecycle    = "lifecycle"
	KindOther        = "other"
)
