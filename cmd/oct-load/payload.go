package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
)

// trace is a realistic LLM call whose input_text is padded so the encoded
// event is about size bytes.
func trace(size int) map[string]any {
	t := map[string]any{
		"type": "trace", "provider": "anthropic", "model": "claude-sonnet-4",
		"output_text": "Sure, here is the summary you asked for.", "prompt_tokens": 812,
		"completion_tokens": 64, "cache_read_tokens": 512, "cost_usd": 0.00291,
		"latency_ms": 1830, "ttft_ms": 412, "status": "ok",
		"metadata": map[string]any{"session": "agent:main:telegram", "channel": "telegram"},
	}
	base, _ := json.Marshal(t)
	pad := max(size-len(base)-len(`,"input_text":""`), 1)
	t["input_text"] = strings.Repeat("lorem ipsum ", pad/12+1)[:pad]
	return t
}

// encode returns the datagram or body for one event.
func encode(encoding string, v any) ([]byte, error) {
	switch encoding {
	case "json":
		return json.Marshal(v)
	case "msgpack":
		return msgpack.Marshal(v)
	}
	return nil, fmt.Errorf("unknown encoding %q (json or msgpack)", encoding)
}
