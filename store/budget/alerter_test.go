package budget

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// The Alerter records each alert, then stores its event through the
// queue (error_type budget, code warn or over) and notifies; a restart
// restores which thresholds alerted, so none alerts again, and hands back
// those the webhook has not taken.
func TestAlertsSurviveRestart(t *testing.T) {
	db := openDB(t, time.UTC)
	c := &clock{t: time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)}
	q := codec.NewQueue(16)
	run := func() (*Tracker, *Alerter, *[]Alert) {
		tr := NewTracker(mustParse(t, "agent=main:2usd/day"), []int{80}, nil)
		tr.Now = c.Now
		al := NewAlerter(db, q)
		notified := &[]Alert{}
		al.Notify = func(a Alert) { *notified = append(*notified, a) } // the Alerter's goroutine only
		tr.OnAlert = al.Alert
		return tr, al, notified
	}
	tr, al, notified := run()
	al.Open()
	main := codec.Attribution{AgentID: "main"}
	write(t, db, tr.Committed, []codec.Event{call(c.Now(), usdp(1.7), main, "p", "m")})
	write(t, db, tr.Committed, []codec.Event{call(c.Now(), usdp(0.4), main, "p", "m"), call(c.Now(), nil, main, "p", "m")})
	poll.Until(t, "2 alerts raised", 10*time.Second, func() bool { return al.Raised.Load() == 2 })
	if err := al.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for q.Len() > 0 {
		ev := <-q.C()
		e := ev.Error
		if ev.Transport != codec.Budget || e == nil || e.ErrorType != "budget" || e.Metadata["budget_id"] != "agent=main/day" {
			t.Fatalf("event %+v", ev)
		}
		codes = append(codes, *e.Code+"/"+e.Severity)
		if !strings.Contains(e.Message, "budget agent=main/day") || !strings.Contains(e.Message, "resets 2026-03-07 00:00 UTC") {
			t.Errorf("message %q", e.Message)
		}
	}
	if want := []string{"warn/warning", "over/error"}; !slices.Equal(codes, want) {
		t.Errorf("events %v, want %v", codes, want)
	}
	if n := al.Counters.Load(); n.Received != 2 || n.DroppedTotal() != 0 || len(*notified) != 2 {
		t.Errorf("counters %+v, notified %d", n, len(*notified))
	}
	if last := (*notified)[1]; last.ThresholdPct != 100 || last.State != StateOver || !last.LowerBound {
		t.Errorf("the 100%% alert: %+v", last)
	}

	// Restart: the same spend, no alert again, two still for the webhook.
	if err := db.MarkBudgetAlertSent(context.Background(), (*notified)[0].Record(), c.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	tr2, al2, notified2 := run()
	r, err := tr2.Restore(context.Background(), db.Reader())
	if err != nil {
		t.Fatal(err)
	}
	al2.Open()
	tr2.Check()
	write(t, db, tr2.Committed, []codec.Event{call(c.Now(), usdp(1), main, "p", "m")})
	al2.Close(context.Background())
	if al2.Raised.Load() != 0 || len(*notified2) != 0 || q.Len() != 0 {
		t.Errorf("after the restart: raised %d, notified %d, events %d; want none", al2.Raised.Load(), len(*notified2), q.Len())
	}
	if s := tr2.Doc().Budgets[0]; !slices.Equal(s.AlertedPct, []int{80, 100}) || s.SpentNanos != 3.1e9 {
		t.Errorf("restored %+v", s)
	}
	if len(r.Unsent) != 1 || r.Unsent[0].ThresholdPct != 100 {
		t.Errorf("unsent %+v, want the 100%% alert only", r.Unsent)
	}

	// An alert recorded before is not raised again, even when decided again.
	al3 := NewAlerter(db, q)
	al3.Raise(context.Background(), (*notified)[1])
	if al3.Repeated.Load() != 1 || al3.Raised.Load() != 0 || q.Len() != 0 {
		t.Errorf("raised again: repeated %d, raised %d, events %d", al3.Repeated.Load(), al3.Raised.Load(), q.Len())
	}
	// Alerts after Close are dropped and counted, never block.
	al3.Close(context.Background())
	al3.Alert((*notified)[1])
	if al3.Dropped.Load() != 1 {
		t.Errorf("dropped %d, want 1", al3.Dropped.Load())
	}
}

// The 1-line text and the webhook's JSON.
func TestAlertText(t *testing.T) {
	a := Alert{ThresholdPct: 80, At: 1, Zone: mustZone(t, "Europe/Berlin"), Status: Status{
		ID: "trigger=heartbeat/day", Scope: "trigger=heartbeat", ScopeKind: Trigger, ScopeValue: "heartbeat", Window: "day",
		WindowEnd: time.Date(2026, 3, 7, 0, 0, 0, 0, mustZone(t, "Europe/Berlin")).UnixMilli(), LimitNanos: 5e8, SpentNanos: 4.1e8,
		UsedPct: 82, UnpricedCalls: 2, LowerBound: true, State: StateWarn}}
	want := "budget trigger=heartbeat/day passed 80%: $0.4100 spent of $0.5000 (82%) this day, at least: 2 calls without a price; resets 2026-03-07 00:00 CET"
	if got := a.Text(); got != want {
		t.Errorf("Text:\n got %q\nwant %q", got, want)
	}
	body := string(a.WebhookBody("gw-1"))
	for _, s := range []string{`"text":"[gw-1] budget trigger=heartbeat/day passed 80%`, `"content":"[gw-1] `, `"budget_id":"trigger=heartbeat/day"`,
		`"scope_kind":"trigger"`, `"threshold_pct":80`, `"state":"warn"`, `"event":"budget_alert"`} {
		if !strings.Contains(body, s) {
			t.Errorf("webhook body lacks %s: %s", s, body)
		}
	}
	if strings.Contains(body, `"channel"`) || strings.Contains(body, `"username"`) || strings.Contains(body, `"type"`) {
		t.Errorf("webhook body has a key chat services act on: %s", body)
	}
}
