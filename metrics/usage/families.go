// Package usage counts the LLM calls the writer commits as Prometheus
// series: calls, tokens by kind, cost, unpriced calls, failed calls by
// code, and latency and time-to-first-token histograms, labelled by
// provider, model, agent, channel and trigger. The names come from the
// network, so each family holds at most a cap of label sets; the calls of
// any other are folded into one whose labels are all "other", and counted. The series live in memory and start from zero with the process,
// which Prometheus reads as a counter reset.
package usage

// Families of the usage series. The label sets of calls, tokens, cost,
// unpriced and the histograms are one table (the "calls" label sets);
// failed calls, which add a code, are a second table of the same cap.
const (
	CallsName      = "openclaw_trace_llm_calls_total"
	TokensName     = "openclaw_trace_llm_tokens_total"
	CostName       = "openclaw_trace_llm_cost_usd_total"
	UnpricedName   = "openclaw_trace_llm_unpriced_calls_total"
	FailedName     = "openclaw_trace_llm_failed_calls_total"
	LatencyName    = "openclaw_trace_llm_latency_seconds"
	TTFTName       = "openclaw_trace_llm_time_to_first_token_seconds"
	FoldedName     = "openclaw_trace_llm_calls_folded_total"
	LabelSetsName  = "openclaw_trace_llm_label_sets"
	LabelLimitName = "openclaw_trace_llm_label_sets_limit"
)

// Family is one family's name, Prometheus type, labels and help text.
type Family struct {
	Name, Type, Labels, Help string
}

// Indexes into Families, which is also the order WritePrometheus writes.
const (
	famCalls = iota
	famTokens
	famCost
	famUnpriced
	famFailed
	famLatency
	famTTFT
	famFolded
	famLabelSets
	famLabelLimit
	numFamilies
)

// attribution is the label set every call family carries.
const attribution = "provider, model, agent, channel, trigger"

// Families lists every family the usage series write, for HELP lines and
// documentation.
var Families = []Family{
	{CallsName, "counter", attribution,
		"LLM calls committed to the database (ok or failed)."},
	{TokensName, "counter", attribution + ", kind",
		"Tokens of committed calls as the call reported them, by kind: input, output, cache_read, cache_write, reasoning."},
	{CostName, "counter", attribution,
		"Cost in USD of committed calls whose cost is known (supplied or priced from the table); calls without one are in " + UnpricedName + "."},
	{UnpricedName, "counter", attribution,
		"Committed calls whose cost is unknown (no cost_usd and no price, or no token counts): " + CostName + " is a lower bound while this grows."},
	{FailedName, "counter", attribution + ", code",
		"Committed calls with status error or timeout, by code: the call's error_type, else its status."},
	{LatencyName, "histogram", attribution,
		"Latency of committed calls that reported latency_ms, in seconds."},
	{TTFTName, "histogram", attribution,
		"Time to first token of committed calls that reported ttft_ms, in seconds."},
	{FoldedName, "counter", "series",
		"Committed calls counted under label values \"other\" because the families of their series (calls: every family but failed calls; failed_calls) already held OCT_METRICS_MAX_SERIES label sets."},
	{LabelSetsName, "gauge", "series",
		"Label sets held: series calls by each family but failed calls, series failed_calls by failed calls."},
	{LabelLimitName, "gauge", "",
		"Most label sets each family holds (OCT_METRICS_MAX_SERIES), the \"other\" one included."},
}

// Token kinds, in the order of the kind label's values.
const (
	kindInput = iota
	kindOutput
	kindCacheRead
	kindCacheWrite
	kindReasoning
	numKinds
)

var kindNames = [numKinds]string{"input", "output", "cache_read", "cache_write", "reasoning"}

// Bucket upper bounds in seconds. Model calls take from a fraction of a
// second to minutes (a long completion, a reasoning model); the first
// token comes sooner.
var (
	LatencyBuckets = []float64{0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300}
	TTFTBuckets    = []float64{0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60}
)

// Other is every label value of a folded label set.
const Other = "other"
