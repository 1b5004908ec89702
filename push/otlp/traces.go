package otlp

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/openclaw/openclaw-trace/codec"
)

// scopeName is the instrumentation scope of everything exported.
const scopeName = "github.com/openclaw/openclaw-trace"

// Metadata keys that become convention attributes, so they are not also
// copied under openclaw.metadata.
var traceMetaMapped = map[string]bool{
	"session_key": true, "session_id": true, "sessionKey": true, "conversation_id": true,
	"agent_id": true, "operation": true, "response_model": true,
	"finish_reason": true, "finish_reasons": true, "stop_reason": true,
}

// providerNames maps the provider ids OpenClaw and its clients use to the
// well-known gen_ai.provider.name values of semantic conventions v1.41;
// others are sent as given (lowercased), as the conventions allow.
var providerNames = map[string]string{
	"google": "gcp.gemini", "gemini": "gcp.gemini", "google-gemini": "gcp.gemini",
	"vertex": "gcp.vertex_ai", "google-vertex": "gcp.vertex_ai",
	"bedrock": "aws.bedrock", "amazon-bedrock": "aws.bedrock",
	"azure": "azure.ai.openai", "azure-openai": "azure.ai.openai",
	"mistral": "mistral_ai", "xai": "x_ai", "watsonx": "ibm.watsonx.ai",
}

func providerName(p string) string {
	p = strings.ToLower(p)
	if n, ok := providerNames[p]; ok {
		return n
	}
	return p
}

// operationName is gen_ai.operation.name: the call's own when the client
// said, else "chat" (what OpenClaw's model calls are).
func operationName(md map[string]any) string {
	if op := metaString(md, "operation"); op != "" {
		return op
	}
	return "chat"
}

// buildSpans maps trace rows to one CLIENT span each, with the GenAI
// attributes of semantic conventions v1.41. bad counts rows that could not
// be mapped (an unparsable trace_id).
func (e *Exporter) buildSpans(rows []codec.Event) (td ptrace.Traces, n, bad int) {
	td = ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	e.putResource(rs.Resource().Attributes())
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName(scopeName)
	spans := ss.Spans()
	spans.EnsureCapacity(len(rows))
	for i := range rows {
		r := rows[i].Trace
		tid, sid, err := ids(rows[i].TraceID)
		if err != nil {
			bad++
			continue
		}
		s := spans.AppendEmpty()
		s.SetTraceID(tid)
		s.SetSpanID(sid)
		s.SetKind(ptrace.SpanKindClient)
		op := operationName(r.Metadata)
		s.SetName(op + " " + r.Model)
		// ts is when the call happened; with latency_ms it is the span's
		// extent. Without a latency the span is a point.
		s.SetStartTimestamp(msToTimestamp(r.CreatedAt))
		end := r.CreatedAt
		if r.LatencyMS != nil {
			end += *r.LatencyMS
		}
		s.SetEndTimestamp(msToTimestamp(end))
		if failed(r) {
			s.Status().SetCode(ptrace.StatusCodeError)
			s.Status().SetMessage(errorType(r))
		}
		putSpanAttributes(s, rows[i].TraceID, r, op)
		n++
	}
	return td, n, bad
}

// responseModel is the model that answered when the client said, else the
// one asked for.
func responseModel(r *codec.Trace) string {
	if m := metaString(r.Metadata, "response_model"); m != "" {
		return m
	}
	return r.Model
}

func failed(r *codec.Trace) bool { return r.Status != "" && r.Status != "ok" }

// errorType is error.type: the client's error_type, else the status
// ("error", "timeout").
func errorType(r *codec.Trace) string {
	if r.ErrorType != nil && *r.ErrorType != "" {
		return *r.ErrorType
	}
	return r.Status
}

func putSpanAttributes(s ptrace.Span, traceID string, r *codec.Trace, op string) {
	a := s.Attributes()
	a.PutStr("gen_ai.operation.name", op)
	a.PutStr("gen_ai.provider.name", providerName(r.Provider))
	a.PutStr("gen_ai.request.model", r.Model)
	a.PutStr("gen_ai.response.model", responseModel(r))
	// prompt_tokens already includes cached tokens, as the conventions'
	// gen_ai.usage.input_tokens does.
	putOptInt(a, "gen_ai.usage.input_tokens", r.PromptTokens)
	putOptInt(a, "gen_ai.usage.output_tokens", r.CompletionTokens)
	putOptInt(a, "gen_ai.usage.cache_read.input_tokens", r.CacheReadTokens)
	putOptInt(a, "gen_ai.usage.cache_creation.input_tokens", r.CacheWriteTokens)
	putOptInt(a, "gen_ai.usage.reasoning.output_tokens", r.ReasoningTokens)
	putFinishReasons(a, r.Metadata)
	if failed(r) {
		a.PutStr("error.type", errorType(r))
	}
	if sess := metaString(r.Metadata, "session_key", "session_id", "sessionKey", "conversation_id"); sess != "" {
		a.PutStr("gen_ai.conversation.id", sess)
		// Langfuse groups traces into sessions by session.id (or
		// langfuse.session.id), not by gen_ai.conversation.id.
		a.PutStr("session.id", sess)
	}
	if ag := metaString(r.Metadata, "agent_id"); ag != "" {
		a.PutStr("gen_ai.agent.id", ag)
	}
	if r.CostUSD != nil {
		// Langfuse reads a generation's cost from
		// langfuse.observation.cost_details (a JSON object) or, failing
		// that, from gen_ai.usage.cost as {"total": cost}
		// (langfuse/langfuse, packages/shared/src/server/otel/
		// OtelIngestionProcessor.ts, extractCostDetails); the latter is a
		// plain number other backends can read too.
		a.PutDouble("gen_ai.usage.cost", *r.CostUSD)
		a.PutDouble("openclaw.cost_usd", *r.CostUSD)
	}
	// An unpriced call has no cost attribute at all, never 0.
	putStr(a, "openclaw.cost_source", r.CostSource)
	putOptStr(a, "openclaw.price_version", r.PriceVersion)
	putOptInt(a, "gen_ai.usage.total_tokens", r.TotalTokens)
	putOptInt(a, "openclaw.ttft_ms", r.TTFTMS)
	a.PutStr("openclaw.trace_id", traceID)
	a.PutStr("openclaw.status", r.Status)
	putMetadata(a, "openclaw.metadata.", r.Metadata, traceMetaMapped)
}

// putFinishReasons sets gen_ai.response.finish_reasons (a string array)
// from what the client sent: finish_reasons (array) or finish_reason /
// stop_reason (string).
func putFinishReasons(a pcommon.Map, md map[string]any) {
	var reasons []string
	if list, ok := md["finish_reasons"].([]any); ok {
		for _, v := range list {
			if s, ok := v.(string); ok && s != "" {
				reasons = append(reasons, s)
			}
		}
	} else if s := metaString(md, "finish_reason", "stop_reason"); s != "" {
		reasons = []string{s}
	}
	if len(reasons) == 0 {
		return
	}
	sl := a.PutEmptySlice("gen_ai.response.finish_reasons")
	for _, s := range reasons {
		sl.AppendEmpty().SetStr(s)
	}
}
