package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// budgetLines are the report's lines that start with one of ids, their
// fields joined by one space.
func budgetLines(out string, ids ...string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		for _, id := range ids {
			if len(f) > 0 && f[0] == id {
				got = append(got, strings.Join(f, " "))
			}
		}
	}
	return got
}

// With no daemon serving the database, report computes each budget from
// the database (rollups, a session's stored calls) with OCT_BUDGETS from
// its environment: spent, limit, use, state, when it resets.
func TestReportBudgetsFromDatabase(t *testing.T) {
	path := reportDB(t)
	env := map[string]string{"OCT_DB_PATH": path, "OCT_PORT": closedPort(t),
		"OCT_BUDGETS": "0.05usd/day; agent=main:0.04usd/day; 20usd/month; session=agent:main:main:0.01usd/day"}
	code, out, errOut := runReportTest(t, env)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := budgetLines(out, "all/day", "agent=main/day", "all/month", "session=agent:main:main/day")
	want := []string{
		"all/day $0.0880 $0.0500 176% over 2026-03-07 00:00 UTC",
		"agent=main/day $0.0455 $0.0400 114% over 2026-03-07 00:00 UTC",
		"all/month ≥$10.11 $20.00 51% ok 2026-04-01 00:00 UTC", // two unpriced calls
		"session=agent:main:main/day $0.0125 $0.0100 125% over 2026-03-07 00:00 UTC",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("budget lines:\n%s\nwant:\n%s\nreport:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out)
	}
	for _, s := range []string{"BUDGETS (computed from this database with OCT_BUDGETS; windows in UTC)", "≥ a lower bound"} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q", s)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if width(l) > reportWidth {
			t.Errorf("line wider than %d: %q", reportWidth, l)
		}
	}

	_, js, _ := runReportTest(t, env, "--json")
	var doc struct {
		Budgets struct {
			Source  string
			Budgets []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Budgets.Source != "database" || len(doc.Budgets.Budgets) != 4 || doc.Budgets.Budgets[2]["unpriced_calls"] != 2.0 {
		t.Errorf("--json budgets = %+v", doc.Budgets)
	}

	delete(env, "OCT_BUDGETS")
	if _, out, _ := runReportTest(t, env); strings.Contains(out, "BUDGETS") {
		t.Errorf("a report without budgets shows a BUDGETS section:\n%s", out)
	}
}

// With the daemon serving the database, report shows the daemon's
// budgets (its OCT_BUDGETS, its alerts), though its own environment has
// none.
func TestReportBudgetsFromDaemon(t *testing.T) {
	d := startDaemon(t, "", "OCT_BUDGETS=agent=main:1usd/week", "OCT_BUDGET_TZ=Asia/Tokyo")
	code, _ := post(t, d.URL("/v1/traces"), "application/json", []byte(`{"provider":"p","model":"m","cost_usd":0.25,"agent_id":"main"}`))
	if code != http.StatusAccepted {
		t.Fatalf("POST: %d", code)
	}
	poll.Until(t, "the call counted", 10*time.Second, func() bool { return budgetsByID(t, d)["agent=main/week"]["spent_usd"] == 0.25 })
	var out, errOut string
	code, out, errOut = runReportTest(t, map[string]string{"OCT_PORT": closedPort(t)}, "--db", d.DBPath, "--url", d.URL(""))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "BUDGETS (from the daemon serving this database; windows in Asia/Tokyo)") ||
		len(budgetLines(out, "agent=main/week")) != 1 || !strings.Contains(budgetLines(out, "agent=main/week")[0], "agent=main/week $0.2500 $1.00 25% ok") {
		t.Errorf("report:\n%s", out)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
}
