// Package budget is the spend-limit engine: budget specs (OCT_BUDGETS),
// their windows (a day, week or month in one time zone), the Tracker that
// follows the spend of each budget as the writer commits calls and
// answers from memory, the alert decisions (each threshold once per
// window, recorded so a restart does not repeat them), and Restore, which
// rebuilds the spend of the current windows from the daily rollups at
// start.
package budget

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kind is what a budget's scope matches calls by.
type Kind string

// The scope kinds. All matches every call.
const (
	All     Kind = "all"
	Agent   Kind = "agent"   // agent_id
	Channel Kind = "channel" // channel
	Trigger Kind = "trigger" // trigger
	Model   Kind = "model"   // provider/model
	Cron    Kind = "cron"    // cron_job_id
	Session Kind = "session" // session_key
)

var kinds = []Kind{Agent, Channel, Trigger, Model, Cron, Session}

// Spec is one budget of OCT_BUDGETS: at most Limit nano-dollars of the
// calls in Scope over each Window.
type Spec struct {
	ID     string // stable and readable: "agent=main/day", "all/month"
	Text   string // as written
	Kind   Kind
	Value  string // what the scope matches; "" for All
	Window Window
	Limit  int64 // nano-dollars, > 0
}

// Scope is the spec's scope as written: "agent=main", or "all".
func (s *Spec) Scope() string {
	if s.Kind == All {
		return string(All)
	}
	return string(s.Kind) + "=" + s.Value
}

// MaxLimit bounds a budget (nano-dollars): a million dollars per window,
// so thresholds computed from it stay far inside int64.
const MaxLimit = 1_000_000 * nanosPerUSD

const nanosPerUSD = 1_000_000_000

// Syntax is the grammar of OCT_BUDGETS, for error messages and --help.
const Syntax = "[SCOPE=VALUE:]AMOUNTusd/WINDOW"

// Parse reads OCT_BUDGETS: budgets separated by ";", each
// [SCOPE=VALUE:]AMOUNTusd/WINDOW. An error names the budget (its position
// and text) and what is wrong with it.
func Parse(s string) ([]Spec, error) {
	var specs []Spec
	ids := map[string]string{}
	for i, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		sp, err := parseOne(item)
		if err != nil {
			return nil, fmt.Errorf("budget %d %q: %v", i+1, item, err)
		}
		if prev, dup := ids[sp.ID]; dup {
			return nil, fmt.Errorf("budget %d %q: same scope and window as %q (one limit per scope and window)", i+1, item, prev)
		}
		ids[sp.ID] = item
		specs = append(specs, sp)
	}
	return specs, nil
}

func parseOne(item string) (Spec, error) {
	sp := Spec{Text: item, Kind: All}
	rest := item
	// The value may hold ':' (session keys do) and '/' (models do); the
	// amount and window hold neither, so the last ':' ends the scope.
	if i := strings.LastIndexByte(item, ':'); i >= 0 {
		if err := sp.parseScope(strings.TrimSpace(item[:i])); err != nil {
			return sp, err
		}
		rest = strings.TrimSpace(item[i+1:])
	} else if strings.Contains(item, "=") {
		return sp, fmt.Errorf("want %s: a scope needs ':' before the amount", Syntax)
	}
	amount, window, ok := strings.Cut(rest, "/")
	if !ok {
		return sp, fmt.Errorf("want %s: no /WINDOW after the amount", Syntax)
	}
	var err error
	if sp.Limit, err = parseAmount(strings.TrimSpace(amount)); err != nil {
		return sp, err
	}
	if sp.Window, err = ParseWindow(strings.TrimSpace(window)); err != nil {
		return sp, err
	}
	sp.ID = sp.Scope() + "/" + sp.Window.String()
	return sp, nil
}

func (sp *Spec) parseScope(scope string) error {
	k, v, ok := strings.Cut(scope, "=")
	if !ok {
		return fmt.Errorf("scope %q: want SCOPE=VALUE, SCOPE one of %s", scope, kindList())
	}
	k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
	for _, known := range kinds {
		if Kind(k) == known {
			sp.Kind, sp.Value = known, v
		}
	}
	switch {
	case sp.Kind == All:
		return fmt.Errorf("unknown scope %q: want one of %s", k, kindList())
	case v == "":
		return fmt.Errorf("scope %s has no value", k)
	case sp.Kind == Model && (strings.Index(v, "/") <= 0 || strings.HasSuffix(v, "/")):
		return fmt.Errorf("model %q: want provider/model, like anthropic/claude-opus-4", v)
	}
	return nil
}

func kindList() string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// parseAmount reads "2usd", "0.50usd" into nano-dollars, exactly: no
// float on the way.
func parseAmount(s string) (int64, error) {
	num, ok := cutSuffixFold(s, "usd")
	whole, frac, _ := strings.Cut(strings.TrimSpace(num), ".")
	if !ok || whole == "" && frac == "" || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("amount %q: want a number of US dollars ending in usd, like 2usd or 0.50usd", s)
	}
	if len(frac) > 9 {
		return 0, fmt.Errorf("amount %q: at most 9 decimals (nano-dollars)", s)
	}
	if len(strings.TrimLeft(whole, "0")) > 7 {
		return 0, fmt.Errorf("amount %q: at most 1000000usd", s)
	}
	w, _ := strconv.ParseInt("0"+whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	n := w*nanosPerUSD + f
	switch {
	case n <= 0:
		return 0, fmt.Errorf("amount %q: must be more than 0", s)
	case n > MaxLimit:
		return 0, fmt.Errorf("amount %q: at most 1000000usd", s)
	}
	return n, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) < len(suffix) || !strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s, false
	}
	return s[:len(s)-len(suffix)], true
}

// maxWarn bounds the warning thresholds (a bit each in a 64-bit mask).
const maxWarn = 10

// ParseWarn reads OCT_BUDGET_WARN: percentages below 100, comma-separated
// ("80%", "50%,80%"; the % is optional), or "none" for no warning before
// 100%. They come back sorted, without repeats.
func ParseWarn(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "none") || strings.EqualFold(s, "off") {
		return nil, nil
	}
	var pcts []int
	for _, part := range strings.Split(s, ",") {
		p := strings.TrimSuffix(strings.TrimSpace(part), "%")
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > 99 {
			return nil, fmt.Errorf("threshold %q: want a percentage 1%%..99%% (100%% always alerts), like 80%% or 50%%,80%%, or none", strings.TrimSpace(part))
		}
		pcts = append(pcts, n)
	}
	slices.Sort(pcts)
	if pcts = slices.Compact(pcts); len(pcts) > maxWarn {
		return nil, fmt.Errorf("%d thresholds: at most %d", len(pcts), maxWarn)
	}
	return pcts, nil
}
