package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// mockProvider is an OpenAI-compatible chat-completions endpoint for the
// OpenClaw end-to-end test. What it does is chosen by a marker in the
// conversation's user text:
//
//	OCT-MIX-<id>    calls answer 429, then 500 (OpenClaw retries the call), then
//	                a tool call (read); the call after the tool result answers text
//	OCT-PLAIN-<id>  text
//	OCT-TOOL-<id>   a tool call (read), then text after the tool result
//	OCT-LOOP-<id>   tool calls until a tool result says a spend budget stopped
//	                the run (a model that obeys), then text
//	OCT-GREEDY-<id> tool calls, whatever the results say (a model that does not)
//
// Every call gets fixed, distinct usage (call n: prompt 1000+10n with 200
// cached, completion 100+n) and waits firstByte before answering, so rows
// can be checked one by one against served.
type mockProvider struct {
	srv       *httptest.Server
	firstByte time.Duration
	mu        sync.Mutex
	served    []mockCall
	calls     map[string]int // calls served per marker
}

// mixStatuses are the HTTP statuses of an OCT-MIX conversation's first calls.
var mixStatuses = []int{http.StatusTooManyRequests, http.StatusInternalServerError}

// mockCall is one request the mock answered.
type mockCall struct {
	N          int
	Marker     string
	Status     int // HTTP status
	Stream     bool
	Prompt     int // prompt_tokens, cached included
	Cached     int
	Completion int
	Tool       bool          // answered with a tool call
	Model      string        // the model the request named
	Reply      string        // the text answered, when not "pong <N>"
	FirstByte  time.Duration // the mock's think time before answering
	Took       time.Duration
	End        time.Time // when the answer was written
}

// FirstByteMs is the mock's think time in whole milliseconds.
func (c mockCall) FirstByteMs() int64 { return c.FirstByte.Milliseconds() }

var markerRE = regexp.MustCompile(`OCT-(MIX|PLAIN|TOOL|LOOP|GREEDY)-[a-z0-9]+`)

// budgetStop is what the guard's blocked tool result starts with.
const budgetStop = "Stopped by the spend budget"

func startMockProvider(t *testing.T) *mockProvider {
	m := &mockProvider{firstByte: 120 * time.Millisecond, calls: map[string]int{}}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

// URL is the base URL for models.providers.<id>.baseUrl.
func (m *mockProvider) URL() string { return m.srv.URL + "/v1" }

// Served returns the calls answered so far, in order.
func (m *mockProvider) Served() []mockCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mockCall(nil), m.served...)
}

type chatRequest struct {
	Stream   bool `json:"stream"`
	Model    string
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

func (m *mockProvider) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req chatRequest
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	marker, hasToolResult, stopped, lastTool := "", false, false, ""
	for _, msg := range req.Messages {
		if msg.Role == "tool" {
			hasToolResult = true
			lastTool = contentText(msg.Content)
			stopped = strings.Contains(lastTool, budgetStop) // the last tool result's
		}
		if msg.Role == "user" {
			if s := markerRE.FindString(string(msg.Content)); s != "" {
				marker = s
			}
		}
	}
	kind := ""
	if sm := markerRE.FindStringSubmatch(marker); sm != nil {
		kind = sm[1]
	}
	time.Sleep(m.firstByte) // the provider's think time: latency and ttft are at least this

	m.mu.Lock()
	n := len(m.served) + 1
	c := mockCall{N: n, Marker: marker, Status: 200, FirstByte: m.firstByte, Stream: req.Stream, Prompt: 1000 + 10*n, Cached: 200, Completion: 100 + n, Model: req.Model}
	k := m.calls[marker]
	m.calls[marker]++
	switch {
	case kind == "MIX" && k < len(mixStatuses):
		c.Status = mixStatuses[k]
		c.Prompt, c.Cached, c.Completion = 0, 0, 0
	case (kind == "MIX" || kind == "TOOL") && !hasToolResult:
		c.Tool = true
	case kind == "LOOP" && !stopped, kind == "GREEDY":
		c.Tool = true
	case kind == "LOOP":
		c.Reply = fmt.Sprintf("pong %d: %s", n, lastTool) // tells the user why it stopped
	}
	m.mu.Unlock()

	switch {
	case c.Status == http.StatusTooManyRequests:
		writeJSON(w, c.Status, map[string]any{"error": map[string]any{"message": "Rate limit exceeded", "type": "rate_limit_error", "code": "rate_limit_exceeded"}})
	case c.Status != 200:
		writeJSON(w, c.Status, map[string]any{"error": map[string]any{"message": "internal boom", "type": "server_error", "code": "internal_error"}})
	case req.Stream:
		m.stream(w, req, c)
	default:
		writeJSON(w, 200, map[string]any{"id": fmt.Sprintf("cmpl-%d", n), "object": "chat.completion", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": m.message(req, c), "finish_reason": finish(c)}}, "usage": usage(c)})
	}
	c.End = time.Now()
	c.Took = c.End.Sub(start)
	m.mu.Lock()
	m.served = append(m.served, c)
	m.mu.Unlock()
}

func (m *mockProvider) message(req chatRequest, c mockCall) map[string]any {
	if !c.Tool {
		if c.Reply != "" {
			return map[string]any{"role": "assistant", "content": c.Reply}
		}
		return map[string]any{"role": "assistant", "content": fmt.Sprintf("pong %d", c.N)}
	}
	name := "read"
	if len(req.Tools) > 0 {
		name = req.Tools[0].Function.Name
		for _, tl := range req.Tools {
			if tl.Function.Name == "read" {
				name = "read"
			}
		}
	}
	return map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
		"id": fmt.Sprintf("call_%d", c.N), "type": "function",
		"function": map[string]any{"name": name, "arguments": `{"path":"README.md"}`}}}}
}

// stream answers as server-sent events: content (or the tool call) in two
// chunks, the finish reason, then a usage-only chunk (stream_options).
func (m *mockProvider) stream(w http.ResponseWriter, req chatRequest, c mockCall) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	fl, _ := w.(http.Flusher)
	chunk := func(v map[string]any) {
		v["id"], v["object"], v["model"] = fmt.Sprintf("cmpl-%d", c.N), "chat.completion.chunk", req.Model
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	msg := m.message(req, c)
	if c.Tool {
		tc := msg["tool_calls"].([]any)[0].(map[string]any)
		tc["index"] = 0
		chunk(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "tool_calls": []any{tc}}}}})
	} else {
		text := msg["content"].(string)
		chunk(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "content": text[:2]}}}})
		time.Sleep(20 * time.Millisecond)
		chunk(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": text[2:]}}}})
	}
	chunk(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": finish(c)}}})
	chunk(map[string]any{"choices": []any{}, "usage": usage(c)})
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func finish(c mockCall) string {
	if c.Tool {
		return "tool_calls"
	}
	return "stop"
}

func usage(c mockCall) map[string]any {
	return map[string]any{"prompt_tokens": c.Prompt, "completion_tokens": c.Completion, "total_tokens": c.Prompt + c.Completion,
		"prompt_tokens_details": map[string]any{"cached_tokens": c.Cached}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// contentText is a message's text: a JSON string, or the text parts of an
// array of parts.
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type, Text string
	}
	json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}
