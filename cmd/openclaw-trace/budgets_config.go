package main

import (
	"fmt"
	"net/url"

	"github.com/openclaw/openclaw-trace/store/budget"
)

// BudgetSpecs is OCT_BUDGETS as written (store/budget's syntax), checked
// when read. A string, so Config stays comparable; not a struct: envconfig
// names the field in errors only for non-struct kinds.
type BudgetSpecs string

// EnvDecode checks the budgets; the error names the budget that is wrong.
func (b *BudgetSpecs) EnvDecode(s string) error {
	if _, err := budget.Parse(s); err != nil {
		return err
	}
	*b = BudgetSpecs(s)
	return nil
}

// Specs are the budgets (none when empty).
func (b BudgetSpecs) Specs() []budget.Spec {
	specs, _ := budget.Parse(string(b)) // EnvDecode checked it
	return specs
}

// Percents is OCT_BUDGET_WARN as written: warning thresholds below 100%.
type Percents string

// EnvDecode checks "80%", "50%,80%" or "none".
func (p *Percents) EnvDecode(s string) error {
	if _, err := budget.ParseWarn(s); err != nil {
		return err
	}
	*p = Percents(s)
	return nil
}

// Values are the thresholds, sorted.
func (p Percents) Values() []int {
	pcts, _ := budget.ParseWarn(string(p)) // EnvDecode checked it
	return pcts
}

// validateBudgets checks OCT_ALERT_WEBHOOK_URL without ever printing it:
// webhook URLs hold their secret in the path.
func (c *Config) validateBudgets() error {
	if c.AlertWebhookURL == "" {
		return nil
	}
	u, err := url.Parse(c.AlertWebhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("OCT_ALERT_WEBHOOK_URL: invalid value (not shown: it is a secret): must be an http:// or https:// URL")
	}
	return nil
}

// budgetHelp is --help's part on budgets.
const budgetHelp = `
Budgets (OCT_BUDGETS): spend limits, separated by ";", each
  ` + budget.Syntax + `
  SCOPE    agent, channel, trigger, model (provider/model), cron (cron job id) or
           session (session key); none: every call
  AMOUNT   US dollars, up to 9 decimals (0.50usd)
  WINDOW   day, week (Monday to Sunday) or month, in OCT_BUDGET_TZ
e.g. OCT_BUDGETS="5usd/day; agent=main:2usd/day; trigger=heartbeat:0.50usd/day;
                  model=anthropic/claude-opus-4:50usd/month; session=agent:main:main:1usd/day"
Each budget alerts once per window at every OCT_BUDGET_WARN threshold and at
100%: a log line, an error event (error_type budget), /metrics gauges, and a
POST to OCT_ALERT_WEBHOOK_URL. GET /v1/budgets tells the state of each.
`
