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

// statsdPacket is the same LLM call as trace, as DogStatsD lines (one
// counter or timer per field, tagged with provider, model and status), to
// load a statsd server with datagrams of the same size: lines are repeated
// until the packet is about size bytes.
func statsdPacket(size int) []byte {
	tags := "|#provider:anthropic,model:claude-sonnet-4,status:ok,channel:telegram,session:agent-main-telegram\n"
	lines := []string{
		"openclaw.llm.calls:1|c", "openclaw.llm.prompt_tokens:812|c", "openclaw.llm.completion_tokens:64|c",
		"openclaw.llm.cache_read_tokens:512|c", "openclaw.llm.cost_usd:0.00291|c",
		"openclaw.llm.latency_ms:1830|ms", "openclaw.llm.ttft_ms:412|ms",
	}
	var b []byte
	for i := 0; len(b) == 0 || len(b)+len(lines[i%len(lines)])+len(tags) <= size; i++ {
		b = append(append(b, lines[i%len(lines)]...), tags...)
	}
	return b[:len(b)-1] // no newline after the last line
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
