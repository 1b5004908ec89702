package view

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/openclaw/openclaw-trace/codec"
)

// Call is one LLM call as a session's list shows it.
type Call struct {
	TraceID          string   `json:"trace_id"`
	At               int64    `json:"at"` // unix ms
	Provider         string   `json:"provider"`
	Model            string   `json:"model"`
	PromptTokens     *int64   `json:"prompt_tokens"`
	CompletionTokens *int64   `json:"completion_tokens"`
	CacheReadTokens  *int64   `json:"cache_read_tokens"`
	CacheWriteTokens *int64   `json:"cache_write_tokens"`
	ReasoningTokens  *int64   `json:"reasoning_tokens"`
	CostUSD          *float64 `json:"cost_usd"`    // null: unknown (see cost_source)
	CostSource       *string  `json:"cost_source"` // supplied, table, unpriced
	LatencyMS        *int64   `json:"latency_ms"`
	TTFTMS           *int64   `json:"ttft_ms"`
	Status           string   `json:"status"`     // ok, error, timeout
	ErrorType        *string  `json:"error_type"` // set when the call failed
	AgentID          *string  `json:"agent_id"`
	Channel          *string  `json:"channel"`
	Trigger          *string  `json:"trigger"`
	CronJobID        *string  `json:"cron_job_id"`
	RunID            *string  `json:"run_id"`
	CallKind         *string  `json:"call_kind"`
}

// SessionCalls is the calls of one session, oldest first.
type SessionCalls struct {
	SessionKey string `json:"session_key"`
	Total      int64  `json:"total"`     // calls of the session stored
	Truncated  bool   `json:"truncated"` // only the newest Limit are listed
	Calls      []Call `json:"calls"`
}

// DefaultSessionCalls is how many calls a session's list holds at most.
const DefaultSessionCalls = 1000

// SessionCalls returns the newest limit (0: DefaultSessionCalls) calls of
// the session key, oldest first. Only raw rows have sessions: calls past
// retention are in rollups, which know none.
func (v *View) SessionCalls(ctx context.Context, key string, limit int) (*SessionCalls, error) {
	limit = cmp(limit, DefaultSessionCalls)
	st, err := v.state(ctx)
	if err != nil {
		return nil, err
	}
	where := "session_key = ?"
	cols := "agent_id, channel, trigger, cron_job_id, run_id, call_kind"
	if !st.columns {
		where = "json_extract(CASE WHEN json_valid(metadata) THEN metadata END, '$.session_key') = ?"
		cols = "NULL, NULL, NULL, NULL, NULL, NULL"
	}
	sc := &SessionCalls{SessionKey: key, Calls: []Call{}}
	if err := v.db.QueryRowContext(ctx, "SELECT count(*) FROM "+codec.LLMTraces.Name+" WHERE "+where, key).Scan(&sc.Total); err != nil {
		return nil, fmt.Errorf("session calls: %w", err)
	}
	rows, err := v.db.QueryContext(ctx, `SELECT * FROM (SELECT trace_id, created_at, provider, model, prompt_tokens,
		completion_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, cost_source, latency_ms,
		ttft_ms, status, error_type, `+cols+` FROM `+codec.LLMTraces.Name+` WHERE `+where+`
		ORDER BY created_at DESC, id DESC LIMIT ?) ORDER BY created_at, trace_id`, key, limit)
	if err != nil {
		return nil, fmt.Errorf("session calls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Call
		if err := rows.Scan(&c.TraceID, &c.At, &c.Provider, &c.Model, &c.PromptTokens, &c.CompletionTokens,
			&c.CacheReadTokens, &c.CacheWriteTokens, &c.ReasoningTokens, &c.CostUSD, &c.CostSource, &c.LatencyMS,
			&c.TTFTMS, &c.Status, &c.ErrorType, &c.AgentID, &c.Channel, &c.Trigger, &c.CronJobID, &c.RunID,
			&c.CallKind); err != nil {
			return nil, fmt.Errorf("session calls: %w", err)
		}
		sc.Calls = append(sc.Calls, c)
	}
	sc.Truncated = sc.Total > int64(len(sc.Calls))
	return sc, rows.Err()
}

// ErrNotFound is returned for a call that is not stored (never, or no
// longer: raw rows expire).
var ErrNotFound = errors.New("not found")

// CallRow returns every column of the stored call with trace id id, by
// column name; metadata is an object when it holds JSON.
func (v *View) CallRow(ctx context.Context, id string) (map[string]any, error) {
	rows, err := v.db.QueryContext(ctx, "SELECT * FROM "+codec.LLMTraces.Name+" WHERE trace_id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("call: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("call: %w", err)
		}
		return nil, ErrNotFound
	}
	names, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("call: %w", err)
	}
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("call: %w", err)
	}
	row := make(map[string]any, len(names))
	for i, n := range names {
		v := vals[i]
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		if s, ok := v.(string); ok && n == "metadata" && json.Valid([]byte(s)) {
			v = json.RawMessage(s)
		}
		row[n] = v
	}
	return row, rows.Err()
}
