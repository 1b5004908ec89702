package logtail

import (
	"strconv"
	"strings"

	"github.com/openclaw/openclaw-trace/codec"
)

// Named rules cover the lines of a model call and of a failed CLI command,
// taken from a real OpenClaw 2026.9.6 log (testdata/real/): the generic
// phrases get them wrong ("stopping same-model retries" is not the gateway
// stopping; an HTTP 500 from the provider is logged at info). Each sets
// metadata.rule to its name and adds the fields its text carries, without
// replacing a field the line's own object already has. They map onto the
// existing kinds: an error is gateway_error, a decision or a run's end is
// other, so that the kind list every consumer knows stays as it is and
// metadata.rule tells the cases apart.
const (
	RuleModelHTTPError      = "model_http_error"      // [model-fetch] response … status ≥ 400
	RuleModelResponse       = "model_response"        // [model-fetch] response … status < 400 (slow)
	RuleModelTransportError = "model_transport_error" // [model-fetch] error …
	RuleModelRetry          = "model_retry"           // transient same-model retry N/M for p/m …
	RuleModelRetryStop      = "model_retry_stop"      // … stopping same-model retries
	RuleFailover            = "failover"              // embedded run failover decision
	RuleModelFallback       = "model_fallback"        // model fallback decision | chain stopped
	RuleRunEnd              = "run_end"               // [agent] run <id> ended with stopReason=…
	RuleCLIFailure          = "cli_failure"           // [openclaw] The CLI command failed. (+ folded lines)
)

// byRule returns the kind of a line a named rule matches, or "". m is the
// message in lower case.
func byRule(l *codec.Log, m string) string {
	msg := l.Message
	switch {
	case strings.HasPrefix(msg, "[model-fetch] response "):
		fields(l, msg[len("[model-fetch] response "):])
		if status, ok := l.Metadata["status"].(float64); ok && status >= 400 {
			return setRule(l, RuleModelHTTPError, codec.KindGatewayError)
		}
		setRule(l, RuleModelResponse, "")
		return ""
	case strings.HasPrefix(msg, "[model-fetch] error "):
		fields(l, msg[len("[model-fetch] error "):])
		return setRule(l, RuleModelTransportError, codec.KindGatewayError)
	case strings.HasPrefix(m, "transient same-model retry "):
		retry(l, msg[len("transient same-model retry "):], "retry")
		return setRule(l, RuleModelRetry, codec.KindOther)
	case strings.HasSuffix(m, "stopping same-model retries"):
		retryStop(l, msg)
		return setRule(l, RuleModelRetryStop, codec.KindOther)
	case strings.HasPrefix(m, "embedded run failover decision"):
		return setRule(l, RuleFailover, codec.KindOther)
	case strings.HasPrefix(m, "model fallback decision") || strings.HasPrefix(m, "model fallback chain stopped"):
		return setRule(l, RuleModelFallback, codec.KindOther) // the fields are in the line's object
	case strings.HasPrefix(msg, "[agent] run ") && strings.Contains(msg, " ended with stopReason="):
		return runEnd(l, msg)
	case isCLIFailure(l):
		return setRule(l, RuleCLIFailure, codec.KindGatewayError)
	}
	return ""
}

func setRule(l *codec.Log, rule, kind string) string {
	put(l, "rule", rule)
	return kind
}

// put adds one field unless the line already has it.
func put(l *codec.Log, k string, v any) {
	if l.Metadata == nil {
		l.Metadata = map[string]any{}
	}
	if _, ok := l.Metadata[k]; !ok {
		l.Metadata[k] = v
	}
}

// fields adds the leading key=value words of s; a number is stored as one
// (float64, as a decoded JSON object would hold it). It stops at the first
// word that is not key=value, where free text begins.
func fields(l *codec.Log, s string) {
	for w := range strings.FieldsSeq(s) {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return
		}
		put(l, k, value(v))
	}
}

func value(v string) any {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f
	}
	return v
}

// retry reads "N/M for provider/model reason=R: delayMs=D".
func retry(l *codec.Log, s, countKey string) {
	count, rest, _ := strings.Cut(s, " for ")
	counts(l, count, countKey)
	model, rest, _ := strings.Cut(rest, " ")
	providerModel(l, model)
	fields(l, strings.ReplaceAll(rest, ": ", " "))
}

// retryStop reads "transient retry … for provider/model after N/M retries;
// stopping same-model retries".
func retryStop(l *codec.Log, msg string) {
	_, rest, ok := strings.Cut(msg, " for ")
	if !ok {
		return
	}
	model, rest, _ := strings.Cut(rest, " after ")
	providerModel(l, model)
	count, _, _ := strings.Cut(rest, " ")
	counts(l, count, "retryCount")
}

func counts(l *codec.Log, s, countKey string) {
	n, budget, ok := strings.Cut(s, "/")
	if !ok {
		return
	}
	if f, err := strconv.ParseFloat(n, 64); err == nil {
		put(l, countKey, f)
	}
	if f, err := strconv.ParseFloat(budget, 64); err == nil {
		put(l, "retryBudget", f)
	}
}

// providerModel splits "provider/model" at its first slash: model ids may
// hold slashes of their own (openrouter/meta-llama/…).
func providerModel(l *codec.Log, s string) {
	if p, m, ok := strings.Cut(s, "/"); ok && p != "" && m != "" {
		put(l, "provider", p)
		put(l, "model", m)
	}
}

// runEnd reads "[agent] run <id> ended with stopReason=<r>": a run that
// ended with stopReason=error is a gateway_error, any other end is other.
func runEnd(l *codec.Log, msg string) string {
	id, rest, _ := strings.Cut(msg[len("[agent] run "):], " ended with stopReason=")
	reason, _, _ := strings.Cut(rest, " ")
	put(l, "runId", id)
	put(l, "stopReason", reason)
	if reason == "error" {
		return setRule(l, RuleRunEnd, codec.KindGatewayError)
	}
	return setRule(l, RuleRunEnd, codec.KindOther)
}
