package budget

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

// ErrorType is the error_type of the events alerts store (error_events):
// the wire's enum is for senders; this one is the daemon's own.
const ErrorType = "budget"

// Alert is a threshold of a budget crossed in a window: the budget's
// status at that moment, the threshold, and when.
type Alert struct {
	Status
	ThresholdPct int   // a warning percentage, or 100
	At           int64 // unix ms
	Zone         *time.Location
}

// Code is the alert's kind: warn below 100%, over at it.
func (a *Alert) Code() string {
	if a.ThresholdPct >= 100 {
		return StateOver
	}
	return StateWarn
}

// Text is the one line a person reads (log, event message, webhook).
func (a *Alert) Text() string {
	var b strings.Builder
	if a.Code() == StateOver {
		fmt.Fprintf(&b, "budget %s is over its limit: ", a.ID)
	} else {
		fmt.Fprintf(&b, "budget %s passed %d%%: ", a.ID, a.ThresholdPct)
	}
	fmt.Fprintf(&b, "%s spent of %s (%s%%) this %s", Money(a.SpentNanos), Money(a.LimitNanos),
		strconv.FormatFloat(a.UsedPct, 'f', -1, 64), a.Window)
	if a.UnpricedCalls > 0 {
		fmt.Fprintf(&b, ", at least: %d calls without a price", a.UnpricedCalls)
	} else if a.LowerBound {
		b.WriteString(", at least: calls before the restart could not all be counted")
	}
	fmt.Fprintf(&b, "; resets %s", LocalTime(a.WindowEnd, a.Zone))
	return b.String()
}

// Money formats nano-dollars for people: cents above a dollar, four
// decimals below (a heartbeat's spend is fractions of a cent).
func Money(nanos int64) string {
	if nanos >= nanosPerUSD || nanos == 0 {
		return fmt.Sprintf("$%.2f", usd(nanos))
	}
	return fmt.Sprintf("$%.4f", usd(nanos))
}

// LocalTime formats ms in loc (nil is UTC), with the zone's abbreviation.
func LocalTime(ms int64, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return time.UnixMilli(ms).In(loc).Format("2006-01-02 15:04 MST")
}

// Fields are the alert's structured fields: the event's metadata, the
// log line's attributes and the webhook's JSON, under one set of names.
// None is a key Slack, Discord or Mattermost read (channel, username,
// type…), so a webhook body never redirects or reshapes the message.
func (a *Alert) Fields() map[string]any {
	return map[string]any{
		"budget_id": a.ID, "scope": a.Scope, "scope_kind": string(a.ScopeKind), "scope_value": a.ScopeValue,
		"window": a.Window, "window_start": a.WindowStart, "window_end": a.WindowEnd,
		"threshold_pct": a.ThresholdPct, "state": a.State, "limit_usd": a.LimitUSD, "spent_usd": a.SpentUSD,
		"used_pct": a.UsedPct, "unpriced_calls": a.UnpricedCalls, "lower_bound": a.LowerBound,
	}
}

// Event is the error_events row that records the alert; push and OTLP
// deliver it like any other.
func (a *Alert) Event() codec.Event {
	code, severity := a.Code(), "warning"
	if code == StateOver {
		severity = "error"
	}
	return codec.NewEvent(codec.Budget, &codec.Error{CreatedAt: a.At, ErrorType: ErrorType, Message: a.Text(),
		Code: &code, Severity: severity, Metadata: a.Fields()})
}

// Record is the budget_alerts row that makes the alert once only.
func (a *Alert) Record() store.BudgetAlert {
	return store.BudgetAlert{BudgetID: a.ID, LimitNanos: a.LimitNanos, WindowStart: a.WindowStart,
		WindowEnd: a.WindowEnd, ThresholdPct: a.ThresholdPct, SpentNanos: a.SpentNanos,
		UnpricedCalls: a.UnpricedCalls, CreatedAt: a.At}
}

// WebhookBody is the alert webhook's JSON: text (what Slack and Mattermost
// incoming webhooks, and Discord's /slack ones, post as the message),
// content (the same, for Discord's own), then the structured fields, the
// instance (OCT_AGENT_ID) and the time.
func (a *Alert) WebhookBody(instance string) []byte {
	f := a.Fields()
	text := a.Text()
	if instance != "" {
		text = "[" + instance + "] " + text
	}
	f["text"], f["content"], f["instance"], f["at"], f["event"] = text, text, instance, a.At, "budget_alert"
	b, _ := json.Marshal(f) // strings, numbers and bools only: cannot fail
	return b
}
