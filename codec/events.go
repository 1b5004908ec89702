package codec

import "github.com/google/uuid"

// Event types named by the "type" field of a datagram event.
const (
	TypeTrace       = "trace"
	TypeError       = "error"
	TypeClientStats = "client_stats"
)

// Error types and severities of wire protocol v1.
var (
	ErrorTypes = []string{"llm_error", "crash", "system_error"}
	Severities = []string{"warning", "error", "critical"}
	Statuses   = []string{"ok", "error", "timeout"}
)

// NewID returns a UUID version 7: unique, 36 characters, time-ordered so
// the UNIQUE index and push reads stay in insertion order. Every id the
// daemon makes (trace_id, a push body's batch_id) comes from here.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// crypto/rand does not fail on Linux; fall back to v4 anyway.
		return uuid.NewString()
	}
	return id.String()
}

// NewTraceID is the trace_id of a new event.
func NewTraceID() string { return NewID() }

// Trace validates one decoded trace object.
func (p *Parser) Trace(v any) (*Trace, *FieldError) {
	o, err := p.newObject(v)
	if err != nil {
		return nil, err
	}
	defer o.release()
	t := &Trace{}
	if t.Provider, err = o.requiredString("provider"); err != nil {
		return nil, err
	}
	if t.Model, err = o.requiredString("model"); err != nil {
		return nil, err
	}
	if t.InputText, err = o.optText("input_text"); err != nil {
		return nil, err
	}
	if t.OutputText, err = o.optText("output_text"); err != nil {
		return nil, err
	}
	counts := []struct {
		key string
		dst **int64
	}{
		{"prompt_tokens", &t.PromptTokens},
		{"completion_tokens", &t.CompletionTokens},
		{"total_tokens", &t.TotalTokens},
		{"cache_read_tokens", &t.CacheReadTokens},
		{"cache_write_tokens", &t.CacheWriteTokens},
		{"reasoning_tokens", &t.ReasoningTokens},
		{"latency_ms", &t.LatencyMS},
		{"ttft_ms", &t.TTFTMS},
	}
	for _, c := range counts {
		if *c.dst, err = o.optCount(c.key); err != nil {
			return nil, err
		}
	}
	if t.TotalTokens == nil && (t.PromptTokens != nil || t.CompletionTokens != nil) {
		var sum int64
		if t.PromptTokens != nil {
			sum += *t.PromptTokens
		}
		if t.CompletionTokens != nil {
			sum += *t.CompletionTokens
		}
		if sum < 0 { // both are >= 0: only an overflow makes it negative
			return nil, fieldErr("total_tokens", "prompt_tokens + completion_tokens overflows")
		}
		t.TotalTokens = &sum
	}
	if t.CostUSD, err = o.optAmount("cost_usd"); err != nil {
		return nil, err
	}
	if t.Status, err = o.enum("status", "ok", Statuses...); err != nil {
		return nil, err
	}
	if t.ErrorType, err = o.optString("error_type"); err != nil {
		return nil, err
	}
	if t.CreatedAt, err = o.timestamp(); err != nil {
		return nil, err
	}
	if err = o.attribution(&t.Attribution); err != nil {
		return nil, err
	}
	if t.Metadata, err = o.metadata(); err != nil {
		return nil, err
	}
	t.Unknown = o.unknownFields()
	p.price(t)
	return t, nil
}

// Error validates one decoded error object.
func (p *Parser) Error(v any) (*Error, *FieldError) {
	o, err := p.newObject(v)
	if err != nil {
		return nil, err
	}
	defer o.release()
	e := &Error{}
	if _, present := o.get("error_type"); !present {
		return nil, fieldErr("error_type", "required, one of %v", ErrorTypes)
	}
	if e.ErrorType, err = o.enum("error_type", "", ErrorTypes...); err != nil {
		return nil, err
	}
	if _, err = o.requiredString("message"); err != nil {
		return nil, err
	}
	msg, _ := o.optText("message")
	e.Message = *msg
	if e.Code, err = o.optString("code"); err != nil {
		return nil, err
	}
	if e.StackTrace, err = o.optText("stack_trace"); err != nil {
		return nil, err
	}
	if e.Severity, err = o.enum("severity", "error", Severities...); err != nil {
		return nil, err
	}
	if e.CreatedAt, err = o.timestamp(); err != nil {
		return nil, err
	}
	if e.Metadata, err = o.metadata(); err != nil {
		return nil, err
	}
	e.Unknown = o.unknownFields()
	return e, nil
}

// ClientStats validates a client_stats report and returns the client's
// name and the drops it counted since its last report.
func ClientStats(v any) (client string, dropped int64, ferr *FieldError) {
	o, ferr := (&Parser{}).newObject(v)
	if ferr != nil {
		return "", 0, ferr
	}
	defer o.release()
	s, ferr := o.optString("client")
	if ferr != nil {
		return "", 0, ferr
	}
	if s != nil {
		client = *s
	}
	n, ferr := o.optCount("dropped")
	if ferr != nil {
		return "", 0, ferr
	}
	if n == nil {
		return "", 0, fieldErr("dropped", "required integer >= 0")
	}
	return client, *n, nil
}
